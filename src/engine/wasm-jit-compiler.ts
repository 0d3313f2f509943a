// Compiles one decoded block of the wasm core (its 64-byte Insn records, wasm/assembly/insn.ts) to
// the body of a WebAssembly function `() -> retired` with the interpreter's exact semantics
// (wasm/assembly/cpu.ts, fast.ts, alu.ts, mov.ts): GPRs are cached in locals and written back at
// every exit; memory accesses inline the TLB hit path and otherwise call the core's slow path
// (a fault leaves rip on the instruction and does not count it); a store that changed code or was
// logged stops the block after its instruction; flags are computed from the producer's operands
// where the block consumes them, and the last producer is handed to the core's lazy flags at
// every exit (through the exit record at `out`, jit.ts). Records it does not know end the
// compiled prefix: the core interprets the rest of the block.

import { Op } from './generated/core-ops.js';
import { Bytes, EMPTY, I32, I64, type ImportedFunction, W } from './wasm-jit-module.js';

/** A decoded record, the fields the compiler reads. */
export interface InsnRecord {
  rip: bigint;
  disp: bigint;
  imm: bigint;
  op: number;
  len: number;
  size: number;
  reg: number;
  rm: number;
  base: number;
  index: number;
  scale: number;
  flags: number;
  seg: number;
  ext: number;
  opcode: number;
  /** The record's bytes but its epoch, as a string: what the compiled code depends on (a cache key). */
  key: string;
}

export const INSN_SIZE = 64;

export function readRecord(view: DataView, at: number): InsnRecord {
  return {
    rip: view.getBigUint64(at, true),
    disp: view.getBigUint64(at + 8, true),
    imm: view.getBigUint64(at + 16, true),
    op: view.getUint16(at + 36, true),
    len: view.getUint8(at + 40),
    size: view.getUint8(at + 41),
    reg: view.getUint8(at + 42),
    rm: view.getUint8(at + 43),
    base: view.getUint8(at + 44),
    index: view.getUint8(at + 45),
    scale: view.getUint8(at + 46),
    flags: view.getUint8(at + 47),
    seg: view.getUint8(at + 48),
    ext: view.getUint8(at + 49),
    opcode: view.getUint8(at + 51),
    key: recordKey(view, at),
  };
}

function recordKey(view: DataView, at: number): string {
  const b = new Uint8Array(view.buffer, at, INSN_SIZE);
  return String.fromCharCode(...b.subarray(0, 32), ...b.subarray(36, INSN_SIZE));
}

/** The core helpers a compiled block imports (wasm/assembly/index.ts), in import order. */
export const HELPERS: readonly ImportedFunction[] = [
  { name: 'jitLoad', params: [I64, I32], results: [I64] },
  { name: 'jitStore', params: [I64, I32, I64], results: [I32] },
  { name: 'jitRmwStore', params: [I64, I32, I64], results: [I32] },
  { name: 'jitExit', params: [], results: [I32] },
  { name: 'jitFlagsArith', params: [I32, I64, I64, I64, I64], results: [] },
  { name: 'jitFlagsLogic', params: [I64, I64], results: [] },
  { name: 'jitFlagsIncDec', params: [I32, I64, I64, I64, I32], results: [] },
  { name: 'jitFlagsShift', params: [I64, I64, I64], results: [] },
  { name: 'jitCondition', params: [I32], results: [I32] },
  { name: 'jitImul', params: [I64, I64, I32], results: [I64] },
  { name: 'jitSegBase', params: [I32], results: [I64] },
  { name: 'jitGeneralProtection', params: [], results: [] },
  { name: 'jitFlagsTake', params: [I32, I32, I64, I64, I64, I64, I64], results: [] },
  { name: 'jitStore128', params: [I64, I64, I64], results: [I32] },
];
const F_LOAD = 0, F_STORE = 1, F_RMW_STORE = 2, F_EXIT = 3, F_ARITH = 4, F_LOGIC = 5, F_INCDEC = 6, F_SHIFT = 7, F_COND = 8, F_IMUL = 9,
  F_SEG = 10, F_GP = 11, F_TAKE = 12, F_STORE128 = 13;

const PERM_R = 1, PERM_W = 2, PAGE_CODE = 8, PAGE_COW = 16, PAGE_WATCH = 32;
const I_MEM = 1, I_REX = 2, I_REP = 4, I_OPSZ = 32, I_ADDR32 = 64;
const NO_REG = 0xff;
const RAX = 0, RDX = 2, RSP = 4;
const LAZY_ADD = 0, LAZY_SUB = 2;
const ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;
const ALU_KINDS = new Set([ALU_ADD, ALU_OR, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP]);
/** Exit record modes (jit.ts takeCompiledState). */
const MODE_NONE = 0, MODE_ARITH = 1, MODE_LOGIC = 2, MODE_INCDEC = 3, MODE_SHIFT = 4;

const isMem = (e: InsnRecord): boolean => (e.flags & I_MEM) !== 0;
const hasRex = (e: InsnRecord): boolean => (e.flags & I_REX) !== 0;
const sized = (e: InsnRecord): boolean => e.size === 1 || e.size === 2 || e.size === 4 || e.size === 8;

/** Whether the compiler emits this record (anything else ends the compiled prefix). */
export function compilable(e: InsnRecord): boolean {
  switch (e.op) {
    case Op.AluRR64: case Op.AluRR32: case Op.AluRRG64: case Op.AluRRG32: case Op.AluRI64: case Op.AluRI32:
    case Op.JAluRR64: case Op.JAluRR32: case Op.JAluRI64: case Op.JAluRI32: case Op.FAluRI8: case Op.JAluRI8:
    case Op.FAluRM64: case Op.FAluRM32: case Op.JAluRM64: case Op.JAluRM32:
      return ALU_KINDS.has(e.ext);
    case Op.AluEG: case Op.AluGE: case Op.AluEI: case Op.AluAI:
      return ALU_KINDS.has(e.ext) && sized(e);
    case Op.TestEG: case Op.TestAI: case Op.MovEG: case Op.MovGE: case Op.MovEI: case Op.MovRI: case Op.Cbw: case Op.Cwd:
      return sized(e) && (e.op !== Op.Cbw || e.size >= 2) && (e.op !== Op.Cwd || e.size >= 2);
    case Op.Grp3: return e.ext <= 1 && sized(e); // test E, imm
    case Op.Grp4: case Op.Grp5: return e.ext <= 1 && sized(e); // inc, dec
    case Op.MovzxB: case Op.MovzxW: case Op.MovsxB: case Op.MovsxW: case Op.Movsxd:
      return e.size === 2 || e.size === 4 || e.size === 8;
    case Op.FCmpMR: case Op.JCmpMR: case Op.FCmpMI: case Op.JCmpMI:
    case Op.LoadR64: case Op.StoreR64:
    case Op.IncR64: case Op.IncR32: case Op.DecR64: case Op.DecR32: case Op.JDecR64: case Op.JDecR32:
    case Op.MovRR64: case Op.MovRR32:
    case Op.FJcc: case Op.FJmp: case Op.FCall: case Op.FRet: case Op.FPush64: case Op.FPop64:
    case Op.FLea64: case Op.FLea32: case Op.FLoad32: case Op.FStore32: case Op.FStore8:
    case Op.FLoadZX8: case Op.FLoadSX8: case Op.FLoadZX16: case Op.FLoadSX16:
    case Op.FMovzxR8: case Op.FMovsxdR: case Op.FMovRI:
    case Op.FTestRR64: case Op.FTestRR32: case Op.FTestRR8: case Op.JTestRR64: case Op.JTestRR32: case Op.JTestRR8:
    case Op.FShiftRI64: case Op.FShiftRI32: case Op.FCmovRR64: case Op.FCmovRR32: case Op.FSetccR:
    case Op.FImulRR64: case Op.FImulRR32: case Op.FImulRRI64: case Op.FImulRRI32:
    case Op.FXmmLoadA: case Op.FXmmLoadU: case Op.FXmmMov: case Op.FPxor: case Op.FPaddD: case Op.FPunpcklDQ: case Op.FPshufd:
    case Op.FPsrlq: case Op.FPsllq: case Op.FPmuludq:
    case Op.MovupsStore:
    case Op.Nop:
      return true;
    default:
      return false;
  }
}

