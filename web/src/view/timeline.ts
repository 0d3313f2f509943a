// The emulated run as a timeline: output lines, the patch point, the patcher's calls and
// writes into code, calls of the target and of the replacement. Events inside the recorded
// window jump the trace stepper to their instruction.

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
  exit: 'end',
};

export function renderTimeline(events: readonly TimelineEvent[], onStep: (step: number) => void): HTMLElement {
  const list = h('ol', { class: 'timeline', 'aria-label': 'events of the emulated run: ↑ ↓ move, Enter shows one in the trace' });
  const buttons: HTMLButtonElement[] = [];
  for (const e of events) {
    const body = [h('span', { class: 'at' }, e.at.toLocaleString('en')), h('span', { class: `kind kind-${e.kind}` }, KIND_LABEL[e.kind]), h('span', { class: 'what' }, e.text)];
    if (e.step !== undefined) {
      const step = e.step;
      // One tab stop for the whole timeline (roving tabindex): Tab goes on to the trace.
      const button = h('button', { type: 'button', class: 'event', 'data-kind': e.kind, 'data-at': e.at, 'data-step': step, tabindex: buttons.length === 0 ? 0 : -1, title: 'show this instruction in the trace' }, ...body);
      button.addEventListener('click', () => onStep(step));
      buttons.push(button);
      list.append(h('li', {}, button));
    } else {
      list.append(h('li', {}, h('div', { class: 'event', 'data-kind': e.kind, 'data-at': e.at }, ...body)));
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
