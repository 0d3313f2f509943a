// The block compiler against the interpreter on random programs: the block-mode differential's
// programs (random instances of every instruction form the core decodes, each behind its register
// set-up, gen/block-program.ts) run on a WasmEngine that interprets and on one that compiles
// (threshold 1). Each program runs twice on both: the first run makes every block hot, so the
// second runs compiled code wherever the compiler took the block; the second runs are compared
// (stops, GPRs, rip, all flags, xmm, data and stack). Reproduce with DIFF_SEED=<seed>.

import { describe, expect, it } from 'vitest';
import { GPRS, type RunResult } from '../../src/engine/engine.js';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { buildBlockProgram, type BlockProgram } from './gen/block-program.js';
import { buildFormCatalog, programForms } from './gen/instruction-forms.js';
import { LAYOUT, capture, describeResult, diffStates, prepareMachine } from './gen/lockstep.js';
import { Rng } from './gen/rng.js';

const TOTAL_INSTRUCTIONS = Number(process.env.DIFF_JIT_INSTRUCTIONS ?? 60_000);
// One instance per program: states are compared at a program's end, where a later instance's set-up
// would have overwritten an earlier result.
const INSTANCES_PER_PROGRAM = 1;
const BASE_SEED = Number(process.env.DIFF_SEED ?? 0x5eed) + 0x20000;

/** Registers, flags, xmm and data back to the program's start (prepareMachine without mapping again). */
function reset(engine: WasmEngine, data: Uint8Array): void {
  engine.writeMemory(LAYOUT.data, data);
  engine.writeMemory(LAYOUT.stack, new Uint8Array(LAYOUT.stackSize));
  for (const gpr of GPRS) engine.writeRegister(gpr, 0n);
  engine.writeRegister('rsp', LAYOUT.stack + 0x800n);
  engine.writeRegister('rflags', 0x2n);
  for (let i = 0; i < 16; i++) engine.writeXmm(i, new Uint8Array(16));
}

/** Runs the program to its final int3, resuming at the next chunk after any other stop. */
function runToEnd(engine: WasmEngine, program: BlockProgram): { stops: RunResult[]; instructions: number } {
  const stops: RunResult[] = [];
  let instructions = 0;
  let rip = program.chunkStarts[0]!;
  for (;;) {
    const result = engine.start(rip);
    instructions += result.instructions;
    stops.push(result);
    if (result.reason === 'interrupt' && result.rip === program.end + 1n) break;
    const next = program.chunkStarts.find((start) => start > result.rip);
    if (next === undefined) break;
    rip = next;
  }
  return { stops, instructions };
}

describe('block compiler differential: random programs compiled and interpreted', () => {
  it(`agrees on ${TOTAL_INSTRUCTIONS} instructions of random programs`, async () => {
    const probe = await WasmEngine.create(undefined, { jit: false });
    const rng = new Rng(BASE_SEED);
    const forms = programForms(buildFormCatalog(new Rng(BASE_SEED), 6), rng, (bytes) => probe.probe(bytes));
    probe.close();

    let instructions = 0;
    let compiled = 0;
    // One machine per side for all programs: writing a program's code drops the previous one's blocks.
    const engines = [await WasmEngine.create(undefined, { jit: false }), await WasmEngine.create(undefined, { jit: true, jitThreshold: 1, jitWarmup: 0 })];
    for (const engine of engines) prepareMachine(engine, new Uint8Array(LAYOUT.dataSize));
    for (let sequence = 0; instructions < TOTAL_INSTRUCTIONS; sequence++) {
      const seed = BASE_SEED + sequence;
      const programRng = new Rng(seed);
      const data = programRng.fill(new Uint8Array(LAYOUT.dataSize));
      const program = buildBlockProgram(forms, programRng, INSTANCES_PER_PROGRAM);
      const runs = [];
      for (const engine of engines) {
        engine.writeMemory(LAYOUT.code, program.code);
        reset(engine, data);
        runToEnd(engine, program);
        reset(engine, data);
        const before = engine.jitStats()?.retired ?? 0;
        const run = runToEnd(engine, program);
        compiled += (engine.jitStats()?.retired ?? 0) - before;
        runs.push({ ...run, state: capture(engine) });
      }
      const [interpreted, jitted] = runs as [(typeof runs)[0], (typeof runs)[0]];
      const problems = diffStates(jitted.state, interpreted.state, 0n);
      const stopsA = interpreted.stops.map(describeResult).join(', ');
      const stopsB = jitted.stops.map(describeResult).join(', ');
      if (stopsA !== stopsB) problems.push(`stops: ${stopsB}\n    interpreted: ${stopsA}`);
      if (problems.length > 0) expect.fail(`compiled and interpreted runs differ at seed ${seed}:\n  ${problems.join('\n  ')}`);
      instructions += interpreted.instructions;
    }
    for (const engine of engines) engine.close();
    // Most of the second runs' instructions (set-up movabs, jmps and the common forms) ran compiled.
    expect(compiled).toBeGreaterThan(instructions / 2);
    console.log(`block compiler differential: ${instructions} instructions compared, ${compiled} retired by compiled code`);
  }, 300_000);
});
