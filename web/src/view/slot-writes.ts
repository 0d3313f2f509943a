// The slots a GOT or vtable patch rewrote, drawn as slot -> old target (struck) -> new target,
// with writes outside what the patcher set out to patch marked. Rows carry data-address so a
// finding's "show" jumps to its slot, as it jumps to an instruction on the patch site.

import type { SlotWriteSummary, VerifyResult } from '../../../src/verify/result.js';
import { h, hex } from './dom.js';

const WHAT = { got: 'GOT slots', vtable: 'vtable slots' } as const;

export function renderSlotWrites(result: VerifyResult): HTMLElement {
  const kind = result.strategy === 'got' ? 'got' : 'vtable';
  const section = h('section', { class: 'panel', id: 'patch-site', 'data-strategy': kind, 'aria-labelledby': 'patch-site-title' },
    h('h2', { id: 'patch-site-title' }, `Patched ${WHAT[kind]}`));
  const writes = result.slotWrites ?? [];
  const target = result.target ? `${result.target.demangled ?? result.target.name} at ${hex(result.target.address)} in ${result.target.file}` : 'the target';
  section.append(h('p', { class: 'muted' }, writes.length === 0
    ? `Nothing was written to the ${WHAT[kind]} that lead to ${target}.`
    : `${writes.length} slot${writes.length === 1 ? '' : 's'} written for ${target}${writes.some((w) => !w.inTarget) ? `, ${writes.filter((w) => !w.inTarget).length} outside what the patcher set out to patch` : ''}.`));
  if (writes.length > 0) {
    section.append(h('div', { class: 'slots', role: 'table', 'aria-label': `${WHAT[kind]} written` },
      h('div', { class: 'slot slot-head', role: 'row' },
        h('span', { role: 'columnheader' }, 'slot'), h('span', { role: 'columnheader' }, 'held (old target)'), h('span', { 'aria-hidden': 'true' }, ''), h('span', { role: 'columnheader' }, 'now holds (new target)')),
      ...writes.map(slotRow)));
  }
  return section;
}

function slotRow(w: SlotWriteSummary): HTMLElement {
  return h('div', { class: `slot${w.inTarget ? '' : ' outside'}`, role: 'row', 'data-address': hex(w.address), 'data-in-target': String(w.inTarget) },
    h('span', { class: 'slot-where', role: 'cell' }, h('code', {}, hex(w.address)), ' ', w.location, w.inTarget ? null : h('strong', { class: 'outside-mark' }, ' outside the target')),
    h('span', { class: 'slot-old', role: 'cell' }, h('code', {}, hex(w.before)), ' ', h('s', {}, w.beforeTarget)),
    h('span', { class: 'slot-arrow', 'aria-hidden': 'true' }, '→'),
    h('span', { class: 'slot-new', role: 'cell' }, h('code', {}, hex(w.after)), ' ', w.afterTarget));
}
