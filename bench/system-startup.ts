// Start-up cost of the two process models: instructions and wall time from exec to the first
// instruction of main, for a C program (test/loader/system/fixtures/hello) and a C++ one
// (corpus/cxx-containers/main), on the system model (real ld.so, glibc, libstdc++ from /, and
// from the page's bundled Debian 12 sysroot when scripts/fetch-sysroot.sh has fetched it: no
// ld.so.cache, so ld.so searches its directories) and on the stubs model. Included by
// bench/run.ts; not a test.
import { existsSync, readFileSync } from 'node:fs';
import { buildVfs, GUEST_CWD } from '../src/cli/sysroot.js';
import { ElfFile } from '../src/elf/index.js';
import { createEngine } from '../src/engine/index.js';
import { EmulatedProcess, layout, type GuestProcess } from '../src/loader/index.js';
import { SystemProcess, vfsFromTar, type Vfs } from '../src/loader/system/index.js';

const PROGRAMS = [
  { name: 'C (printf, malloc)', path: '../test/loader/system/fixtures/hello' },
  { name: 'C++ (std::map, std::string, std::vector)', path: '../corpus/cxx-containers/main' },
];
const RUNS = 5;

const BUNDLED_TAR = new URL('../.cache/sysroot/sysroot.tar', import.meta.url);

type Model = 'system' | 'system, bundled sysroot' | 'stubs';

export interface StartupRow {
  program: string;
  model: Model;
  instructions: number;
  /** Best of RUNS: creating the process (VFS, exec or the stubs loader) and running to main. */
  millis: number;
  error?: string;
}

async function toMain(model: Model, bytes: Uint8Array, mainAddress: bigint): Promise<{ instructions: number; millis: number }> {
  const engine = await createEngine('wasm');
  const withMain = (v: Vfs): Vfs => {
    v.mkdirs(GUEST_CWD);
    v.addFile(`${GUEST_CWD}/main`, bytes, bytes.length, 0o755);
    return v;
  };
  try {
    const t0 = performance.now();
    const process: GuestProcess = model === 'stubs'
      ? EmulatedProcess.create(engine, { main: bytes, mainPath: './main' })
      : SystemProcess.create(engine, { vfs: withMain(model === 'system' ? buildVfs('/', []) : vfsFromTar(new Uint8Array(readFileSync(BUNDLED_TAR)))), executable: './main', cwd: GUEST_CWD });
    const stop = process.run({ maxInstructions: 50_000_000, stopAtCallOf: [mainAddress] });
    const millis = performance.now() - t0;
    if (stop.reason !== 'call') throw new Error(`did not reach main: ${stop.reason}${stop.reason === 'error' ? ` (${stop.error.message})` : ''}`);
    return { instructions: process.instructions, millis };
  } finally {
    engine.close();
  }
}

export async function measureSystemStartup(): Promise<StartupRow[]> {
  const rows: StartupRow[] = [];
  for (const p of PROGRAMS) {
    const bytes = new Uint8Array(readFileSync(new URL(p.path, import.meta.url)));
    const main = ElfFile.parse(bytes).symbols.find((s) => s.name === 'main')!;
    const models: Model[] = existsSync(BUNDLED_TAR) ? ['system', 'system, bundled sysroot', 'stubs'] : ['system', 'stubs'];
    for (const model of models) {
      try {
        let best = Infinity;
        let instructions = 0;
        for (let i = 0; i < RUNS; i++) {
          const r = await toMain(model, bytes, layout.PIE_BASE + main.value);
          best = Math.min(best, r.millis);
          instructions = r.instructions;
        }
        rows.push({ program: p.name, model, instructions, millis: best });
      } catch (e) {
        rows.push({ program: p.name, model, instructions: 0, millis: 0, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return rows;
}

export function formatSystemStartup(rows: readonly StartupRow[]): string[] {
  const stubs = (program: string): StartupRow | undefined => rows.find((r) => r.program === program && r.model === 'stubs' && !r.error);
  return [
    '## Process models: exec to main',
    '',
    'Instructions and wall time (best of 5, process creation included) from exec to the first instruction of main. ' +
      'system: the real ld.so loads and relocates libc.so.6 (and libstdc++.so.6, libm, libgcc_s) from / and runs their constructors ' +
      '(bundled sysroot: the page\'s Debian 12 tar, no ld.so.cache, read from the archive on each run); ' +
      'stubs: the sandbox links main against its TypeScript libc.',
    '',
    '| program | model | instructions | ms | × stubs (instructions) | × stubs (time) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => {
      if (r.error) return `| ${r.program} | ${r.model} | – | – | – | – (${r.error}) |`;
      const ref = stubs(r.program);
      const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(1)}` : '–');
      return `| ${r.program} | ${r.model} | ${r.instructions} | ${r.millis.toFixed(1)} | ${ratio(r.instructions, ref?.instructions)} | ${ratio(r.millis, ref?.millis)} |`;
    }),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatSystemStartup(await measureSystemStartup()).join('\n'));
