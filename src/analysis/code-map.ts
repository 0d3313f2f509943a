// The whole-executable code map: instruction boundaries, functions, padding, call sites,
// direct branches, jump tables, indirect branches and rip-relative operands, with the
// look-ups the patch-site checks need (who branches into [a, b)?). Built once per image.

import { listInstructions } from '../asm/instruction-text.js';
import type { CodeImage } from './code-image.js';
import { AnalysisError, hex } from './error.js';
import type { JumpTable } from './jump-tables.js';
import { Kind, KIND_NAMES, SectionReader, sweep, toNumber, type SweptFunction, type SweptSection } from './sweep.js';

export type { JumpTable } from './jump-tables.js';

export type InstructionKind = (typeof KIND_NAMES)[number];

/** A direct transfer (its target is in the instruction) or a jump-table entry. */
export type BranchKind = 'jmp' | 'jcc' | 'call' | 'loop' | 'jrcxz' | 'jump-table';

export interface CodeFunction {
  name: string;
  /** Other symbols at the same address. */
  aliases: string[];
  address: bigint;
  /** Exclusive end: address + size. */
  end: bigint;
  size: number;
  /** false when the symbol had no size and the end is the next symbol's start. */
  sizeFromSymbol: boolean;
  section: string;
}

export interface CodeRange {
  start: bigint;
  end: bigint;
}

export interface InstructionSite {
  address: bigint;
  length: number;
  kind: InstructionKind;
  /** Direct branch/call target, or null. */
  branchTarget: bigint | null;
  /** Effective address of a rip-relative memory operand, or null. */
  ripTarget: bigint | null;
  section: string;
}

export interface BranchEdge {
  /** The branching instruction (for a jump table: the dispatching indirect jmp). */
  source: bigint;
  sourceLength: number;
  target: bigint;
  kind: BranchKind;
  /** The function holding the source, or null if no symbol covers it. */
  sourceFunction: string | null;
  /** The jump table's address, for kind 'jump-table'. */
  table: bigint | null;
}

export interface RipRelativeOperand {
  address: bigint;
  length: number;
  /** The address the operand refers to (rip after the instruction + displacement). */
  target: bigint;
}

/** Where an address lies, as far as the code map can tell. */
export type AddressRegion =
  | { kind: 'function'; function: CodeFunction }
  | { kind: 'padding'; range: CodeRange }
  | { kind: 'unattributed-code'; range: CodeRange }
  | { kind: 'data'; section: string }
  | { kind: 'unmapped' };

const BRANCH_KIND_OF: Partial<Record<number, BranchKind>> = {
  [Kind.Jmp]: 'jmp',
  [Kind.Jcc]: 'jcc',
  [Kind.Call]: 'call',
  [Kind.Loop]: 'loop',
  [Kind.Jrcxz]: 'jrcxz',
};

function toFunction(f: SweptFunction): CodeFunction {
  return {
    name: f.name,
    aliases: f.aliases,
    address: BigInt(f.address),
    end: BigInt(f.end),
    size: f.end - f.address,
    sizeFromSymbol: f.sizeFromSymbol,
    section: f.section,
  };
}