export function isBranch(op: number): boolean {
  return op === Op.FJcc || op === Op.FJmp || op === Op.FCall || op === Op.FRet;
}

/** Where the flags are at a point of the block: in the core, or a producer's operands in local set `set`. */
type Producer =
  | { kind: 'arith'; set: number; lazy: number; size: number; incdec: boolean; cf: 'globals' | 'local' }
  | { kind: 'logic'; set: number; size: number }
  | { kind: 'shift'; set: number; size: number };
/**
 * 'canonical': at a block's start inside a region, the flags are the core's, overridden by the
 * record in the canonical locals (cm: exit-record mode, 0 = the core's flags are current).
 */
type FlagState = { kind: 'globals' } | { kind: 'canonical' } | Producer;

const sizeMask = (size: number): bigint => (size === 8 ? (1n << 64n) - 1n : (1n << BigInt(size * 8)) - 1n);
const signBit = (size: number): bigint => 1n << BigInt(size * 8 - 1);

/** Addresses in core memory the compiled code uses. */
export interface CoreLayout {
  gpr: number;
  xmm: number;
  tlbTag: number;
  tlbPte: number;
  /** The exit record (rip, flags) and 16 bytes of scratch at +64. */
  out: number;
}

export class BlockCompiler {
  private readonly c = new Bytes();
  private readonly regLocal: number[] = new Array<number>(16).fill(-1);
  /**
   * Registers written back at every exit: all the region uses (a loop in the region reaches an
   * exit with any of them changed; the unchanged ones store what was loaded).
   */
  private readonly dirty = new Set<number>();
  /** Local types after the parameters (local 0: window left; local 1: the entry block). */
  private readonly localTypes: number[] = [I32, I32];
  private flags: FlagState = { kind: 'globals' };
  private readonly fd: number[];
  private readonly fs: number[];
  private readonly fr: number[];
  private readonly fcf: number[]; // i32: the CF an inc/dec keeps, when known
  private readonly fconc: number[]; // i64: a shift's concrete CF (bit 0) and OF (bit 11)
  private readonly addr: number;
  private readonly val: number;
  private readonly val2: number;
  private readonly vpn: number;
  private readonly off: number; // i32
  private readonly slot: number; // i32
  private readonly pte: number; // i32
  private readonly status: number; // i32
  private readonly stopAfter: number; // i32
  private readonly lane: number[]; // i32 x4
  /** Instructions retired by the region's blocks before the current one. */
  private readonly base: number; // i32
  /** The region block to run next (the parameter: where the region is entered). */
  private readonly cur = 1;
  /** Where an exit goes, and what it retired. */
  private readonly exitRip: number;
  private readonly exitRetired: number;
  /** The canonical flags record: mode, kind (i32), d s r sign extra (i64). */
  private readonly cm: number;
  private readonly ck: number;
  private readonly cq: number[];
  /** The parameter: instructions the run's window leaves (the region goes on to a block only while it fits). */
  private readonly left = 0;
  /** The records of the block being emitted. */
  private records: readonly InsnRecord[] = [];
  /** Block structures enclosing the current code inside the region's block: added to branches to the dispatch loop. */
  private depth = 0;

  constructor(private readonly blocks: readonly { rip: bigint; records: readonly InsnRecord[] }[], private readonly at: CoreLayout) {
    for (const b of blocks) {
      for (const e of b.records) {
        for (const r of registersOf(e)) {
          if (this.regLocal[r] !== -1) continue;
          this.regLocal[r] = this.local(I64);
          this.dirty.add(r);
        }
      }
    }
    this.fd = [this.local(I64), this.local(I64)];
    this.fs = [this.local(I64), this.local(I64)];
    this.fr = [this.local(I64), this.local(I64)];
    this.fconc = [this.local(I64), this.local(I64)];
    this.addr = this.local(I64);
    this.val = this.local(I64);
    this.val2 = this.local(I64);
    this.vpn = this.local(I64);
    this.fcf = [this.local(I32), this.local(I32)];
    this.off = this.local(I32);
    this.slot = this.local(I32);
    this.pte = this.local(I32);
    this.status = this.local(I32);
    this.stopAfter = this.local(I32);
    this.lane = [this.local(I32), this.local(I32), this.local(I32), this.local(I32)];
    this.base = this.local(I32);
    this.exitRip = this.local(I64);
    this.exitRetired = this.local(I32);
    this.cm = this.local(I32);
    this.ck = this.local(I32);
    this.cq = [this.local(I64), this.local(I64), this.local(I64), this.local(I64), this.local(I64)];
  }

  private local(type: number): number {
    this.localTypes.push(type);
    return this.localTypes.length - 1;
  }

  // -- emitting
  private op(...b: number[]): void { this.c.byte(...b); }
  private get(l: number): void { this.c.byte(W.localGet).u32(l); }
  private set(l: number): void { this.c.byte(W.localSet).u32(l); }
  private tee(l: number): void { this.c.byte(W.localTee).u32(l); }
  private i64(v: bigint): void { this.c.byte(W.i64Const).s64(v); }
  private i32(v: number): void { this.c.byte(W.i32Const).s32(v); }
  private call(f: number): void { this.c.byte(W.call).u32(f); }
  private mem(opcode: number, align: number, offset: number): void { this.c.byte(opcode, align).u32(offset); }
  private mask(size: number): void { if (size !== 8) { this.i64(sizeMask(size)); this.op(W.i64And); } }
  private reg(r: number): void { this.get(this.regLocal[r]!); }
  private setReg(r: number): void {
    this.set(this.regLocal[r]!);
    this.dirty.add(r);
  }

  /** Reads GPR n at a size (without REX, byte registers 4..7 are ah..bh), zero-extended. */
  private readReg(n: number, size: number, rex: boolean): void {
    if (size === 1 && !rex && n >= 4 && n < 8) {
      this.reg(n - 4); this.i64(8n); this.op(W.i64ShrU); this.mask(1);
      return;
    }
    this.reg(n); this.mask(size);
  }

