// Scheduler overhead of emulated threads (system model): the same CPU-bound threaded guest
// (test/loader/threads/fixtures/interleave: three threads looping, a mutex between rounds)
// run with a thread switch every few thousand instructions (the default quantum) against one
// where only blocking switches happen (a quantum larger than the run). The ratio is the cost
// of preemptive switching (Engine context save/restore plus the scheduler). Run:
//   node --import tsx bench/threads.ts
import { readFileSync } from 'node:fs';
import { buildVfs, GUEST_CWD } from '../src/cli/sysroot.js';
import { createEngine } from '../src/engine/index.js';
import { DEFAULT_QUANTUM, SystemProcess } from '../src/loader/system/index.js';

const GUEST = new URL('../test/loader/threads/fixtures/interleave', import.meta.url);
const RUNS = 5;

async function once(quantum: number): Promise<{ millis: number; instructions: number; switches: number }> {
  const bytes = new Uint8Array(readFileSync(GUEST));
  const engine = await createEngine('wasm');
  try {
    const vfs = buildVfs('/', [{ guest: 'interleave', bytes }]);
    const p = SystemProcess.create(engine, { vfs, executable: './interleave', cwd: GUEST_CWD, quantum });
    const t0 = performance.now();
    const stop = p.run({ maxInstructions: 100_000_000 });
    const millis = performance.now() - t0;
    if (stop.reason !== 'exited') throw new Error(`the guest did not exit: ${stop.reason}`);
    return { millis, instructions: p.instructions, switches: p.threads.switches };
  } finally {
    engine.close();
  }
}

export async function benchThreads(): Promise<string> {
  const best = async (q: number) => {
    let b = await once(q);
    for (let i = 1; i < RUNS; i++) {
      const r = await once(q);
      if (r.millis < b.millis) b = r;
    }
    return b;
  };
  await once(DEFAULT_QUANTUM); // warm-up
  const switching = await best(DEFAULT_QUANTUM);
  const blocking = await best(1_000_000_000);
  const ratio = switching.millis / blocking.millis;
  return [
    '| threads (interleave, 3 threads) | instructions | switches | ms (best of 5) |',
    '|---|---|---|---|',
    `| quantum ${DEFAULT_QUANTUM} (seeded jitter) | ${switching.instructions} | ${switching.switches} | ${switching.millis.toFixed(1)} |`,
    `| blocking switches only | ${blocking.instructions} | ${blocking.switches} | ${blocking.millis.toFixed(1)} |`,
    `| scheduler overhead (ratio) | | | ${ratio.toFixed(3)} |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchThreads());
