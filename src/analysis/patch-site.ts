// What overwriting the first N bytes of a function would break, as evidence (addresses,
// bytes, instruction text, the function each branch comes from), the same question
// frida-gum's can_relocate answers for its prologue. The verifier turns it into findings.

import type { BranchEdge, CodeFunction, CodeMap } from './code-map.js';
import { AnalysisError, hex } from './error.js';

export const PAGE_SIZE = 4096;
const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];

/** [start, end): the bytes the trampoline replaces. */
export interface OverwrittenRange {
  start: bigint;
  end: bigint;
  length: number;
}

export interface InstructionEvidence {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  /** Intel syntax, e.g. "push rbp". */
  text: string;
  /** Function holding the instruction, null when no symbol covers it. */
  function: string | null;
}

export interface CoveredInstruction extends InstructionEvidence {
  /** How many of its bytes the trampoline replaces. */
  bytesOverwritten: number;
  /** Only its first bytes are replaced: its tail stays behind as garbage. */
  partial: boolean;
}

export type OverrunRegion = 'padding' | 'function' | 'unattributed-code' | 'data' | 'unmapped';

export interface OverrunSpan {
  start: bigint;
  end: bigint;
  region: OverrunRegion;
  /** The function overwritten, for region 'function'. */
  function: string | null;
}

/** The part of the range past the function's end. */
export interface Overrun {
  functionEnd: bigint;
  bytesPastFunction: number;
  spans: OverrunSpan[];
  /** 'warning' if only inter-function padding is hit; 'error' if code, data or nothing is. */
  severity: 'error' | 'warning';
}

/** A branch or jump-table entry landing inside the range, after its first byte. */
export interface BranchIntoRange extends BranchEdge {
  /** target - range.start (1 .. N-1). */
  offset: number;
  sourceText: string;
  /** The source is itself overwritten (only a thread already inside could take it). */
  sourceInRange: boolean;
}

/** A call inside the range whose return address is also inside it. */
export interface ReturnAddressInRange {
  call: InstructionEvidence;
  returnAddress: bigint;
  /** returnAddress - range.start. */
  offset: number;
  /** The call's direct target, null for an indirect call. */
  callee: bigint | null;
}

export interface RipRelativeInRange extends InstructionEvidence {
  target: bigint;
  partial: boolean;
}

export interface PatchSite {
  function: CodeFunction;
  range: OverwrittenRange;
  /** Instructions overlapping the range, in order (may run into the next function). */
  covered: CoveredInstruction[];
  /** The instruction cut by the range end, if any. */
  partial: CoveredInstruction | null;
  overrun: Overrun | null;
  branchesInto: BranchIntoRange[];
  returnAddressesInRange: ReturnAddressInRange[];
  /**
   * The entry starts with endbr64 (built with -fcf-protection). Under IBT, indirect calls to
   * the old function then need an endbr64 at the entry, and the trampoline's own indirect
   * `jmp rax` needs one at the replacement's entry.
   */
  entryEndbr64: boolean;
  ripRelative: RipRelativeInRange[];
  /** Pages the write touches: a write spanning two pages needs both made writable. */
  pages: { first: bigint; last: bigint; count: number; pageSize: number };
}

/** The function to patch: a symbol name, a CodeFunction, or a bare address and size. */
export type PatchTarget = string | CodeFunction | { address: bigint; size: number };

function resolveFunction(map: CodeMap, target: PatchTarget): CodeFunction {
  if (typeof target === 'string') {
    const fn = map.functionNamed(target);
    if (!fn) throw new AnalysisError('not-in-code', `no function symbol "${target}" in an executable section`);
    return fn;
  }
  if ('name' in target) return target;
  const known = map.functionContaining(target.address);
  if (known && known.address === target.address) return known;
  if (map.regionAt(target.address).kind === 'data' || map.regionAt(target.address).kind === 'unmapped') {
    throw new AnalysisError('not-in-code', `${hex(target.address)} is not in an executable section`, target.address);
  }
  return {
    name: hex(target.address), aliases: [], address: target.address, end: target.address + BigInt(target.size),
    size: target.size, sizeFromSymbol: true, section: '',
  };
}