  /** Writes the i64 on the stack to GPR n at a size: 32-bit writes zero-extend, 8/16-bit writes merge. */
  private writeReg(n: number, size: number, rex: boolean): void {
    if (size === 8) { this.setReg(n); return; }
    if (size === 4) { this.mask(4); this.setReg(n); return; }
    if (size === 1 && !rex && n >= 4 && n < 8) {
      this.mask(1); this.i64(8n); this.op(W.i64Shl);
      this.reg(n - 4); this.i64(~0xff00n); this.op(W.i64And, W.i64Or);
      this.setReg(n - 4);
      return;
    }
    this.mask(size);
    this.reg(n); this.i64(~sizeMask(size)); this.op(W.i64And, W.i64Or);
    this.setReg(n);
  }

  // -- exits

  /**
   * Leaves the region: rip, the retired count (base + `retired`) and the flags go into locals (for
   * a stop after a store, that instruction's rip into the exit record), then a branch to the shared
   * tail that writes back the registers and the exit record. `nesting`: the structures enclosing
   * this code inside the current record's code.
   */
  private exit(rip: () => void, retired: number, flags: FlagState, accessRip: bigint | undefined, nesting: number): void {
    rip(); this.set(this.exitRip);
    this.get(this.base);
    if (retired) { this.i32(retired); this.op(W.i32Add); }
    this.set(this.exitRetired);
    this.canonicalize(flags);
    if (accessRip !== undefined) { this.i32(this.at.out); this.i64(accessRip); this.mem(W.i64Store, 3, 56); }
    this.op(W.br); this.c.u32(this.depth + 1 + nesting);
  }

  /** The shared exit: registers back to core memory, the exit record from the canonical locals, the retired count. */
  private tail(): void {
    for (const r of this.dirty) {
      this.i32(this.at.gpr + r * 8);
      this.reg(r);
      this.mem(W.i64Store, 3, 0);
    }
    const out = this.at.out;
    this.i32(out); this.get(this.exitRip); this.mem(W.i64Store, 3, 0);
    this.i32(out); this.get(this.cm); this.mem(W.i32Store, 2, 8);
    this.i32(out); this.get(this.ck); this.mem(W.i32Store, 2, 12);
    this.cq.forEach((l, i) => { this.i32(out); this.get(l); this.mem(W.i64Store, 3, 16 + i * 8); });
    this.get(this.exitRetired);
  }

  /** Hands the pending producer to the core's flags now (before a helper that reads or replaces them). */
  private flushFlags(): void {
    const f = this.flags;
    switch (f.kind) {
      case 'globals': return;
      case 'canonical':
        this.get(this.cm); this.get(this.ck); for (const l of this.cq) this.get(l);
        this.call(F_TAKE);
        break;
      case 'arith':
        if (f.incdec) {
          this.i32(f.lazy === LAZY_SUB ? 1 : 0); this.get(this.fd[f.set]!); this.get(this.fr[f.set]!); this.i64(signBit(f.size));
          if (f.cf === 'local') this.get(this.fcf[f.set]!); else this.i32(-1);
          this.call(F_INCDEC);
        } else {
          this.i32(f.lazy); this.get(this.fd[f.set]!); this.get(this.fs[f.set]!); this.get(this.fr[f.set]!); this.i64(signBit(f.size));
          this.call(F_ARITH);
        }
        break;
      case 'logic':
        this.get(this.fr[f.set]!); this.i64(signBit(f.size)); this.call(F_LOGIC);
        break;
      case 'shift':
        this.get(this.fr[f.set]!); this.i64(signBit(f.size)); this.get(this.fconc[f.set]!); this.call(F_SHIFT);
        break;
    }
    this.flags = { kind: 'globals' };
  }

  /** The local set the next producer writes (the other one than the pending producer's). */
  private nextSet(): number {
    return this.flags.kind === 'globals' || this.flags.kind === 'canonical' ? 0 : this.flags.set ^ 1;
  }

  /** Moves the flags into the canonical locals (at the end of a region block). */
  private toCanonical(): void {
    this.canonicalize(this.flags);
    this.flags = { kind: 'canonical' };
  }

  /** Writes flags state `f` into the canonical locals. */
  private canonicalize(f: FlagState): void {
    const set = (mode: number, kind: number, d: (() => void) | null, s: (() => void) | null, r: number, size: number, extra: (() => void) | null): void => {
      this.i32(mode); this.set(this.cm);
      this.i32(kind); this.set(this.ck);
      if (d) { d(); this.set(this.cq[0]!); }
      if (s) { s(); this.set(this.cq[1]!); }
      this.get(r); this.set(this.cq[2]!);
      this.i64(signBit(size)); this.set(this.cq[3]!);
      if (extra) { extra(); this.set(this.cq[4]!); }
    };
    switch (f.kind) {
      case 'canonical': return;
      case 'globals': this.i32(MODE_NONE); this.set(this.cm); break;
      case 'arith':
        if (f.incdec) {
          set(MODE_INCDEC, f.lazy, () => this.get(this.fd[f.set]!), null, this.fr[f.set]!, f.size,
            () => { if (f.cf === 'local') { this.get(this.fcf[f.set]!); this.op(W.i64ExtendI32U); } else this.i64(-1n); });
        } else {
          set(MODE_ARITH, f.lazy, () => this.get(this.fd[f.set]!), () => this.get(this.fs[f.set]!), this.fr[f.set]!, f.size, null);
        }
        break;
      case 'logic': set(MODE_LOGIC, 0, null, null, this.fr[f.set]!, f.size, null); break;
      case 'shift': set(MODE_SHIFT, 0, null, null, this.fr[f.set]!, f.size, () => this.get(this.fconc[f.set]!)); break;
    }
  }

  // -- conditions

  /** i32 0/1: bit `top` of the i64 on the stack. */
  private bitAt(top: number): void {
    this.i64(BigInt(top)); this.op(W.i64ShrU, W.i32WrapI64); this.i32(1); this.op(W.i32And);
  }
  private signExtendTo64(size: number): void {
    if (size === 4) this.op(W.i64Extend32S); else if (size === 2) this.op(W.i64Extend16S); else if (size === 1) this.op(W.i64Extend8S);
  }

