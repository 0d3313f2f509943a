// One instruction of a disassembly listing as rows, the way objdump -d prints long ones: the
// first row has the address, up to BYTES_PER_ROW bytes and the text; the rest of the bytes
// follow on continuation rows. Every byte is shown, columns stay narrow, and all rows have
// the same height (the patch site's branch arrows are drawn by row index).

import { h, hex, hexBytes } from './dom.js';

export const BYTES_PER_ROW = 8;
export const ROW_HEIGHT = 20;

export interface InstructionLike {
  address: bigint;
  bytes: Uint8Array;
  text: string;
}

export interface RowOptions {
  /** Classes of the instruction's rows besides "line" (continuation rows get them too). */
  classes?: string[];
  /** Attributes of the first row only (data-address, aria-current). */
  attributes?: Record<string, string | undefined>;
  /** A leading cell (the trace's ▶ pointer); continuation rows get an empty one. */
  pointer?: string;
  /** A note after the text (partly overwritten, branch arrows' labels). */
  mark?: string;
}

export function rowCount(bytes: Uint8Array): number {
  return Math.max(1, Math.ceil(bytes.length / BYTES_PER_ROW));
}

export function instructionRows(line: InstructionLike, options: RowOptions = {}): HTMLElement[] {
  const classes = ['line', ...(options.classes ?? [])].join(' ');
  const pointer = (text: string): HTMLElement | null => (options.pointer === undefined ? null : h('span', { class: 'pointer', role: 'cell' }, text));
  const rows: HTMLElement[] = [];
  for (let i = 0; i < rowCount(line.bytes); i++) {
    const chunk = hexBytes(line.bytes.subarray(i * BYTES_PER_ROW, (i + 1) * BYTES_PER_ROW));
    if (i === 0) {
      rows.push(h('div', { class: classes, role: 'row', ...options.attributes },
        pointer(options.pointer ?? ''),
        h('span', { class: 'addr', role: 'cell' }, hex(line.address).slice(2)),
        // The whole encoding for assistive technology; the continuation rows are hidden from it.
        h('span', { class: 'bytes', role: 'cell', 'aria-label': hexBytes(line.bytes) }, chunk),
        h('span', { class: 'text', role: 'cell' }, line.text),
        options.mark ? h('span', { class: 'mark', role: 'cell' }, options.mark) : null));
    } else {
      rows.push(h('div', { class: `${classes} continuation`, 'aria-hidden': 'true' },
        pointer(''),
        h('span', { class: 'addr' }, hex(line.address + BigInt(i * BYTES_PER_ROW)).slice(2)),
        h('span', { class: 'bytes' }, chunk)));
    }
  }
  return rows;
}