export function analyzePatchSite(map: CodeMap, target: PatchTarget, overwriteLength: number): PatchSite {
  if (!Number.isInteger(overwriteLength) || overwriteLength <= 0) {
    throw new AnalysisError('bad-argument', `overwrite length must be a positive integer, got ${overwriteLength}`);
  }
  const fn = resolveFunction(map, target);
  const range: OverwrittenRange = { start: fn.address, end: fn.address + BigInt(overwriteLength), length: overwriteLength };

  const evidence = (address: bigint): InstructionEvidence => {
    const d = map.describe(address);
    return { address: d.address, length: d.length, bytes: d.bytes, text: d.text, function: map.functionContaining(d.address)?.name ?? null };
  };

  const covered: CoveredInstruction[] = map.instructionsOverlapping(range.start, range.end).map((site) => {
    const end = site.address + BigInt(site.length);
    const overwrittenEnd = end < range.end ? end : range.end;
    return { ...evidence(site.address), bytesOverwritten: Number(overwrittenEnd - site.address), partial: end > range.end };
  });
  const partial = covered.find((c) => c.partial) ?? null;

  const branchesInto: BranchIntoRange[] = map.branchesInto(range.start + 1n, range.end).map((edge) => ({
    ...edge,
    offset: Number(edge.target - range.start),
    sourceText: map.describe(edge.source).text,
    sourceInRange: edge.source >= range.start && edge.source < range.end,
  }));

  const returnAddressesInRange: ReturnAddressInRange[] = [];
  for (const site of map.instructionsOverlapping(range.start, range.end)) {
    if (site.kind !== 'call' && site.kind !== 'indirect-call') continue;
    const returnAddress = site.address + BigInt(site.length);
    // A call ending exactly at range.end returns to intact code.
    if (site.address >= range.start && returnAddress < range.end) {
      returnAddressesInRange.push({ call: evidence(site.address), returnAddress, offset: Number(returnAddress - range.start), callee: site.branchTarget });
    }
  }

  const ripRelative: RipRelativeInRange[] = map
    .instructionsOverlapping(range.start, range.end)
    .filter((site) => site.ripTarget !== null)
    .map((site) => ({ ...evidence(site.address), target: site.ripTarget!, partial: site.address + BigInt(site.length) > range.end }));

  const entryBytes = map.bytesAt(range.start, ENDBR64.length);
  const entryEndbr64 = entryBytes !== null && entryBytes.length === ENDBR64.length && ENDBR64.every((b, i) => entryBytes[i] === b);

  const page = BigInt(PAGE_SIZE);
  const first = (range.start / page) * page;
  const last = ((range.end - 1n) / page) * page;

  return {
    function: fn,
    range,
    covered,
    partial,
    overrun: overrunOf(map, fn, range),
    branchesInto,
    returnAddressesInRange,
    entryEndbr64,
    ripRelative,
    pages: { first, last, count: Number((last - first) / page) + 1, pageSize: PAGE_SIZE },
  };
}

function overrunOf(map: CodeMap, fn: CodeFunction, range: OverwrittenRange): Overrun | null {
  if (range.end <= fn.end) return null;
  const spans: OverrunSpan[] = [];
  let at = fn.end;
  while (at < range.end) {
    const region = map.regionAt(at);
    let spanEnd: bigint;
    let name: string | null = null;
    switch (region.kind) {
      case 'function':
        spanEnd = region.function.end;
        name = region.function.name;
        break;
      case 'padding':
      case 'unattributed-code':
        spanEnd = region.range.end;
        break;
      default:
        spanEnd = range.end;
    }
    // Always advance, even over a zero-size symbol.
    if (spanEnd <= at) spanEnd = at + 1n;
    const end = spanEnd < range.end ? spanEnd : range.end;
    const last = spans[spans.length - 1];
    if (last && last.region === region.kind && last.function === name && last.end === at) last.end = end;
    else spans.push({ start: at, end, region: region.kind, function: name });
    at = end;
  }
  return {
    functionEnd: fn.end,
    bytesPastFunction: Number(range.end - fn.end),
    spans,
    severity: spans.every((s) => s.region === 'padding') ? 'warning' : 'error',
  };
}