  /** i32 0/1: condition code cc, as flags.ts condition() computes it. */
  private condition(cc: number): void {
    const f = this.flags;
    const c = cc >> 1;
    if (f.kind === 'globals' || f.kind === 'canonical' || f.kind === 'shift' || (f.kind === 'arith' && f.incdec && f.cf === 'globals' && (c === 1 || c === 3))) {
      this.flushFlags();
      this.i32(cc);
      this.call(F_COND);
      return;
    }
    const d = this.fd[f.set]!, s = this.fs[f.set]!, r = this.fr[f.set]!;
    const size = f.size;
    const zf = (): void => { this.get(r); this.op(W.i64Eqz); };
    const sf = (): void => { this.get(r); this.bitAt(size * 8 - 1); };
    const pf = (): void => { this.get(r); this.i64(0xffn); this.op(W.i64And, W.i64Popcnt, W.i32WrapI64); this.i32(1); this.op(W.i32And, W.i32Eqz); };
    const cf = (): void => {
      if (f.kind === 'logic') this.i32(0);
      else if (f.incdec) this.get(this.fcf[f.set]!);
      else if (f.lazy === LAZY_ADD) { this.get(r); this.get(d); this.op(W.i64LtU); }
      else { this.get(d); this.get(s); this.op(W.i64LtU); }
    };
    const of = (): void => {
      if (f.kind === 'logic') { this.i32(0); return; }
      if (f.lazy === LAZY_ADD) { this.get(d); this.get(r); this.op(W.i64Xor); this.get(s); this.get(r); this.op(W.i64Xor, W.i64And); }
      else { this.get(d); this.get(s); this.op(W.i64Xor); this.get(d); this.get(r); this.op(W.i64Xor, W.i64And); }
      this.bitAt(size * 8 - 1);
    };
    const sub = f.kind === 'arith' && f.lazy === LAZY_SUB && !f.incdec;
    const signed = (cmp: number): void => { this.get(d); this.signExtendTo64(size); this.get(s); this.signExtendTo64(size); this.op(cmp); };
    switch (c) {
      case 0: of(); break;
      case 1: cf(); break;
      case 2: zf(); break;
      case 3: if (sub) { this.get(d); this.get(s); this.op(W.i64LeU); } else { cf(); zf(); this.op(W.i32Or); } break;
      case 4: sf(); break;
      case 5: pf(); break;
      case 6: if (sub) signed(W.i64LtS); else { sf(); of(); this.op(W.i32Ne); } break;
      default: if (sub) signed(W.i64LeS); else { zf(); sf(); of(); this.op(W.i32Ne, W.i32Or); }
    }
    if (cc & 1) this.op(W.i32Eqz);
  }

  // -- flag producers (each computes into the next local set and returns the state; the caller commits it)

  /** `kind` on (d, s) at size; the result is left in fr[set]. */
  private alu(kind: number, size: number, d: () => void, s: () => void): Producer {
    const set = this.nextSet();
    d(); this.mask(size); this.set(this.fd[set]!);
    s(); this.mask(size); this.set(this.fs[set]!);
    this.get(this.fd[set]!); this.get(this.fs[set]!);
    switch (kind) {
      case ALU_ADD: this.op(W.i64Add); break;
      case ALU_OR: this.op(W.i64Or); break;
      case ALU_AND: this.op(W.i64And); break;
      case ALU_XOR: this.op(W.i64Xor); break;
      default: this.op(W.i64Sub); // sub, cmp
    }
    if (kind === ALU_ADD || kind === ALU_SUB || kind === ALU_CMP) this.mask(size);
    this.set(this.fr[set]!);
    return kind === ALU_ADD || kind === ALU_SUB || kind === ALU_CMP
      ? { kind: 'arith', set, lazy: kind === ALU_ADD ? LAZY_ADD : LAZY_SUB, size, incdec: false, cf: 'local' }
      : { kind: 'logic', set, size };
  }

  /** inc/dec of the value `d` at size (CF kept); the result is left in fr[set]. */
  private incDec(dec: boolean, size: number, d: () => void): Producer {
    const set = this.nextSet();
    // The CF this inc/dec keeps: from the pending producer, else from the core's flags at the exit.
    if (this.flags.kind === 'canonical') this.flushFlags();
    const f = this.flags;
    let cf: 'globals' | 'local' = 'local';
    switch (f.kind) {
      case 'globals': case 'canonical': cf = 'globals'; break;
      case 'logic': this.i32(0); this.set(this.fcf[set]!); break;
      case 'shift': this.get(this.fconc[f.set]!); this.op(W.i32WrapI64); this.i32(1); this.op(W.i32And); this.set(this.fcf[set]!); break;
      case 'arith':
        if (f.incdec) {
          cf = f.cf;
          if (cf === 'local') { this.get(this.fcf[f.set]!); this.set(this.fcf[set]!); }
        } else {
          if (f.lazy === LAZY_ADD) { this.get(this.fr[f.set]!); this.get(this.fd[f.set]!); } else { this.get(this.fd[f.set]!); this.get(this.fs[f.set]!); }
          this.op(W.i64LtU); this.set(this.fcf[set]!);
        }
    }
    d(); this.mask(size); this.set(this.fd[set]!);
    this.i64(1n); this.set(this.fs[set]!);
    this.get(this.fd[set]!); this.i64(1n); this.op(dec ? W.i64Sub : W.i64Add); this.mask(size); this.set(this.fr[set]!);
    return { kind: 'arith', set, lazy: dec ? LAZY_SUB : LAZY_ADD, size, incdec: true, cf };
  }

  private logic(size: number, v: () => void): Producer {
    const set = this.nextSet();
    v(); this.mask(size); this.set(this.fr[set]!);
    return { kind: 'logic', set, size };
  }

  // -- memory

  /** The effective address of e's memory operand (with an fs/gs base) into `addr`. */
  private address(e: InsnRecord): void {
    this.i64(e.disp);
    if (e.base !== NO_REG) { this.reg(e.base); this.op(W.i64Add); }
    if (e.index !== NO_REG) { this.reg(e.index); if (e.scale) { this.i64(BigInt(e.scale)); this.op(W.i64Shl); } this.op(W.i64Add); }
    if (e.flags & I_ADDR32) { this.i64(0xffffffffn); this.op(W.i64And); }
    if (e.seg) { this.i32(e.seg); this.call(F_SEG); this.op(W.i64Add); }
    this.set(this.addr);
  }

  /** The TLB hit path: leaves the host address (i32), or branches out of the enclosing block (the slow path). */
  private tlbHit(size: number, store: boolean): void {
    this.get(this.addr); this.op(W.i32WrapI64); this.i32(0xfff); this.op(W.i32And); this.tee(this.off);
    this.i32(4096 - size); this.op(W.i32GtU, W.brIf, 0);
    this.get(this.addr); this.i64(12n); this.op(W.i64ShrU); this.tee(this.vpn);
    this.op(W.i32WrapI64); this.i32(255); this.op(W.i32And); this.set(this.slot);
    this.get(this.slot); this.i32(3); this.op(W.i32Shl); this.mem(W.i64Load, 3, this.at.tlbTag);
    this.get(this.vpn); this.op(W.i64Ne, W.brIf, 0);
    this.get(this.slot); this.i32(2); this.op(W.i32Shl); this.mem(W.i32Load, 2, this.at.tlbPte); this.tee(this.pte);
    if (store) { this.i32(PERM_W | PAGE_CODE | PAGE_COW | PAGE_WATCH); this.op(W.i32And); this.i32(PERM_W); this.op(W.i32Ne, W.brIf, 0); }
    else { this.i32(PERM_R); this.op(W.i32And, W.i32Eqz, W.brIf, 0); }
    this.get(this.pte); this.i32(~0xfff); this.op(W.i32And); this.get(this.off); this.op(W.i32Add);
  }

