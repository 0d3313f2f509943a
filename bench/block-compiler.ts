// The block compiler's gain on the raw core: each bench guest run from start to exit through the
// loader, nothing observed, on a WasmEngine that interprets and on one that compiles hot blocks
// (src/engine/wasm-jit.ts), interleaved in this process, best of RUNS by CPU time; also checks that
// both end with the same instruction count, stop and registers. Not a test.
//   node --import tsx bench/block-compiler.ts [guest ...]     (RUNS=4, TH=200: the threshold)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasmEngine } from '../src/engine/wasm-engine.js';
import { EmulatedProcess } from '../src/loader/index.js';

const GUESTS = join(import.meta.dirname, 'guests');
async function once(name: string, jit: boolean, threshold: number) {
  const engine = await WasmEngine.create(undefined, { jit, jitThreshold: threshold });
  const main = new Uint8Array(readFileSync(join(GUESTS, name)));
  const proc = EmulatedProcess.create(engine, { main, mainPath: `./${name}`, argv: [] });
  const t0 = process.cpuUsage();
  const stop = proc.run({ maxInstructions: 2_000_000_000 });
  const u = process.cpuUsage(t0);
  const cpu = (u.user + u.system) / 1e6;
  const registers = ['rip', 'rflags', 'rax', 'rbx', 'rcx', 'rdx', 'rsp', 'rbp', 'rsi', 'rdi'] as const;
  const state = registers.map((r) => engine.readRegister(r).toString(16)).join(' ');
  const out = { stop: stop.reason, insns: proc.instructions, cpu, mips: proc.instructions / cpu / 1e6, stats: engine.jitStats(), state };
  engine.close();
  return out;
}
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['compress', 'kernel', 'parser'];
const runs = Number(process.env.RUNS ?? 4);
const th = Number(process.env.TH ?? 200);
for (const name of names) {
  await once(name, true, th);
  const a: number[] = [], b: number[] = [];
  let same = true;
  let stats = null;
  for (let i = 0; i < runs; i++) {
    const x = await once(name, false, th);
    const y = await once(name, true, th);
    a.push(x.mips); b.push(y.mips);
    same &&= x.insns === y.insns && x.state === y.state && x.stop === y.stop;
    stats = y.stats;
  }
  const best = (v: number[]) => Math.max(...v);
  console.log(
    `${name}: interpreted ${best(a).toFixed(1)} MIPS, compiled ${best(b).toFixed(1)} MIPS (x${(best(b) / best(a)).toFixed(2)}), ${same ? 'same end state' : 'END STATES DIFFER'}, ` +
      `${stats?.retired} instructions retired by compiled code; all runs: ${a.map((v) => v.toFixed(0)).join(',')} / ${b.map((v) => v.toFixed(0)).join(',')}`,
  );
}
