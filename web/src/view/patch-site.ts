// The patch site: the target's original listing with the overwritten bytes highlighted, the
// partly overwritten instruction marked, branches into the range drawn as arcs (or, when the
// source is elsewhere, labelled with it), and the trampoline beside it.

import type { VerifyResult } from '../../../src/verify/result.js';
import type { ListingLine, PatchSiteView } from '../protocol.js';
import { h, hex, hexBytes } from './dom.js';
import { ROW_HEIGHT, instructionRows, rowCount } from './listing.js';

const GUTTER = 56;

export function renderPatchSite(site: PatchSiteView | undefined, result: VerifyResult): HTMLElement {
  const section = h('section', { class: 'panel', id: 'patch-site', 'aria-labelledby': 'patch-site-title' },
    h('h2', { id: 'patch-site-title' }, 'Patch site'));
  if (!site) {
    section.append(h('p', { class: 'muted' }, 'No patch site: the target was not resolved.'));
    return section;
  }
  section.append(h('p', { class: 'muted' },
    `${site.functionName} at ${hex(site.functionAddress)}, ${site.functionSize} bytes; the trampoline overwrites ` +
      `${hex(site.range.start)}..${hex(site.range.end)} (${Number(site.range.end - site.range.start)} bytes, ${site.pages.count} page${site.pages.count > 1 ? 's' : ''}).`));
  const columns = h('div', { class: 'columns' });
  columns.append(h('div', { class: 'column' }, h('h3', {}, 'Original code'), renderListing(site)));
  columns.append(h('div', { class: 'column' }, h('h3', {}, 'Trampoline written over it'), renderTrampoline(result)));
  section.append(columns);
  if (site.branchesInto.length > 0 || site.returnAddresses.length > 0) {
    section.append(h('h3', {}, 'Into the overwritten bytes'), h('ul', { class: 'into-list' },
      ...site.branchesInto.map((b) => h('li', { class: 'into' }, '↳ ', h('code', {}, `${b.sourceLocation}: ${b.sourceText}`), ` (${b.kind}) lands at +${b.offset}, ${hex(b.target)}`)),
      ...site.returnAddresses.map((r) => h('li', { class: 'into' }, '↩ ', h('code', {}, `call at ${hex(r.call)}`), ` returns to ${hex(r.returnAddress)} inside the overwritten bytes`))));
  }
  return section;
}

function lineClasses(line: ListingLine): string[] {
  return line.overwritten === 'partial' ? ['overwritten', 'partial'] : line.overwritten === 'full' ? ['overwritten'] : [];
}

function renderListing(site: PatchSiteView): HTMLElement {
  const rows = site.listing;
  const rowOf = (address: bigint): number => rows.findIndex((l) => address >= l.address && address < l.address + BigInt(l.bytes.length));
  const table = h('div', { class: 'listing', role: 'table', 'aria-label': `disassembly of ${site.functionName}` });
  // Arrows go from and to the first row of an instruction; long ones take several rows.
  const firstRow: number[] = [];
  let rowsSoFar = 0;
  rows.forEach((line) => {
    firstRow.push(rowsSoFar);
    rowsSoFar += rowCount(line.bytes);
    const incoming = site.branchesInto.filter((b) => b.target === line.address || (b.target > line.address && b.target < line.address + BigInt(line.bytes.length)));
    const outgoing = site.branchesInto.filter((b) => b.source === line.address);
    const marks: string[] = [];
    if (line.overwritten === 'partial') marks.push('partly overwritten');
    for (const b of incoming) if (rowOf(b.source) < 0) marks.push(`◀ ${b.kind} from ${b.sourceLocation}`);
    for (const b of outgoing) marks.push(`▶ ${b.kind} into +${b.offset}`);
    table.append(...instructionRows(line, { classes: lineClasses(line), attributes: { 'data-address': hex(line.address) }, ...(marks.length > 0 ? { mark: marks.join('; ') } : {}) }));
  });
  const arrows = site.branchesInto
    .filter((b) => rowOf(b.source) >= 0 && rowOf(b.target) >= 0)
    .map((b) => ({ from: firstRow[rowOf(b.source)]!, to: firstRow[rowOf(b.target)]! }));
  if (arrows.length === 0) return table;
  // Arcs in a left gutter, like objdump --visualize-jumps: source row to target row.
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'arrows');
  svg.setAttribute('width', String(GUTTER));
  svg.setAttribute('height', String(rowsSoFar * ROW_HEIGHT));
  svg.setAttribute('aria-hidden', 'true');
  arrows.forEach((a, i) => {
    const x = GUTTER - 10 - ((i * 9) % (GUTTER - 14));
    const y1 = a.from * ROW_HEIGHT + ROW_HEIGHT / 2;
    const y2 = a.to * ROW_HEIGHT + ROW_HEIGHT / 2;
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', `M ${GUTTER} ${y1} H ${x} V ${y2} H ${GUTTER - 4}`);
    path.setAttribute('class', 'arrow');
    const head = document.createElementNS(ns, 'path');
    head.setAttribute('d', `M ${GUTTER - 1} ${y2} l -6 -4 v 8 z`);
    head.setAttribute('class', 'arrow-head');
    svg.append(path, head);
  });
  return h('div', { class: 'listing-with-arrows' }, svg, table);
}

function renderTrampoline(result: VerifyResult): HTMLElement {
  const t = result.trampoline;
  if (!t) return h('p', { class: 'muted' }, 'The verifier did not build a trampoline for this run.');
  return h('div', {},
    h('p', {}, h('code', {}, t.form), ` at ${hex(t.site)} → ${hex(t.target)}`),
    h('div', { class: 'listing', role: 'table', 'aria-label': 'trampoline' },
      ...t.instructions.flatMap((i) => instructionRows(i, { classes: ['trampoline'] }))),
    h('p', { class: 'muted' }, 'replaces ', h('code', {}, hexBytes(t.originalBytes))));
}
