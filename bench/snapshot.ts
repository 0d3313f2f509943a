// Snapshot/restore of a whole emulated process (registers, memory, link map, heap, ...) on each
// engine, and the memory each engine's process costs. Included by bench/run.ts; not a test.
import { readFileSync } from 'node:fs';
import { createEngine, type EngineKind } from '../src/engine/index.js';
import { EmulatedProcess } from '../src/loader/index.js';

const corpus = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../corpus/seed-classic/${path}`, import.meta.url)));

export interface SnapshotRow {
  engine: EngineKind;
  pages: number;
  snapshotMicros: number;
  restoreMicros: number;
  /** Growth of this Node process's resident set while the engine's process was created and run. */
  rssMiB: number;
}

export async function measureSnapshots(rounds = 200): Promise<SnapshotRow[]> {
  const rows: SnapshotRow[] = [];
  for (const kind of ['wasm', 'unicorn'] as const) {
    const rssBefore = process.memoryUsage().rss;
    let engine;
    try {
      engine = await createEngine(kind);
    } catch {
      continue;
    }
    const proc = EmulatedProcess.create(engine, {
      main: corpus('main'),
      mainPath: './main',
      libraries: [{ path: './patch.so', bytes: corpus('patch.so') }],
      argv: ['6', '2'], // raises SIGUSR1 at iteration 2: dlopen, mprotect, code writes before the end
    });
    proc.run({ maxInstructions: 150 }); // mid-run: stack, heap and the executable are live
    const pages = engine.regions().reduce((n, r) => n + Number((r.end - r.begin) / 0x1000n), 0);
    let snapshotNs = 0n;
    let restoreNs = 0n;
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      const snap = proc.snapshot();
      const t1 = process.hrtime.bigint();
      proc.run({ maxInstructions: 2_000 }); // dirties pages, may dlopen and patch
      const t2 = process.hrtime.bigint();
      proc.restore(snap);
      const t3 = process.hrtime.bigint();
      snapshotNs += t1 - t0;
      restoreNs += t3 - t2;
    }
    const rssMiB = (process.memoryUsage().rss - rssBefore) / (1 << 20);
    engine.close();
    rows.push({ engine: kind, pages, snapshotMicros: Number(snapshotNs / BigInt(rounds)) / 1000, restoreMicros: Number(restoreNs / BigInt(rounds)) / 1000, rssMiB });
  }
  return rows;
}

export function formatSnapshots(rows: readonly SnapshotRow[]): string[] {
  return [
    '## Snapshot and restore of an emulated process',
    '',
    'seed-classic mid-run; each round: snapshot, run 2,000 instructions (writes, possibly dlopen and the patch), restore. Mean of 200 rounds.',
    '',
    '| engine | mapped pages | snapshot | restore | RSS growth (process created and run) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.engine} | ${r.pages} | ${r.snapshotMicros.toFixed(1)} µs | ${r.restoreMicros.toFixed(1)} µs | ${r.rssMiB.toFixed(1)} MiB |`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatSnapshots(await measureSnapshots()).join('\n'));