  /** Loads `size` bytes at `addr`, zero-extended; a fault leaves the block at record k (not retired). */
  private load(size: number, k: number): void {
    const rip = this.records[k]!.rip;
    this.op(W.block, I64, W.block, EMPTY);
    this.tlbHit(size, false);
    this.mem(size === 8 ? W.i64Load : size === 4 ? W.i64Load32U : size === 2 ? W.i64Load16U : W.i64Load8U, 0, 0);
    this.op(W.br, 1, W.end);
    this.get(this.addr); this.i32(size); this.call(F_LOAD);
    this.call(F_EXIT);
    this.op(W.if, EMPTY);
    this.exit(() => this.i64(rip), k, this.flags, undefined, 2);
    this.op(W.end, W.end);
  }

  /**
   * Stores the low `size` bytes of `val` at `addr`. A fault leaves the block at record k with the
   * flags `before` (a read-modify-write whose write is refused has not changed them; one that fails
   * later, out of memory, has: `after`); a store that changed code or was logged sets stopAfter.
   */
  private store(size: number, k: number, rmw: boolean, after: FlagState = this.flags): void {
    const rip = this.records[k]!.rip;
    this.op(W.block, EMPTY, W.block, EMPTY);
    this.tlbHit(size, true);
    if (size === 16) {
      this.tee(this.slot); this.get(this.val); this.mem(W.i64Store, 0, 0);
      this.get(this.slot); this.get(this.val2); this.mem(W.i64Store, 0, 8);
    } else {
      this.get(this.val);
      this.mem(size === 8 ? W.i64Store : size === 4 ? W.i64Store32 : size === 2 ? W.i64Store16 : W.i64Store8, 0, 0);
    }
    this.op(W.br, 1, W.end);
    if (size === 16) { this.get(this.addr); this.get(this.val); this.get(this.val2); this.call(F_STORE128); }
    else { this.get(this.addr); this.i32(size); this.get(this.val); this.call(rmw ? F_RMW_STORE : F_STORE); }
    this.tee(this.status);
    this.op(W.if, EMPTY);
    this.get(this.status); this.i32(1); this.op(W.i32Eq, W.if, EMPTY);
    this.exit(() => this.i64(rip), k, this.flags, undefined, 3);
    this.op(W.end);
    if (rmw) {
      this.get(this.status); this.i32(3); this.op(W.i32Eq, W.if, EMPTY);
      this.exit(() => this.i64(rip), k, after, undefined, 3);
      this.op(W.end);
    }
    this.i32(1); this.set(this.stopAfter);
    this.op(W.end, W.end);
  }

  /** #GP unless `addr` is 16-byte aligned (movdqa and 16-byte SSE memory operands). */
  private aligned16(k: number): void {
    const rip = this.records[k]!.rip;
    this.get(this.addr); this.op(W.i32WrapI64); this.i32(15); this.op(W.i32And, W.if, EMPTY);
    this.call(F_GP);
    this.exit(() => this.i64(rip), k, this.flags, undefined, 1);
    this.op(W.end);
  }

  /** The 16-byte SSE source: register rm, or the aligned memory operand copied to scratch; leaves its address in slot. */
  private source16(e: InsnRecord, k: number): void {
    if (!isMem(e)) { this.i32(this.at.xmm + e.rm * 16); this.set(this.slot); return; }
    this.address(e);
    this.aligned16(k);
    this.load(8, k); this.set(this.val);
    this.get(this.addr); this.i64(8n); this.op(W.i64Add); this.set(this.addr);
    this.load(8, k); this.set(this.val2);
    const scratch = this.at.out + 64;
    this.i32(scratch); this.get(this.val); this.mem(W.i64Store, 3, 0);
    this.i32(scratch); this.get(this.val2); this.mem(W.i64Store, 3, 8);
    this.i32(scratch); this.set(this.slot);
  }

  // -- the block

  /**
   * The function body: locals, the prologue loading the registers the region uses, then a dispatch
   * loop over the region's blocks (br_table on `cur`): each block's records, then its transition.
   */
  compile(): number[] {
    const k = this.blocks.length;
    this.op(W.block, EMPTY, W.loop, EMPTY);
    for (let i = 0; i < k; i++) this.op(W.block, EMPTY);
    this.get(this.cur);
    this.op(W.brTable); this.c.u32(k); for (let i = 0; i < k; i++) this.c.u32(i); this.c.u32(0);
    this.op(W.end);
    this.blocks.forEach((b, i) => {
      this.records = b.records;
      this.flags = { kind: 'canonical' };
      this.depth = k - 1 - i; // enclosing block structures between this code and the dispatch loop
      this.body();
      this.transition(b.records[b.records.length - 1]!);
      if (i < k - 1) this.op(W.end);
    });
    this.op(W.end, W.unreachable, W.end); // the loop, then the exit tail's block
    this.tail();
    this.op(W.end);
    const body = new Bytes();
    const groups: number[][] = [];
    let run = 0;
    for (let i = 2; i < this.localTypes.length; i++) {
      run++;
      if (i === this.localTypes.length - 1 || this.localTypes[i + 1] !== this.localTypes[i]) {
        groups.push(new Bytes().u32(run).byte(this.localTypes[i]!).out);
        run = 0;
      }
    }
    body.vec(groups);
    for (let r = 0; r < 16; r++) {
      const l = this.regLocal[r]!;
      if (l !== -1) body.byte(W.i32Const).s32(this.at.gpr + r * 8).byte(W.i64Load, 3, 0, W.localSet).u32(l);
    }
    body.append(this.c.out);
    return body.out;
  }

  /** The records in order, each followed by its stop-after check when it stores. */
  private body(): void {
    const n = this.records.length;
    for (let k = 0; k < n; k++) {
      const e = this.records[k]!;
      const next = e.rip + BigInt(e.len);
      const stores = this.instruction(e, k, next);
      if (stores) {
        // A call's store: the region must not go on into the callee either.
        const after = e.op === Op.FCall ? e.imm : next;
        this.get(this.stopAfter);
        this.op(W.if, EMPTY);
        this.exit(() => this.i64(after), k + 1, this.flags, e.rip, 1);
        this.op(W.end);
      }
    }
  }

  /** After a block's last record: on to the next block (in the region: the dispatch loop; else an exit). */
  private transition(e: InsnRecord): void {
    const n = this.records.length;
    const next = e.rip + BigInt(e.len);
    if (e.op === Op.FRet) {
      this.exit(() => this.get(this.val), n, this.flags, undefined, 0);
      return;
    }
    let status = false;
    if (e.op === Op.FJcc) {
      this.condition(e.ext);
      this.set(this.status);
      status = true;
    }
    this.toCanonical();
    this.get(this.base); this.i32(n); this.op(W.i32Add); this.set(this.base);
    if (status) {
      this.get(this.status);
      this.op(W.if, EMPTY);
      this.goTo(e.imm, 1);
      this.op(W.else);
      this.goTo(next, 1);
      this.op(W.end);
    } else {
      this.goTo(e.op === Op.FJmp || e.op === Op.FCall ? e.imm : next, 0);
    }
  }

