// The baseline: the same process, from the same patch-point snapshot, run on without the
// patch under the same budget. Its ending tells a crash the patch causes from one the
// program has anyway, and its output is what the patched run's output is compared with.

import { HookType } from '../../engine/engine.js';
import type { GuestProcess, OutputChunk, ProcessStop } from '../../loader/index.js';
import { setPhase } from './progress.js';

export interface BaselineRun {
  stop: ProcessStop;
  /** Instructions run after the patch point. */
  instructions: number;
  /** Entries of the (unpatched) target after the patch point. */
  targetCalls: number;
  /** Output written after the patch point. */
  output: OutputChunk[];
  /** Registers at the end (a crash's state). */
  fault?: Extract<ProcessStop, { reason: 'killed' }>['fault'];
}

/**
 * Runs the unpatched continuation from `snapshot` (taken at the patch point) until the
 * budget, then restores the snapshot: the process is back at the patch point afterwards.
 */
export function runBaseline(process: GuestProcess, snapshot: object, site: bigint, budget: number): BaselineRun {
  const start = process.instructions;
  const outputFrom = process.output.length;
  let targetCalls = 0;
  setPhase(process.engine, 'running the unpatched baseline');
  const hook = process.engine.addHook({ type: HookType.Code, begin: site, end: site, callback: () => void targetCalls++ });
  let stop: ProcessStop;
  try {
    const left = budget - process.instructions;
    stop = left > 0 ? process.run({ maxInstructions: left }) : { reason: 'budget', instructions: process.instructions };
  } finally {
    process.engine.removeHook(hook);
  }
  const run: BaselineRun = {
    stop,
    instructions: process.instructions - start,
    targetCalls,
    output: process.output.slice(outputFrom),
    ...(stop.reason === 'killed' && stop.fault ? { fault: stop.fault } : {}),
  };
  process.restore(snapshot);
  return run;
}
