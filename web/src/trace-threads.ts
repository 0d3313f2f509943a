// Threads in the trace stepper: which thread executed each recorded step (the replay records the
// running thread's tid with each step, after the scheduler's switch for that instruction), the
// steps of one thread, and moving through them. Pure data, so Node tests and the page share it.

import type { ThreadsSummary } from '../../src/verify/result.js';
import type { TraceStep } from './protocol.js';

export interface TraceThread {
  tid: number;
  name: string;
  /** How many recorded steps the thread executed. */
  steps: number;
}

/**
 * The threads that executed recorded steps, in the order of `list` (the report's threads, which
 * name them), then any tid the list lacks; empty when the steps name no thread (stubs model).
 */
export function traceThreads(steps: readonly TraceStep[], list: readonly { tid: number; name: string }[] = []): TraceThread[] {
  const counts = new Map<number, number>();
  for (const s of steps) if (s.thread !== undefined) counts.set(s.thread, (counts.get(s.thread) ?? 0) + 1);
  const named = list.filter((t) => counts.has(t.tid)).map((t) => ({ tid: t.tid, name: t.name, steps: counts.get(t.tid)! }));
  const unnamed = [...counts.keys()].filter((tid) => !list.some((t) => t.tid === tid)).sort((a, b) => a - b).map((tid) => ({ tid, name: `thread ${tid}`, steps: counts.get(tid)! }));
  return [...named, ...unnamed];
}

/** Indices of the steps thread `tid` executed, in order; every step's index for undefined (all threads). */
export function stepsOf(steps: readonly TraceStep[], tid: number | undefined): number[] {
  const out: number[] = [];
  steps.forEach((s, i) => {
    if (tid === undefined || s.thread === tid) out.push(i);
  });
  return out;
}

/**
 * The step `delta` steps from `current` through `chosen` (sorted step indices), clamped to its
 * ends. From a step not in `chosen` (another thread's), +1 is the chosen thread's next step and
 * -1 its previous one; 0 is its first step at or after `current`, else its last before.
 */
export function moveWithin(chosen: readonly number[], current: number, delta: number): number {
  if (chosen.length === 0) return current;
  let lo = 0;
  let hi = chosen.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chosen[mid]! < current) lo = mid + 1;
    else hi = mid;
  }
  let target: number;
  if (lo < chosen.length && chosen[lo] === current) target = lo + delta;
  else if (delta > 0) target = lo + delta - 1;
  else if (delta < 0) target = lo + delta;
  else target = lo;
  return chosen[Math.max(0, Math.min(chosen.length - 1, target))]!;
}

/**
 * The thread that executes the instruction after `at` have retired, by the scheduler's switch
 * log: the last switch at or before `at` (the switch happens before that instruction). Undefined
 * past the end of a truncated log. (lanes.ts's threadAt is for events, made by the instruction
 * before the count: there a switch at `at` belongs to the thread before it.)
 */
export function threadExecuting(threads: ThreadsSummary, at: number): number | undefined {
  const ran = threads.ran;
  if (!ran || ran.length === 0 || at < ran[0]!.at) return undefined;
  let lo = 0;
  let hi = ran.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ran[mid]!.at <= at) lo = mid;
    else hi = mid - 1;
  }
  if (lo === ran.length - 1 && ran.length - 1 < threads.switches && at > ran[lo]!.at) return undefined;
  return ran[lo]!.tid;
}
