// Block-mode differential: the same random instances as the lockstep suite, but as whole
// programs (set-up instructions in front of each instance) that run in one start() on both
// engines, compared where the runs stop. A mismatch is narrowed by bisection (count=k) to the
// first instruction after which the two machines differ. Reproduce with DIFF_SEED=<seed>.

import { describe, expect, it } from 'vitest';
import type { Engine, RunResult } from '../../src/engine/engine.js';
import { buildBlockProgram, type BlockProgram } from './gen/block-program.js';
import { IN_CI, createUnicornEngine, createWasmEngine, engineAvailability } from './gen/engines.js';
import { buildFormCatalog, programForms, decodeOne, disassemble, hexBytes } from './gen/instruction-forms.js';
import { LAYOUT, capture, describeResult, diffStates, prepareMachine } from './gen/lockstep.js';
import { Rng } from './gen/rng.js';

const TOTAL_INSTRUCTIONS = Number(process.env.DIFF_BLOCK_INSTRUCTIONS ?? 100_000);
const INSTANCES_PER_PROGRAM = 300;
const BASE_SEED = Number(process.env.DIFF_SEED ?? 0x5eed) + 0x10000;

const [unicorn, wasm] = await Promise.all([engineAvailability('unicorn'), engineAvailability('wasm')]);
const skipReason = unicorn.unavailable ?? wasm.unavailable;

async function machines(program: BlockProgram, data: Uint8Array): Promise<[Engine, Engine]> {
  const subject = await createWasmEngine();
  const oracle = await createUnicornEngine();
  for (const engine of [subject, oracle]) {
    prepareMachine(engine, data);
    engine.writeMemory(LAYOUT.code, program.code);
  }
  return [subject, oracle];
}

function decodeLength(bytes: Uint8Array): number {
  const instruction = decodeOne(bytes);
  const length = instruction.length;
  instruction.free();
  return length;
}

/** Runs the program on one engine until the final int3, resuming after any other stop. */
function runToEnd(engine: Engine, program: BlockProgram, limit?: number): { stops: RunResult[]; instructions: number } {
  const stops: RunResult[] = [];
  let instructions = 0;
  let rip = program.chunkStarts[0]!;
  for (;;) {
    if (limit !== undefined && limit - instructions <= 0) break; // count 0 would mean "no limit"
    const result = engine.start(rip, limit !== undefined ? { count: limit - instructions } : {});
    instructions += result.instructions;
    stops.push(result);
    if (result.reason === 'count' || (result.reason === 'interrupt' && result.rip === program.end + 1n)) break;
    // resume at the chunk after the one that stopped
    const next = program.chunkStarts.find((start) => start > result.rip);
    if (next === undefined) break;
    rip = next;
  }
  return { stops, instructions };
}

/** The first instruction count after which the machines differ (both freshly prepared for each probe). */
async function firstDivergence(program: BlockProgram, data: Uint8Array, total: number): Promise<number> {
  let good = 0;
  let bad = total;
  while (bad - good > 1) {
    const k = Math.floor((good + bad) / 2);
    const [subject, oracle] = await machines(program, data);
    runToEnd(subject, program, k);
    runToEnd(oracle, program, k);
    const differs = diffStates(capture(subject), capture(oracle), 0n).length > 0;
    subject.close();
    oracle.close();
    if (differs) bad = k;
    else good = k;
  }
  return bad;
}

describe('block-mode differential: whole random programs on WasmEngine and UnicornEngine', () => {
  if (skipReason) {
    if (IN_CI) it('needs both engines in CI', () => expect.fail(skipReason));
    else it.skip(`SKIPPED: ${skipReason}`, () => {});
    return;
  }

  it(`agrees on ${TOTAL_INSTRUCTIONS} instructions run as programs`, async () => {
    const core = await createWasmEngine();
    const rng = new Rng(BASE_SEED);
    const forms = programForms(buildFormCatalog(new Rng(BASE_SEED), 6), rng, (bytes) => core.probe(bytes));
    core.close();

    let instructions = 0;
    let programs = 0;
    let stopsCompared = 0;
    for (let sequence = 0; instructions < TOTAL_INSTRUCTIONS; sequence++) {
      const seed = BASE_SEED + sequence;
      const programRng = new Rng(seed);
      const data = programRng.fill(new Uint8Array(LAYOUT.dataSize));
      const program = buildBlockProgram(forms, programRng, INSTANCES_PER_PROGRAM);
      const [subject, oracle] = await machines(program, data);
      const a = runToEnd(subject, program);
      const b = runToEnd(oracle, program);
      const problems: string[] = [];
      const stopsA = a.stops.map(describeResult).join(', ');
      const stopsB = b.stops.map(describeResult).join(', ');
      if (stopsA !== stopsB) problems.push(`stops: ${stopsA}\n    vs ${stopsB}`);
      problems.push(...diffStates(capture(subject), capture(oracle), 0n));
      subject.close();
      oracle.close();
      if (problems.length > 0) {
        const k = await firstDivergence(program, data, Math.max(a.instructions, b.instructions));
        const [s2, o2] = await machines(program, data);
        runToEnd(s2, program, k - 1);
        const at = s2.readRegister('rip');
        s2.close();
        o2.close();
        const instance = program.instances.find((i) => i.rip === at);
        const offset = Number(at - LAYOUT.code);
        const window = program.code.subarray(offset, offset + 15);
        const bytes = instance?.bytes ?? window.subarray(0, Math.max(1, decodeLength(window)));
        expect.fail(
          [
            `block-mode mismatch at seed ${seed}: first difference after instruction ${k} (rip 0x${at.toString(16)})`,
            `  ${hexBytes(bytes)}    ${disassemble(bytes, at)}    [${instance?.info.name ?? 'set-up or filler'}]`,
            ...problems.map((p) => `  ${p}`),
          ].join('\n'),
        );
      }
      instructions += b.instructions;
      stopsCompared += b.stops.length;
      programs++;
    }
    console.log(`block-mode differential: ${instructions} instructions in ${programs} programs, ${stopsCompared} stops compared`);
    expect(instructions).toBeGreaterThanOrEqual(TOTAL_INSTRUCTIONS);
  });
});
