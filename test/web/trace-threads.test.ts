// The trace stepper's threads, in Node: the page's replay (web/src/worker/replay.ts) of a real
// system-model run of corpus/thread-pool names the thread of each recorded step; that is the
// scheduler's own switch log read at the step's count, and a thread's steps are its own
// instructions in order. The chromium test (thread-picker.test.ts) steps the same trace.
import { describe, expect, it } from 'vitest';
import { initDemangler } from '../../src/elf/index.js';
import type { ThreadsSummary } from '../../src/verify/result.js';
import type { TraceStep } from '../../web/src/protocol.js';
import { moveWithin, stepsOf, threadExecuting, traceThreads } from '../../web/src/trace-threads.js';
import { replay } from '../../web/src/worker/replay.js';
import { threadPoolProcess, threadPoolRequest, threadPoolResult } from './thread-pool.js';

describe('trace threads', () => {
  it('a thread-pool replay (tool-driven): each step names the thread the switch log says ran it; a thread\'s steps are its own', async () => {
    await initDemangler();
    // Tool-driven: its window has the patching thread and the next one the schedule picks.
    const result = await threadPoolResult('tool');
    const threads = result.run!.process!.threads!;
    const replayed = await replay(threadPoolRequest('tool'), result, () => {}, threadPoolProcess());
    expect(replayed.check.differences).toEqual([]);
    const steps = replayed.trace!.steps;
    expect(steps.length).toBeGreaterThan(100);
    // Exact both ways: the tid recorded during the replay is the log's thread for that instruction.
    for (const [i, s] of steps.entries()) expect(s.thread, `step ${i} at ${s.at}`).toBe(threadExecuting(threads, s.at));
    const found = traceThreads(steps, threads.list);
    expect(found.length).toBeGreaterThan(1);
    expect(found.reduce((n, t) => n + t.steps, 0)).toBe(steps.length);
    for (const t of found) expect(t.name).toBe(threads.list!.find((l) => l.tid === t.tid)!.name);
    // A thread's steps are in instruction order, and the trace leaves a thread only where the log has another one run.
    for (const t of found) {
      const mine = stepsOf(steps, t.tid);
      expect(mine.length).toBe(t.steps);
      for (let k = 1; k < mine.length; k++) expect(steps[mine[k]!]!.at).toBeGreaterThan(steps[mine[k - 1]!]!.at);
      // Stepping through the chosen thread visits exactly its steps.
      const visited = [moveWithin(mine, 0, 0)];
      for (;;) {
        const next = moveWithin(mine, visited.at(-1)!, 1);
        if (next === visited.at(-1)) break;
        visited.push(next);
      }
      expect(visited).toEqual(mine);
    }
    expect(stepsOf(steps, undefined)).toHaveLength(steps.length);
  }, 240_000);

  it('replays the program-driven case as the verifier ran it (the scheduler reseeded at the patch point, as the verifier does)', async () => {
    await initDemangler();
    const result = await threadPoolResult('signal');
    const replayed = await replay(threadPoolRequest('signal'), result, () => {}, threadPoolProcess());
    expect(replayed.check.differences).toEqual([]);
    expect(replayed.trace!.steps.every((s) => s.thread !== undefined)).toBe(true);
  }, 240_000);

  it('moves through one thread\'s steps from any step; reads the switch log for an instruction', () => {
    const chosen = [2, 3, 7, 9];
    expect([0, 2, 3, 5, 7, 9, 12].map((c) => moveWithin(chosen, c, 1))).toEqual([2, 3, 7, 7, 9, 9, 9]);
    expect([0, 2, 3, 5, 7, 9, 12].map((c) => moveWithin(chosen, c, -1))).toEqual([2, 2, 2, 3, 3, 7, 9]);
    expect([0, 2, 5, 12].map((c) => moveWithin(chosen, c, 0))).toEqual([2, 2, 7, 9]);
    expect(moveWithin(chosen, 2, 20)).toBe(9);
    expect(moveWithin([], 4, 1)).toBe(4);
    const threads: ThreadsSummary = { seed: '1', threads: 2, switches: 3, ran: [{ at: 0, tid: 1 }, { at: 10, tid: 2 }, { at: 25, tid: 1 }] };
    // The instruction at a switch's count is the new thread's (lanes.ts's threadAt gives an event there to the old one).
    expect([0, 9, 10, 24, 25, 26].map((at) => threadExecuting(threads, at))).toEqual([1, 1, 2, 2, 1, undefined]);
    expect(threadExecuting({ ...threads, switches: 2 }, 26)).toBe(1);
    const step = (thread?: number): TraceStep => ({ at: 0, rip: 0n, registers: [], stack: [], listing: 0, ...(thread === undefined ? {} : { thread }) });
    expect(traceThreads([step(7), step(1), step(7)], [{ tid: 1, name: 'main' }])).toEqual([{ tid: 1, name: 'main', steps: 1 }, { tid: 7, name: 'thread 7', steps: 2 }]);
    expect(traceThreads([step(), step()])).toEqual([]);
  });
});