function upperBound(sorted: ArrayLike<number>, value: number, length = sorted.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class CodeMap {
  readonly functions: readonly CodeFunction[];
  readonly paddings: readonly CodeRange[];
  /** Code between function symbols that is not padding (stripped or local code). */
  readonly unattributedCode: readonly CodeRange[];
  readonly jumpTables: readonly JumpTable[];
  readonly instructionCount: number;

  private readonly sections: SweptSection[];
  private readonly reader: SectionReader;
  private readonly functionStarts: Float64Array;
  private readonly paddingStarts: Float64Array;
  private readonly unattributedStarts: Float64Array;
  private edgesByTarget: BranchEdge[] | undefined;
  private edgeTargets: Float64Array | undefined;

  private constructor(image: CodeImage) {
    const result = sweep(image);
    this.sections = result.sections;
    this.reader = new SectionReader(image.sections);
    this.functions = result.functions.map(toFunction);
    this.functionStarts = Float64Array.from(result.functions, (f) => f.address);
    const range = (r: { start: number; end: number }): CodeRange => ({ start: BigInt(r.start), end: BigInt(r.end) });
    this.paddings = result.paddings.map(range);
    this.paddingStarts = Float64Array.from(result.paddings, (r) => r.start);
    this.unattributedCode = result.unattributed.map(range);
    this.unattributedStarts = Float64Array.from(result.unattributed, (r) => r.start);
    this.jumpTables = result.jumpTables;
    this.instructionCount = result.sections.reduce((n, s) => n + s.offsets.length, 0);
  }

  /** Decodes every executable section of the image. */
  static build(image: CodeImage): CodeMap {
    return new CodeMap(image);
  }

  // ---- functions and regions ----

  functionContaining(address: bigint): CodeFunction | null {
    const a = toNumber(address, 'address');
    const i = upperBound(this.functionStarts, a) - 1;
    const f = i >= 0 ? this.functions[i]! : null;
    return f && address < f.end ? f : null;
  }

  functionNamed(name: string): CodeFunction | null {
    return this.functions.find((f) => f.name === name || f.aliases.includes(name)) ?? null;
  }

  /** objdump's `symbol+0xoff` spelling of an address, for evidence; plain hex outside functions. */
  locationOf(address: bigint): string {
    const fn = this.functionContaining(address);
    if (!fn) return hex(address);
    const offset = address - fn.address;
    return offset === 0n ? fn.name : `${fn.name}+${hex(offset)}`;
  }

  regionAt(address: bigint): AddressRegion {
    const fn = this.functionContaining(address);
    if (fn) return { kind: 'function', function: fn };
    const a = toNumber(address, 'address');
    for (const [starts, ranges, kind] of [
      [this.paddingStarts, this.paddings, 'padding'],
      [this.unattributedStarts, this.unattributedCode, 'unattributed-code'],
    ] as const) {
      const i = upperBound(starts, a) - 1;
      const r = i >= 0 ? ranges[i]! : null;
      if (r && address < r.end) return { kind, range: r };
    }
    const section = this.reader.find(a)?.section;
    if (section && !section.executable) return { kind: 'data', section: section.name };
    return { kind: 'unmapped' };
  }

  // ---- instructions ----

  private locate(address: number): { s: SweptSection; i: number } | null {
    for (const s of this.sections) {
      if (address < s.base || address >= s.end) continue;
      const i = upperBound(s.offsets, address - s.base) - 1;
      if (i < 0) return null;
      return { s, i };
    }
    return null;
  }

  private site(s: SweptSection, i: number): InstructionSite {
    const target = s.targets[i]!;
    const rip = s.ripTargets[i]!;
    return {
      address: BigInt(s.base + s.offsets[i]!),
      length: s.lengths[i]!,
      kind: KIND_NAMES[s.kinds[i]!]!,
      branchTarget: Number.isNaN(target) ? null : BigInt(target),
      ripTarget: Number.isNaN(rip) ? null : BigInt(rip),
      section: s.section.name,
    };
  }

  /** The instruction covering `address` (which may be one of its middle bytes). */
  instructionContaining(address: bigint): InstructionSite | null {
    const a = toNumber(address, 'address');
    const hit = this.locate(a);
    if (!hit) return null;
    const start = hit.s.base + hit.s.offsets[hit.i]!;
    return a < start + hit.s.lengths[hit.i]! ? this.site(hit.s, hit.i) : null;
  }

  isInstructionStart(address: bigint): boolean {
    const a = toNumber(address, 'address');
    const hit = this.locate(a);
    return hit !== null && hit.s.base + hit.s.offsets[hit.i]! === a;
  }

  /** Instructions overlapping [start, end), in address order. */
  instructionsOverlapping(start: bigint, end: bigint): InstructionSite[] {
    const out: InstructionSite[] = [];
    const a = toNumber(start, 'start');
    const b = toNumber(end, 'end');
    for (const s of this.sections) {
      if (b <= s.base || a >= s.end) continue;
      let i = Math.max(0, upperBound(s.offsets, a - s.base) - 1);
      for (; i < s.offsets.length; i++) {
        const at = s.base + s.offsets[i]!;
        if (at >= b) break;
        if (at + s.lengths[i]! > a) out.push(this.site(s, i));
      }
    }
    return out;
  }

  /** Every instruction start of every executable section, in address order per section. */
  *instructionAddresses(): Generator<bigint> {
    for (const s of this.sections) for (let i = 0; i < s.offsets.length; i++) yield BigInt(s.base + s.offsets[i]!);
  }

  *instructions(): Generator<InstructionSite> {
    for (const s of this.sections) for (let i = 0; i < s.offsets.length; i++) yield this.site(s, i);
  }

  /** Bytes and Intel-syntax text of the instruction at `address`. */
  describe(address: bigint): { address: bigint; length: number; bytes: Uint8Array; text: string } {
    const site = this.instructionContaining(address);
    if (!site) throw new AnalysisError('not-in-code', `no decoded instruction covers ${hex(address)}`, address);
    const bytes = this.reader.bytes(Number(site.address), site.length)!;
    const listed = listInstructions(bytes, site.address, 1)[0]!;
    return { address: site.address, length: site.length, bytes: bytes.slice(), text: listed.text };
  }

  /** Raw bytes from any section; shorter than asked at a section end; null if unmapped. */
  bytesAt(address: bigint, length: number): Uint8Array | null {
    return this.reader.bytes(toNumber(address, 'address'), length)?.slice() ?? null;
  }

  // ---- branches ----

  /** Direct branches and calls, in source order. */
  directBranches(): BranchEdge[] {
    const out: BranchEdge[] = [];
    for (const s of this.sections) {
      for (let i = 0; i < s.offsets.length; i++) {
        const kind = BRANCH_KIND_OF[s.kinds[i]!];
        const target = s.targets[i]!;
        if (!kind || Number.isNaN(target)) continue;
        const source = BigInt(s.base + s.offsets[i]!);
        out.push({ source, sourceLength: s.lengths[i]!, target: BigInt(target), kind, sourceFunction: this.functionContaining(source)?.name ?? null, table: null });
      }
    }
    return out;
  }

  /** Jump-table entries as edges from the dispatching jmp. */
  jumpTableEdges(): BranchEdge[] {
    const out: BranchEdge[] = [];
    for (const t of this.jumpTables) {
      const sourceFunction = this.functionContaining(t.dispatch)?.name ?? null;
      const sourceLength = this.instructionContaining(t.dispatch)?.length ?? 0;
      for (const target of t.targets) {
        out.push({ source: t.dispatch, sourceLength, target, kind: 'jump-table', sourceFunction, table: t.table });
      }
    }
    return out;
  }

  /** Every direct branch and jump-table edge whose target lies in [start, end). */
  branchesInto(start: bigint, end: bigint): BranchEdge[] {
    if (!this.edgesByTarget) {
      this.edgesByTarget = [...this.directBranches(), ...this.jumpTableEdges()].sort((x, y) =>
        x.target < y.target ? -1 : x.target > y.target ? 1 : x.source < y.source ? -1 : x.source > y.source ? 1 : 0,
      );
      this.edgeTargets = Float64Array.from(this.edgesByTarget, (e) => Number(e.target));
    }
    const targets = this.edgeTargets!;
    const a = toNumber(start, 'start');
    const b = toNumber(end, 'end');
    const out: BranchEdge[] = [];
    for (let i = upperBound(targets, a - 1); i < targets.length && targets[i]! < b; i++) out.push(this.edgesByTarget[i]!);
    return out;
  }

  callSites(): InstructionSite[] {
    return this.sitesOfKind(Kind.Call, Kind.IndirectCall);
  }

  indirectBranches(): InstructionSite[] {
    return this.sitesOfKind(Kind.IndirectJmp, Kind.IndirectCall);
  }

  ripRelativeOperands(): RipRelativeOperand[] {
    const out: RipRelativeOperand[] = [];
    for (const s of this.sections) {
      for (let i = 0; i < s.offsets.length; i++) {
        const rip = s.ripTargets[i]!;
        if (!Number.isNaN(rip)) out.push({ address: BigInt(s.base + s.offsets[i]!), length: s.lengths[i]!, target: BigInt(rip) });
      }
    }
    return out;
  }

  private sitesOfKind(...kinds: number[]): InstructionSite[] {
    const out: InstructionSite[] = [];
    for (const s of this.sections) for (let i = 0; i < s.offsets.length; i++) if (kinds.includes(s.kinds[i]!)) out.push(this.site(s, i));
    return out;
  }
}
