// WRITE_FAULT: the patch write hit a page that is not writable. Program-driven: the
// handler's store faulted (SIGSEGV) — typically it made one page writable and the bytes
// span two. Tool-driven: the emulated kernel refused the mprotect.

import type { FaultReport } from '../../loader/index.js';
import type { Evidence, Finding } from '../finding.js';
import { hex } from '../../hex.js';

export interface MprotectCall {
  address: bigint;
  length: bigint;
  prot: number;
  result: number;
}

const PAGE = 0x1000n;

function protText(prot: number): string {
  return `${prot & 1 ? 'R' : '-'}${prot & 2 ? 'W' : '-'}${prot & 4 ? 'X' : '-'}`;
}

function pagesOf(site: bigint, length: number): string {
  const first = site & ~(PAGE - 1n);
  const last = (site + BigInt(length) - 1n) & ~(PAGE - 1n);
  return first === last ? `page ${hex(first)}` : `pages ${hex(first)}..${hex(last)} (${Number((last - first) / PAGE) + 1} pages)`;
}

export function checkHandlerWriteFault(
  fault: FaultReport | undefined,
  mprotects: readonly MprotectCall[],
  patch: { site: bigint; length: number },
): Finding[] {
  if (!fault || fault.signal !== 'SIGSEGV' || fault.access !== 'write') return [];
  const evidence: Evidence[] = [
    { label: 'faulting store', address: fault.rip, location: fault.location, bytes: fault.instructionBytes.slice(0, 8), text: `wrote to ${hex(fault.address)}${fault.mapping ? ` in ${fault.mapping}` : ''}` },
    ...mprotects.map((m) => ({ label: 'mprotect', text: `(${hex(m.address)}, ${hex(m.length)}, ${protText(m.prot)}) = ${m.result}: covers ${hex(m.address)}..${hex(m.address + m.length - 1n)}` })),
    { label: 'the patch needs', text: `${pagesOf(patch.site, patch.length)} writable for bytes ${hex(patch.site)}..${hex(patch.site + BigInt(patch.length) - 1n)}` },
  ];
  return [{
    code: 'WRITE_FAULT',
    severity: 'error',
    message: `the patcher's write to ${hex(fault.address)} faulted (SIGSEGV, page not writable): the process dies in the middle of patching`,
    address: fault.address,
    evidence,
    hint: `mprotect every page from (site & ~(pagesize-1)) through the page of site+${patch.length - 1} before writing`,
  }];
}

export function checkToolWriteFault(result: number, pages: { first: bigint; length: bigint }): Finding[] {
  if (result === 0) return [];
  return [{
    code: 'WRITE_FAULT',
    severity: 'error',
    message: `mprotect(${hex(pages.first)}, ${hex(pages.length)}, RWX) failed with ${result}: the trampoline cannot be written`,
    address: pages.first,
    evidence: [{ label: 'mprotect', text: `(${hex(pages.first)}, ${hex(pages.length)}, RWX) = ${result}` }],
    hint: 'the pages must be mapped and the process allowed to make them writable (no W^X policy)',
  }];
}