  /** Continues at `rip`: its block when the region has it and it fits in the window, else an exit. */
  private goTo(rip: bigint, nested: number): void {
    const j = this.blocks.findIndex((b) => b.rip === rip);
    if (j >= 0) {
      this.get(this.base); this.i32(this.blocks[j]!.records.length); this.op(W.i32Add); this.get(this.left); this.op(W.i32GtU, W.if, EMPTY);
      this.exit(() => this.i64(rip), 0, this.flags, undefined, nested + 1);
      this.op(W.end);
      this.i32(j); this.set(this.cur);
      this.op(W.br); this.c.u32(this.depth + nested);
    } else {
      this.exit(() => this.i64(rip), 0, this.flags, undefined, nested);
    }
  }

  /** Emits record k; true when it may store to memory (the stop-after check follows it). */
  private instruction(e: InsnRecord, k: number, next: bigint): boolean {
    const size = e.size, rex = hasRex(e);
    switch (e.op) {
      case Op.Nop: case Op.FJcc: case Op.FJmp:
        return false;
      // ALU, register forms (fast.ts aluRegisters)
      case Op.AluRR64: case Op.JAluRR64: case Op.AluRR32: case Op.JAluRR32: {
        const w = e.op === Op.AluRR64 || e.op === Op.JAluRR64 ? 8 : 4;
        const p = this.alu(e.ext, w, () => this.reg(e.rm), () => this.reg(e.reg));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.setReg(e.rm); }
        return false;
      }
      case Op.AluRRG64: case Op.AluRRG32: {
        const w = e.op === Op.AluRRG64 ? 8 : 4;
        const p = this.alu(e.ext, w, () => this.reg(e.reg), () => this.reg(e.rm));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.setReg(e.reg); }
        return false;
      }
      case Op.AluRI64: case Op.JAluRI64: case Op.AluRI32: case Op.JAluRI32: {
        const w = e.op === Op.AluRI64 || e.op === Op.JAluRI64 ? 8 : 4;
        const p = this.alu(e.ext, w, () => this.reg(e.rm), () => this.i64(e.imm));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.setReg(e.rm); }
        return false;
      }
      case Op.FAluRI8: case Op.JAluRI8: {
        const p = this.alu(e.ext, 1, () => this.reg(e.rm), () => this.i64(e.imm));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.writeReg(e.rm, 1, true); }
        return false;
      }
      case Op.FAluRM64: case Op.JAluRM64: case Op.FAluRM32: case Op.JAluRM32: {
        const w = e.op === Op.FAluRM64 || e.op === Op.JAluRM64 ? 8 : 4;
        this.address(e);
        this.load(w, k);
        this.set(this.val);
        const p = this.alu(e.ext, w, () => this.reg(e.reg), () => this.get(this.val));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.setReg(e.reg); }
        return false;
      }
      case Op.FCmpMR: case Op.JCmpMR: case Op.FCmpMI: case Op.JCmpMI: {
        this.address(e);
        this.load(size, k);
        this.set(this.val);
        const imm = e.op === Op.FCmpMI || e.op === Op.JCmpMI;
        this.flags = this.alu(ALU_CMP, size, () => this.get(this.val), () => { if (imm) this.i64(e.imm); else this.readReg(e.reg, size, rex); });
        return false;
      }
      // ALU, general forms (alu.ts)
      case Op.AluGE: {
        if (isMem(e)) { this.address(e); this.load(size, k); } else this.readReg(e.rm, size, rex);
        this.set(this.val);
        const p = this.alu(e.ext, size, () => this.readReg(e.reg, size, rex), () => this.get(this.val));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.writeReg(e.reg, size, rex); }
        return false;
      }
      case Op.AluAI: {
        const p = this.alu(e.ext, size, () => this.readReg(RAX, size, false), () => this.i64(e.imm));
        this.flags = p;
        if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.writeReg(RAX, size, false); }
        return false;
      }
      case Op.AluEG: case Op.AluEI: {
        const src = (): void => { if (e.op === Op.AluEI) this.i64(e.imm); else this.readReg(e.reg, size, rex); };
        if (!isMem(e)) {
          const p = this.alu(e.ext, size, () => this.readReg(e.rm, size, rex), src);
          this.flags = p;
          if (e.ext !== ALU_CMP) { this.get(this.fr[p.set]!); this.writeReg(e.rm, size, rex); }
          return false;
        }
        this.address(e);
        this.load(size, k);
        this.set(this.val);
        const after = this.alu(e.ext, size, () => this.get(this.val), src);
        if (e.ext === ALU_CMP) { this.flags = after; return false; }
        this.get(this.fr[after.set]!); this.set(this.val);
        this.store(size, k, true, after);
        this.flags = after;
        return true;
      }
      case Op.Grp4: case Op.Grp5: { // inc, dec E
        const dec = e.ext === 1;
        if (!isMem(e)) {
          const p = this.incDec(dec, size, () => this.readReg(e.rm, size, rex));
          this.flags = p;
          this.get(this.fr[p.set]!); this.writeReg(e.rm, size, rex);
          return false;
        }
        this.address(e);
        this.load(size, k);
        this.set(this.val);
        const after = this.incDec(dec, size, () => this.get(this.val));
        this.get(this.fr[after.set]!); this.set(this.val);
        this.store(size, k, true, after);
        this.flags = after;
        return true;
      }
      case Op.TestEG: case Op.Grp3: case Op.TestAI: {
        if (e.op === Op.TestAI) this.readReg(RAX, size, false);
        else if (isMem(e)) { this.address(e); this.load(size, k); } else this.readReg(e.rm, size, rex);
        this.set(this.val);
        this.flags = this.logic(size, () => {
          this.get(this.val);
          if (e.op === Op.TestEG) this.readReg(e.reg, size, rex); else this.i64(e.imm);
          this.op(W.i64And);
        });
        return false;
      }
      case Op.IncR64: case Op.IncR32: case Op.DecR64: case Op.DecR32: case Op.JDecR64: case Op.JDecR32: {
        const w = e.op === Op.IncR64 || e.op === Op.DecR64 || e.op === Op.JDecR64 ? 8 : 4;
        const dec = e.op !== Op.IncR64 && e.op !== Op.IncR32;
        const p = this.incDec(dec, w, () => this.reg(e.rm));
        this.flags = p;
        this.get(this.fr[p.set]!); this.setReg(e.rm);
        return false;
      }
      // moves
      case Op.MovRR64: this.reg(e.reg); this.setReg(e.rm); return false;
      case Op.MovRR32: this.reg(e.reg); this.mask(4); this.setReg(e.rm); return false;
      case Op.LoadR64: this.address(e); this.load(8, k); this.setReg(e.reg); return false;
      case Op.FLoad32: this.address(e); this.load(4, k); this.setReg(e.reg); return false;
      case Op.FLoadZX8: case Op.FLoadSX8: case Op.FLoadZX16: case Op.FLoadSX16: {
        const from = e.op === Op.FLoadZX8 || e.op === Op.FLoadSX8 ? 1 : 2;
        this.address(e);
        this.load(from, k);
        if (e.op === Op.FLoadSX8 || e.op === Op.FLoadSX16) { this.signExtendTo64(from); if (size === 4) this.mask(4); }
        this.setReg(e.reg);
        return false;
      }
      case Op.StoreR64: this.address(e); this.reg(e.reg); this.set(this.val); this.store(8, k, false); return true;
      case Op.FStore32: this.address(e); this.reg(e.reg); this.set(this.val); this.store(4, k, false); return true;
      case Op.FStore8: this.address(e); this.reg(e.reg); this.set(this.val); this.store(1, k, false); return true;
      case Op.MovEG: case Op.MovEI: {
        if (e.op === Op.MovEI) this.i64(BigInt.asUintN(64, e.imm) & sizeMask(size)); else this.readReg(e.reg, size, rex);
        if (!isMem(e)) { this.writeReg(e.rm, size, rex); return false; }
        this.set(this.val);
        this.address(e);
        this.store(size, k, false);
        return true;
      }
      case Op.MovGE:
        if (isMem(e)) { this.address(e); this.load(size, k); } else this.readReg(e.rm, size, rex);
        this.writeReg(e.reg, size, rex);
        return false;
      case Op.MovRI: this.i64(e.imm); this.writeReg(e.rm, size, rex); return false;
      case Op.MovzxB: case Op.MovzxW: case Op.MovsxB: case Op.MovsxW: case Op.Movsxd: {
        const from = e.op === Op.MovzxB || e.op === Op.MovsxB ? 1 : e.op === Op.Movsxd ? 4 : 2;
        if (isMem(e)) { this.address(e); this.load(from, k); } else this.readReg(e.rm, from, rex);
        if (e.op === Op.MovsxB || e.op === Op.MovsxW || (e.op === Op.Movsxd && size === 8)) this.signExtendTo64(from);
        this.writeReg(e.reg, size, rex);
        return false;
      }
      case Op.Cbw: // cwde, cdqe (cbw: 16-bit)
        this.readReg(RAX, size >> 1, false); this.signExtendTo64(size >> 1); this.writeReg(RAX, size, false);
        return false;
      case Op.Cwd: // cwd, cdq, cqo
        this.i64(0n); this.reg(RAX); this.i64(BigInt(size * 8 - 1)); this.op(W.i64ShrU); this.i64(1n); this.op(W.i64And, W.i64Sub);
        this.writeReg(RDX, size, false);
        return false;
      case Op.FPush64:
        this.reg(RSP); this.i64(8n); this.op(W.i64Sub); this.set(this.addr);
        this.reg(e.rm); this.set(this.val);
        this.store(8, k, false);
        this.get(this.addr); this.setReg(RSP);
        return true;
      case Op.FPop64:
        this.reg(RSP); this.set(this.addr);
        this.load(8, k); this.set(this.val);
        this.reg(RSP); this.i64(8n); this.op(W.i64Add); this.setReg(RSP);
        this.get(this.val); this.setReg(e.rm);
        return false;
      case Op.FCall:
        this.reg(RSP); this.i64(8n); this.op(W.i64Sub); this.set(this.addr);
        this.i64(next); this.set(this.val);
        this.store(8, k, false);
        this.get(this.addr); this.setReg(RSP);
        return true;
      case Op.FRet:
        this.reg(RSP); this.set(this.addr);
        this.load(8, k); this.set(this.val);
        this.reg(RSP); this.i64(8n); this.op(W.i64Add); this.setReg(RSP);
        return false;
      case Op.FLea64: case Op.FLea32:
        this.i64(e.disp);
        if (e.base !== NO_REG) { this.reg(e.base); this.op(W.i64Add); }
        if (e.index !== NO_REG) { this.reg(e.index); if (e.scale) { this.i64(BigInt(e.scale)); this.op(W.i64Shl); } this.op(W.i64Add); }
        if (e.op === Op.FLea32) this.mask(4);
        this.setReg(e.reg);
        return false;
      case Op.FMovzxR8: this.reg(e.rm); this.mask(1); this.setReg(e.reg); return false;
      case Op.FMovsxdR: this.reg(e.rm); this.op(W.i64Extend32S); this.setReg(e.reg); return false;
      case Op.FMovRI: this.i64(e.imm); this.setReg(e.rm); return false;
      case Op.FTestRR64: case Op.JTestRR64: case Op.FTestRR32: case Op.JTestRR32: case Op.FTestRR8: case Op.JTestRR8: {
        const w = e.op === Op.FTestRR64 || e.op === Op.JTestRR64 ? 8 : e.op === Op.FTestRR32 || e.op === Op.JTestRR32 ? 4 : 1;
        this.flags = this.logic(w, () => { this.reg(e.rm); this.reg(e.reg); this.op(W.i64And); });
        return false;
      }
      case Op.FShiftRI64: case Op.FShiftRI32: {
        const w = e.op === Op.FShiftRI64 ? 8 : 4;
        const top = BigInt(w * 8 - 1);
        const count = e.imm;
        const set = this.nextSet();
        const a = this.fd[set]!, t = this.fs[set]!, r = this.fr[set]!;
        this.reg(e.rm); this.mask(w); this.set(a);
        if (e.ext === 5) { // shr
          this.get(a); this.i64(count - 1n); this.op(W.i64ShrU); this.set(t);
          this.get(t); this.i64(1n); this.op(W.i64ShrU); this.set(r);
          this.get(t); this.i64(1n); this.op(W.i64And);
          this.get(t); this.get(r); this.op(W.i64Xor); this.i64(top); this.op(W.i64ShrU); this.i64(11n); this.op(W.i64Shl, W.i64Or);
        } else if (e.ext === 7) { // sar
          this.get(a); this.signExtendTo64(w); this.i64(count - 1n); this.op(W.i64ShrS); this.mask(w); this.set(t);
          this.get(t); this.signExtendTo64(w); this.i64(1n); this.op(W.i64ShrS); this.mask(w); this.set(r);
          this.get(t); this.i64(1n); this.op(W.i64And);
        } else { // shl, sal
          this.get(a); this.i64(count - 1n); this.op(W.i64Shl); this.mask(w); this.set(t);
          this.get(t); this.i64(1n); this.op(W.i64Shl); this.mask(w); this.set(r);
          this.get(t); this.i64(top); this.op(W.i64ShrU); this.i64(1n); this.op(W.i64And);
          this.get(t); this.get(r); this.op(W.i64Xor); this.i64(top); this.op(W.i64ShrU); this.i64(1n); this.op(W.i64And); this.i64(11n); this.op(W.i64Shl, W.i64Or);
        }
        this.set(this.fconc[set]!);
        this.get(r); this.setReg(e.rm);
        this.flags = { kind: 'shift', set, size: w };
        return false;
      }
      case Op.FCmovRR64: case Op.FCmovRR32:
        this.reg(e.rm); this.reg(e.reg); this.condition(e.ext); this.op(W.select);
        if (e.op === Op.FCmovRR32) this.mask(4);
        this.setReg(e.reg);
        return false;
      case Op.FSetccR:
        this.condition(e.ext); this.op(W.i64ExtendI32U); this.writeReg(e.rm, 1, true);
        return false;
      case Op.FImulRR64: case Op.FImulRR32: case Op.FImulRRI64: case Op.FImulRRI32: {
        const w = e.op === Op.FImulRR64 || e.op === Op.FImulRRI64 ? 8 : 4;
        this.flushFlags(); // the core's multiply sets them
        if (e.op === Op.FImulRR64 || e.op === Op.FImulRR32) { this.reg(e.reg); this.reg(e.rm); } else { this.reg(e.rm); this.i64(e.imm); }
        this.i32(w); this.call(F_IMUL);
        this.mask(w);
        this.setReg(e.reg);
        return false;
      }
      // SSE2 fast forms (fast.ts): xmm registers stay in core memory
      case Op.FXmmMov: {
        const d = this.at.xmm + e.reg * 16, s = this.at.xmm + e.rm * 16;
        this.i32(s); this.mem(W.i64Load, 3, 0); this.set(this.val);
        this.i32(s); this.mem(W.i64Load, 3, 8); this.set(this.val2);
        this.i32(d); this.get(this.val); this.mem(W.i64Store, 3, 0);
        this.i32(d); this.get(this.val2); this.mem(W.i64Store, 3, 8);
        return false;
      }
      case Op.FXmmLoadA: case Op.FXmmLoadU: {
        const d = this.at.xmm + e.reg * 16;
        this.address(e);
        if (e.op === Op.FXmmLoadA) this.aligned16(k);
        this.load(8, k); this.set(this.val);
        this.get(this.addr); this.i64(8n); this.op(W.i64Add); this.set(this.addr);
        this.load(8, k); this.set(this.val2);
        this.i32(d); this.get(this.val); this.mem(W.i64Store, 3, 0);
        this.i32(d); this.get(this.val2); this.mem(W.i64Store, 3, 8);
        return false;
      }
      case Op.FPxor: {
        const d = this.at.xmm + e.reg * 16;
        this.source16(e, k);
        for (const o of [0, 8]) {
          this.i32(d); this.i32(d); this.mem(W.i64Load, 3, o); this.get(this.slot); this.mem(W.i64Load, 3, o); this.op(W.i64Xor); this.mem(W.i64Store, 3, o);
        }
        return false;
      }
      case Op.FPaddD: {
        const d = this.at.xmm + e.reg * 16;
        this.source16(e, k);
        for (const o of [0, 4, 8, 12]) {
          this.i32(d); this.i32(d); this.mem(W.i32Load, 2, o); this.get(this.slot); this.mem(W.i32Load, 2, o); this.op(W.i32Add); this.mem(W.i32Store, 2, o);
        }
        return false;
      }
      case Op.FPunpcklDQ: {
        const d = this.at.xmm + e.reg * 16;
        this.source16(e, k);
        this.i32(d); this.mem(W.i32Load, 2, 0); this.set(this.lane[0]!);
        this.i32(d); this.mem(W.i32Load, 2, 4); this.set(this.lane[1]!);
        this.get(this.slot); this.mem(W.i32Load, 2, 0); this.set(this.lane[2]!);
        this.get(this.slot); this.mem(W.i32Load, 2, 4); this.set(this.lane[3]!);
        [0, 2, 1, 3].forEach((l, i) => { this.i32(d); this.get(this.lane[l]!); this.mem(W.i32Store, 2, i * 4); });
        return false;
      }
      case Op.FPshufd: {
        const d = this.at.xmm + e.reg * 16;
        const imm = Number(e.imm & 0xffn);
        this.source16(e, k);
        for (let i = 0; i < 4; i++) { this.get(this.slot); this.mem(W.i32Load, 2, ((imm >> (2 * i)) & 3) * 4); this.set(this.lane[i]!); }
        for (let i = 0; i < 4; i++) { this.i32(d); this.get(this.lane[i]!); this.mem(W.i32Store, 2, i * 4); }
        return false;
      }
      case Op.FPmuludq: {
        const d = this.at.xmm + e.reg * 16;
        this.source16(e, k);
        for (const o of [0, 8]) {
          this.i32(d); this.mem(W.i64Load32U, 2, o); this.get(this.slot); this.mem(W.i64Load32U, 2, o); this.op(W.i64Mul); this.set(o === 0 ? this.val : this.val2);
        }
        this.i32(d); this.get(this.val); this.mem(W.i64Store, 3, 0);
        this.i32(d); this.get(this.val2); this.mem(W.i64Store, 3, 8);
        return false;
      }
      case Op.MovupsStore: { // movups/movaps/movdqu/movdqa xmm/m128, xmm (sse-move.ts movStore128)
        const src = this.at.xmm + e.reg * 16;
        this.i32(src); this.mem(W.i64Load, 3, 0); this.set(this.val);
        this.i32(src); this.mem(W.i64Load, 3, 8); this.set(this.val2);
        if (!isMem(e)) {
          const d = this.at.xmm + e.rm * 16;
          this.i32(d); this.get(this.val); this.mem(W.i64Store, 3, 0);
          this.i32(d); this.get(this.val2); this.mem(W.i64Store, 3, 8);
          return false;
        }
        this.address(e);
        const aligned = e.opcode === 0x28 || e.opcode === 0x29 || ((e.opcode === 0x6f || e.opcode === 0x7f) && (e.flags & I_OPSZ) !== 0 && (e.flags & I_REP) === 0);
        if (aligned) this.aligned16(k);
        this.store(16, k, false);
        return true;
      }
      case Op.FPsrlq: case Op.FPsllq: {
        const d = this.at.xmm + e.rm * 16;
        const count = e.imm & 0xffn;
        for (const o of [0, 8]) {
          this.i32(d);
          if (count >= 64n) this.i64(0n);
          else { this.i32(d); this.mem(W.i64Load, 3, o); this.i64(count); this.op(e.op === Op.FPsrlq ? W.i64ShrU : W.i64Shl); }
          this.mem(W.i64Store, 3, o);
        }
        return false;
      }
      default:
        throw new Error(`wasm-jit: record op ${e.op} at 0x${e.rip.toString(16)} is not compilable`);
    }
  }
}

/** Every GPR a record may read or write (the prologue loads them once). */
function registersOf(e: InsnRecord): number[] {
  const regs: number[] = [];
  const add = (r: number): void => {
    if (r === NO_REG || r >= 16) return;
    regs.push(r);
    if (r >= 4 && r < 8 && !hasRex(e)) regs.push(r - 4); // ah..bh
  };
  switch (e.op) {
    case Op.FJcc: case Op.FJmp: case Op.Nop: break;
    case Op.FCall: case Op.FRet: add(RSP); break;
    case Op.FPush64: case Op.FPop64: add(RSP); add(e.rm); break;
    case Op.Cbw: case Op.Cwd: case Op.AluAI: case Op.TestAI: add(RAX); add(RDX); break;
    case Op.FXmmMov: case Op.FPsrlq: case Op.FPsllq: break;
    default:
      add(e.base); add(e.index);
      if ((e.op < Op.FXmmLoadA || e.op > Op.FPmuludq) && e.op !== Op.MovupsStore) { add(e.reg); add(e.rm); }
  }
  return regs;
}
