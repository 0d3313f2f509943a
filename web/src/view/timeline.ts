// The emulated run as a timeline: output lines, the patch point, the patcher's calls and
// writes into code, calls of the target and of the replacement. Events inside the recorded
// window jump the trace stepper to their instruction. A threaded run gets one lane per thread
// above the list (when each thread held the CPU, its events as ticks) and each event names its thread.

import type { ThreadLane } from '../lanes.js';
import type { TimelineEvent } from '../protocol.js';
import { h } from './dom.js';

const KIND_LABEL: Record<TimelineEvent['kind'], string> = {
  output: 'output',
  'patch-point': 'patch',
  signal: 'signal',
  'signal-return': 'sigreturn',
  dlopen: 'dlopen',
  dlsym: 'dlsym',
  mprotect: 'mprotect',
  'code-write': 'code write',
  'call-target': 'old fn',
  'call-replacement': 'new fn',
  thread: 'thread',
  exit: 'end',
};

export function renderTimeline(events: readonly TimelineEvent[], onStep: (step: number) => void, lanes?: readonly ThreadLane[]): HTMLElement {
  const list = renderList(events, onStep, lanes !== undefined && lanes.length > 1);
  if (!lanes || lanes.length < 2) return list;
  return h('div', { class: 'timeline-threads' }, renderLanes(events, lanes), list);
}

/** One row per thread over the whole run: the spans it ran (bars) and its events (ticks). */
function renderLanes(events: readonly TimelineEvent[], lanes: readonly ThreadLane[]): HTMLElement {
  const end = Math.max(1, ...events.map((e) => e.at), ...lanes.flatMap((l) => l.spans.map((s) => s.to)));
  const pct = (at: number): string => `${((at / end) * 100).toFixed(3)}%`;
  return h('div', { class: 'lanes', role: 'group', 'aria-label': `threads: one lane per thread, ${lanes.length} threads` },
    ...lanes.map((lane) => {
      const ran = lane.spans.reduce((n, s) => n + (s.to - s.from), 0);
      const track = h('div', { class: 'lane-track' },
        ...lane.spans.map((s) => h('span', { class: 'lane-span', style: `left:${pct(s.from)};width:${pct(s.to - s.from)}`, title: `ran ${s.from.toLocaleString('en')}..${s.to.toLocaleString('en')}` })),
        ...events.filter((e) => e.thread === lane.tid).map((e) => h('span', { class: `lane-event kind-${e.kind}`, 'data-kind': e.kind, style: `left:${pct(e.at)}`, title: `${e.at.toLocaleString('en')}: ${e.text}` })));
      return h('div', { class: 'lane', 'data-tid': lane.tid },
        h('span', { class: 'lane-label', title: `${lane.instructions.toLocaleString('en')} instructions${lane.exited ? ', exited' : ''}; ran ${ran.toLocaleString('en')} of the run's instructions on the CPU` }, `${lane.tid} ${lane.name}`),
        track);
    }));
}

function renderList(events: readonly TimelineEvent[], onStep: (step: number) => void, threaded: boolean): HTMLElement {
  const list = h('ol', { class: 'timeline', 'aria-label': 'events of the emulated run: ↑ ↓ move, Enter shows one in the trace' });
  const buttons: HTMLButtonElement[] = [];
  for (const e of events) {
    const what = threaded && e.thread !== undefined ? [h('span', { class: 'thread', title: `thread ${e.thread} was running` }, `[${e.thread}] `), e.text] : [e.text];
    const body = [h('span', { class: 'at' }, e.at.toLocaleString('en')), h('span', { class: `kind kind-${e.kind}` }, KIND_LABEL[e.kind]), h('span', { class: 'what' }, ...what)];
    if (e.step !== undefined) {
      const step = e.step;
      // One tab stop for the whole timeline (roving tabindex): Tab goes on to the trace.
      const button = h('button', { type: 'button', class: 'event', 'data-kind': e.kind, 'data-at': e.at, 'data-step': step, ...(e.thread !== undefined ? { 'data-thread': e.thread } : {}), tabindex: buttons.length === 0 ? 0 : -1, title: 'show this instruction in the trace' }, ...body);
      button.addEventListener('click', () => onStep(step));
      buttons.push(button);
      list.append(h('li', {}, button));
    } else {
      list.append(h('li', {}, h('div', { class: 'event', 'data-kind': e.kind, 'data-at': e.at, ...(e.thread !== undefined ? { 'data-thread': e.thread } : {}) }, ...body)));
    }
  }
  list.addEventListener('keydown', (e) => {
    const index = buttons.indexOf(e.target as HTMLButtonElement);
    if (index < 0) return;
    const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const target = buttons[Math.max(0, Math.min(buttons.length - 1, next))]!;
    buttons[index]!.tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  });
  return list;
}
