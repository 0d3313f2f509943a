// --explore on the page: the explored window as a strip of the run, unsafe windows shaded by
// what the program was doing there; clicking one verifies again at its --patch-at point, so the
// timeline and trace show that moment.

import type { Exploration, ExplorationWindow } from '../../../src/verify/explore/types.js';
import { h } from './dom.js';

const LISTED = 12;

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function renderExploration(e: Exploration, defaultPoint: number | undefined, onReplay: (point: number) => void): HTMLElement {
  const span = Math.max(1, e.to - e.from + 1);
  const at = (n: number): string => `${(((n - e.from) / span) * 100).toFixed(3)}%`;
  const replayButton = (w: ExplorationWindow, cls: string, ...children: (Node | string)[]): HTMLButtonElement => {
    const button = h('button', {
      type: 'button', class: cls, 'data-from': w.from, 'data-to': w.to, 'data-live': w.live,
      title: `${w.from}..${w.to}: ${w.codes.join(', ')}; ${w.doing}. Click: verify at --patch-at ${w.example}`,
    }, ...children);
    button.addEventListener('click', () => onReplay(w.example));
    return button;
  };
  const strip = h('div', { class: 'exploration-strip', role: 'group', 'aria-label': `instructions ${e.from} to ${e.to}: unsafe windows shaded` });
  for (const w of e.windows) {
    const shade = replayButton(w, `unsafe live-${w.live}`);
    shade.style.left = at(w.from);
    shade.style.width = `max(3px, ${(((w.to - w.from + 1) / span) * 100).toFixed(3)}%)`;
    shade.setAttribute('aria-label', `unsafe ${w.from} to ${w.to}: replay at ${w.example}`);
    shade.tabIndex = -1; // the list below is the keyboard's way in
    strip.append(shade);
  }
  if (defaultPoint !== undefined && defaultPoint >= e.from && defaultPoint <= e.to) {
    const marker = h('span', { class: 'default-point', title: `the default patch point (${defaultPoint})` });
    marker.style.left = at(defaultPoint);
    strip.append(marker);
  }
  const summary = e.unsafePoints === 0
    ? `Safe at all ${e.points} explored points (${e.from}..${e.to}${e.stride > 1 ? `, every ${e.stride}th` : ''}).`
    : `Unsafe at ${e.unsafePoints} of ${e.points} explored points (${percent(e.unsafePoints, e.points)} of ${e.from}..${e.to}), in ${e.windows.length} window${e.windows.length === 1 ? '' : 's'}.`;
  const list = h('ol', { class: 'exploration-windows' },
    ...e.windows.slice(0, LISTED).map((w) => h('li', {}, replayButton(w, 'window',
      h('span', { class: 'at' }, w.from === w.to ? `${w.from}` : `${w.from}..${w.to}`),
      h('span', { class: 'what' }, `${w.doing}: ${w.codes.join(', ')}`)))));
  return h('section', { class: 'exploration', id: 'exploration', 'aria-labelledby': 'exploration-title' },
    h('h3', { id: 'exploration-title' }, 'Every moment: the patch tried at each instruction boundary'),
    h('p', {}, summary, e.notApplied > 0 ? ` ${e.notApplied} points not applied (no handler yet).` : '', ` ${e.pointsPerSecond.toLocaleString('en')} points/s.`),
    strip,
    e.windows.length > 0 ? h('p', { class: 'muted' }, 'Click a window to verify the patch at that moment (--patch-at) and see its run in the timeline and trace.') : null,
    e.windows.length > 0 ? list : null,
    e.windows.length > LISTED ? h('p', { class: 'muted' }, `and ${e.windows.length - LISTED} more windows`) : null);
}
