// The tool as the patcher (the seed's replaceFunction): make every page the write touches
// RWX, write the trampoline, restore R-X. Each step goes through the emulated kernel's
// mprotect rules, so a write the kernel would refuse is refused here too.

import type { GuestProcess } from '../../loader/index.js';

const PAGE = 0x1000n;
const PROT_RWX = 7;
const PROT_RX = 5;

export interface ToolPatch {
  pages: { first: bigint; length: bigint };
  /** 0 or -errno of each mprotect. */
  unprotect: number;
  reprotect: number | null;
  written: boolean;
  /** The instruction count at which the bytes were written. */
  at: number;
}

export function applyToolPatch(process: GuestProcess, site: bigint, bytes: Uint8Array): ToolPatch {
  const first = site & ~(PAGE - 1n);
  const end = (site + BigInt(bytes.length) + PAGE - 1n) & ~(PAGE - 1n);
  const pages = { first, length: end - first };
  const unprotect = process.mprotect(first, pages.length, PROT_RWX);
  if (unprotect !== 0) return { pages, unprotect, reprotect: null, written: false, at: process.instructions };
  process.writeCode(site, bytes);
  const reprotect = process.mprotect(first, pages.length, PROT_RX);
  return { pages, unprotect, reprotect, written: true, at: process.instructions };
}
