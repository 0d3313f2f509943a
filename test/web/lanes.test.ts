// Threads on the page's timeline, in Node: a real system-model run of corpus/thread-pool (three
// named workers and main) gives one lane per thread whose spans tile the run, and each event
// lands on the lane of the thread that ran then. The chromium test draws the same lanes.
import { describe, expect, it } from 'vitest';
import type { ThreadsSummary } from '../../src/verify/result.js';
import { eventsOnLanes, threadAt, threadLanes } from '../../web/src/lanes.js';
import type { TimelineEvent } from '../../web/src/protocol.js';
import { threadPoolResult } from './thread-pool.js';

describe('thread lanes', () => {
  it('a thread-pool run: one lane per thread, spans tiling the run, events on the running thread', async () => {
    const result = await threadPoolResult();
    const threads = result.run!.process!.threads!;
    const end = result.run!.instructions;
    const lanes = threadLanes(threads, end)!;
    expect(lanes.map((l) => l.name)).toEqual(['main', 'pool-0', 'pool-1', 'pool-2']);
    expect(threads.ran!.length - 1).toBe(threads.switches);
    // The spans of all lanes, in order, cover 0..end without gap or overlap.
    const spans = lanes.flatMap((l) => l.spans.map((s) => ({ ...s, tid: l.tid }))).sort((a, b) => a.from - b.from);
    expect(spans[0]!.from).toBe(0);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.from, `span ${i}`).toBe(spans[i - 1]!.to);
    expect(spans.at(-1)!.to).toBe(end);
    for (const l of lanes.slice(1)) expect(l.spans[0]!.from).toBeGreaterThanOrEqual(l.createdAt);
    // main prints the iterations; the SIGUSR1 handler's lines come from the thread the signal
    // interrupted at the patch point (a process-directed signal goes to the running thread: a worker here).
    const events: TimelineEvent[] = result.run!.output.map((o) => ({ kind: 'output', at: o.instruction, text: o.text }));
    const placed = eventsOnLanes(events, threads);
    const interrupted = threadAt(threads, result.run!.patchPoint!);
    expect(interrupted).not.toBe(lanes[0]!.tid);
    const printed = placed.filter((e) => e.kind === 'output');
    expect(printed.filter((e) => e.text.startsWith('iteration')).length).toBeGreaterThan(2);
    for (const e of printed) expect(e.thread, e.text).toBe(e.text.startsWith('iteration') ? lanes[0]!.tid : interrupted);
    expect(placed.filter((e) => e.kind === 'thread').map((e) => e.text)).toEqual(lanes.slice(1).map((l) => `thread ${l.tid} (${l.name}) starts`));
  }, 120_000);

  it('an event at a switch belongs to the thread before it; nothing is guessed past a truncated log', () => {
    const threads: ThreadsSummary = { seed: '1', threads: 2, switches: 3, ran: [{ at: 0, tid: 1 }, { at: 10, tid: 2 }, { at: 25, tid: 1 }] };
    expect([0, 5, 10, 11, 25, 26].map((at) => threadAt(threads, at))).toEqual([1, 1, 1, 2, 2, undefined]);
    expect(threadAt({ ...threads, switches: 2 }, 26)).toBe(1);
    expect(threadLanes({ ...threads, list: [{ tid: 1, name: 'main', createdAt: 0, instructions: 0, exited: false }, { tid: 2, name: 'w', createdAt: 5, instructions: 0, exited: true }] }, 40)!.map((l) => l.spans))
      .toEqual([[{ from: 0, to: 10 }], [{ from: 10, to: 25 }]]);
    expect(threadLanes({ seed: '1', threads: 1, switches: 0 }, 40)).toBeUndefined();
  });
});
