// Threads on the timeline: one lane per thread of a system-model run, from the verifier's
// record of who ran when (ThreadsSummary.ran, a switch log by instruction count). Each lane has
// the spans its thread held the CPU; timeline events are put on the lane of the thread that
// was running when they happened. Pure data, so Node tests and the page share it.

import type { ThreadsSummary } from '../../src/verify/result.js';
import type { TimelineEvent } from './protocol.js';

export interface ThreadLane {
  tid: number;
  name: string;
  createdAt: number;
  instructions: number;
  exited: boolean;
  /** [from, to) instruction counts during which the thread ran. */
  spans: { from: number; to: number }[];
}

/** The lanes of a run with more than one thread, up to instruction `end`; undefined otherwise. */
export function threadLanes(threads: ThreadsSummary | undefined, end: number): ThreadLane[] | undefined {
  if (!threads?.list || !threads.ran || threads.list.length < 2) return undefined;
  const lanes = threads.list.map((t) => ({ ...t, spans: [] as { from: number; to: number }[] }));
  const byTid = new Map(lanes.map((l) => [l.tid, l]));
  const ran = threads.ran;
  // Past the log's last entry (it keeps the first switches only) nobody is known to run.
  const complete = ran.length - 1 >= threads.switches;
  ran.forEach((r, i) => {
    const to = i + 1 < ran.length ? ran[i + 1]!.at : complete ? end : r.at;
    if (to > r.at) byTid.get(r.tid)?.spans.push({ from: r.at, to });
  });
  return lanes;
}

/**
 * The thread that was running when `at` instructions had retired: an event at a switch's count
 * belongs to the thread before it (the switch happens after the system call that made the
 * event). Undefined past the end of a truncated log.
 */
export function threadAt(threads: ThreadsSummary, at: number): number | undefined {
  const ran = threads.ran;
  if (!ran || ran.length === 0) return undefined;
  let lo = 0;
  let hi = ran.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ran[mid]!.at < at) lo = mid;
    else hi = mid - 1;
  }
  if (lo === ran.length - 1 && ran.length - 1 < threads.switches && at > ran[lo]!.at) return undefined;
  return ran[lo]!.tid;
}

/** Tags each event with its thread and adds one event per thread start; returns the new list, in order. */
export function eventsOnLanes(events: readonly TimelineEvent[], threads: ThreadsSummary | undefined): TimelineEvent[] {
  if (!threads?.list || !threads.ran || threads.list.length < 2) return [...events];
  const tagged = events.map((e) => {
    const tid = threadAt(threads, e.at);
    return tid === undefined ? { ...e } : { ...e, thread: tid };
  });
  const starts: TimelineEvent[] = threads.list.slice(1).map((t) => ({ kind: 'thread', at: t.createdAt, text: `thread ${t.tid} (${t.name}) starts`, thread: t.tid }));
  return [...tagged, ...starts].sort((a, b) => a.at - b.at);
}
