// Fast forms of the hottest instructions: register operands at 32/64 bits and 64-bit loads and
// stores, with the operand size known to the handler so masks and branches fold away. A record
// is switched to one of these Ops when it enters the block cache (fastForm); the semantics are
// those of the general handlers in alu.ts and mov.ts, which a differential test compares.

import { Insn, I_MEM, I_REX, I_ADDR32, I_OPSZ, I_REP } from './insn';
import { sourcePtr, xmmPtr, generalProtection } from './sse-operands';
import { Op } from './ops';
import { Cpu, GPR, RSP, signExtend } from './state';
import { Flags, Lazy, ARITH, CF, OF, AF, setArith, setLogic, setResultFlags, getCF, condition } from './flags';
import { alu, ALU_CMP } from './alu';
import { ea, leaAddress } from './operands';
import { readMem, writeMem, readMem64, writeMem64 } from './mmu';
import { imulTrunc } from './divmul';

@inline function gpr(n: u32): usize {
  return GPR + ((<usize>n) << 3);
}

/** Whether byte register `n` is the low byte of GPR n (with REX, or al/cl/dl/bl; not ah..bh). */
@inline function lowByteReg(e: Insn, n: u32): bool {
  return (e.flags & I_REX) != 0 || n < 4;
}

/** The fast Op for a freshly decoded record, or its own Op when none applies. */
export function fastForm(e: Insn): u32 {
  const op = <u32>e.op;
  const size = <u32>e.size;
  const reg = e.mod == 3;
  const mem = !reg && (e.flags & I_MEM) != 0;
  const wide = size == 8;
  const sized = size == 8 || size == 4;
  const plain = mem && e.seg == 0; // memory operand without an fs/gs base
  switch (op) {
    case Op.AluEG: if (reg && sized) return wide ? Op.AluRR64 : Op.AluRR32; if (mem && e.ext == ALU_CMP) return Op.FCmpMR; break;
    case Op.AluGE:
      if (reg && sized) return wide ? Op.AluRRG64 : Op.AluRRG32;
      if (mem && sized) return wide ? Op.FAluRM64 : Op.FAluRM32;
      break;
    case Op.AluEI:
      if (reg && sized) return wide ? Op.AluRI64 : Op.AluRI32;
      if (reg && size == 1 && lowByteReg(e, e.rm)) return Op.FAluRI8;
      if (mem && e.ext == ALU_CMP) return Op.FCmpMI;
      break;
    case Op.AluAI:
      e.rm = 0; // the accumulator (aluAI ignores rm)
      if (sized) return wide ? Op.AluRI64 : Op.AluRI32;
      if (size == 1) return Op.FAluRI8;
      break;
    case Op.Grp4: case Op.Grp5:
      if (reg && sized && e.ext <= 1) return e.ext == 0 ? (wide ? Op.IncR64 : Op.IncR32) : (wide ? Op.DecR64 : Op.DecR32);
      break;
    case Op.MovEG: case Op.MovGE:
      if (reg && sized) {
        // MovRR copies reg into rm: mov G,E swaps them (realOp keeps the decoded meaning, and a
        // record carrying a breakpoint is never given a fast form).
        if (op == Op.MovGE) { const t = e.rm; e.rm = e.reg; e.reg = t; }
        return wide ? Op.MovRR64 : Op.MovRR32;
      }
      if (plain) {
        if (wide) return op == Op.MovGE ? Op.LoadR64 : Op.StoreR64;
        if (size == 4) return op == Op.MovGE ? Op.FLoad32 : Op.FStore32;
        if (size == 1 && op == Op.MovEG && lowByteReg(e, e.reg)) return Op.FStore8;
      }
      break;
    case Op.Jcc: return Op.FJcc;
    case Op.JmpRel: return Op.FJmp;
    case Op.CallRel: return Op.FCall;
    case Op.Ret: return Op.FRet;
    case Op.PushR: if (wide) return Op.FPush64; break;
    case Op.PopR: if (wide) return Op.FPop64; break;
    case Op.Lea: if (sized && (e.flags & I_ADDR32) == 0) return wide ? Op.FLea64 : Op.FLea32; break;
    case Op.MovzxB: case Op.MovsxB: case Op.MovzxW: case Op.MovsxW:
      if (!sized) break;
      if (plain) return op == Op.MovzxB ? Op.FLoadZX8 : op == Op.MovsxB ? Op.FLoadSX8 : op == Op.MovzxW ? Op.FLoadZX16 : Op.FLoadSX16;
      if (reg && op == Op.MovzxB && lowByteReg(e, e.rm)) return Op.FMovzxR8;
      break;
    case Op.Movsxd: if (reg && wide) return Op.FMovsxdR; break;
    case Op.MovRI:
      if (!sized) break;
      if (!wide) e.imm &= 0xffffffff;
      return Op.FMovRI;
    case Op.TestEG:
      if (!reg) break;
      if (sized) return wide ? Op.FTestRR64 : Op.FTestRR32;
      if (size == 1 && lowByteReg(e, e.rm) && lowByteReg(e, e.reg)) return Op.FTestRR8;
      break;
    case Op.ShiftI: case Op.Shift1: {
      if (!reg || !sized || e.ext < 4) break; // shl sal shr sar
      const count = (op == Op.Shift1 ? 1 : <u32>e.imm) & (wide ? 0x3f : 0x1f);
      if (count == 0) break; // flags untouched: the general handler
      e.imm = count;
      return wide ? Op.FShiftRI64 : Op.FShiftRI32;
    }
    case Op.Cmovcc: if (reg && sized) return wide ? Op.FCmovRR64 : Op.FCmovRR32; break;
    case Op.Setcc: if (reg && lowByteReg(e, e.rm)) return Op.FSetccR; break;
    case Op.ImulGE: if (reg && sized) return wide ? Op.FImulRR64 : Op.FImulRR32; break;
    case Op.ImulGEI: if (reg && sized) return wide ? Op.FImulRRI64 : Op.FImulRRI32; break;
    // SSE2 (a 66 prefix selects these Ops; the forms below need no other check)
    case Op.MovupsLoad:
      if (reg) return Op.FXmmMov;
      if (plain) return alignedLoad(e) ? Op.FXmmLoadA : Op.FXmmLoadU;
      break;
    case Op.Pxor: return Op.FPxor;
    case Op.PaddD: return Op.FPaddD;
    case Op.PunpcklDQ: return Op.FPunpcklDQ;
    case Op.Pshufd: return Op.FPshufd;
    case Op.PshiftQ: if (e.ext == 2) return Op.FPsrlq; if (e.ext == 6) return Op.FPsllq; break;
    case Op.Pmuludq: return Op.FPmuludq;
  }
  return op;
}

/** movaps/movapd (0F 28) and movdqa (66 0F 6F) need 16-byte aligned memory (as sse-move.ts). */
@inline function alignedLoad(e: Insn): bool {
  return e.opcode == 0x28 || (e.opcode == 0x6f && (e.flags & I_OPSZ) != 0 && (e.flags & I_REP) == 0);
}

/** The fused Op for a flags producer `first` whose block ends with a jcc right after it, or 0. */
export function fusedForm(first: u32): u32 {
  switch (first) {
    case Op.AluRR64: return Op.JAluRR64;
    case Op.AluRR32: return Op.JAluRR32;
    case Op.AluRI64: return Op.JAluRI64;
    case Op.AluRI32: return Op.JAluRI32;
    case Op.FTestRR64: return Op.JTestRR64;
    case Op.FTestRR32: return Op.JTestRR32;
    case Op.FTestRR8: return Op.JTestRR8;
    case Op.FAluRI8: return Op.JAluRI8;
    case Op.DecR64: return Op.JDecR64;
    case Op.DecR32: return Op.JDecR32;
    case Op.FCmpMI: return Op.JCmpMI;
    case Op.FCmpMR: return Op.JCmpMR;
    case Op.FAluRM32: return Op.JAluRM32;
    case Op.FAluRM64: return Op.JAluRM64;
  }
  return 0;
}

/** alu dst, src on registers (dst = rm for E,G; dst = reg for G,E). */
@inline export function aluRegisters(kind: u32, dst: u32, b: u64, size: u32): void {
  const r = alu(kind, load<u64>(gpr(dst)), b, size);
  if (kind != ALU_CMP) store<u64>(gpr(dst), r); // a 32-bit result is already zero-extended
}

/** inc/dec register: CF is kept, the rest comes from the lazy add/sub record. */
@inline export function incDecRegister(e: Insn, dec: bool, size: u32): void {
  const p = gpr(e.rm);
  const m: u64 = size == 8 ? <u64>-1 : 0xffffffff;
  const d = load<u64>(p) & m;
  const r = (dec ? d - 1 : d + 1) & m;
  Flags.base = (Flags.base & ~CF) | getCF();
  setArith(dec ? Lazy.Sub : Lazy.Add, d, 1, r, size == 8 ? 0x8000000000000000 : 0x80000000);
  Flags.mask = ARITH & ~CF;
  store<u64>(p, r);
}

@inline export function loadRegister64(e: Insn): void {
  const v = readMem64(ea(e));
  if (Cpu.exit) return;
  store<u64>(gpr(e.reg), v);
}

@inline export function storeRegister64(e: Insn): void {
  writeMem64(ea(e), load<u64>(gpr(e.reg)));
}

/** Effective address of a memory operand known to have no fs/gs base (fast forms check `seg == 0`). */
@inline function eaPlain(e: Insn): u64 {
  let a = e.disp;
  if (e.base != 0xff) a += load<u64>(gpr(e.base));
  if (e.index != 0xff) a += load<u64>(gpr(e.index)) << (<u64>e.scale);
  if (e.flags & I_ADDR32) a &= 0xffffffff;
  return a;
}

@inline export function jccFast(e: Insn): void {
  if (condition(e.ext)) Cpu.rip = e.imm;
}

/** call rel32 (Cpu.rip already holds the return address). */
@inline export function callFast(e: Insn): void {
  const sp = load<u64>(gpr(RSP)) - 8;
  if (writeMem64(sp, Cpu.rip)) {
    store<u64>(gpr(RSP), sp);
    Cpu.rip = e.imm;
  }
}

@inline export function retFast(): void {
  const sp = load<u64>(gpr(RSP));
  const target = readMem64(sp);
  if (Cpu.exit) return;
  store<u64>(gpr(RSP), sp + 8);
  Cpu.rip = target;
}

@inline export function push64(e: Insn): void {
  const sp = load<u64>(gpr(RSP)) - 8;
  if (writeMem64(sp, load<u64>(gpr(e.rm)))) store<u64>(gpr(RSP), sp); // push rsp pushes the old value
}

@inline export function pop64(e: Insn): void {
  const sp = load<u64>(gpr(RSP));
  const v = readMem64(sp);
  if (Cpu.exit) return;
  store<u64>(gpr(RSP), sp + 8);
  store<u64>(gpr(e.rm), v); // pop rsp: the loaded value wins
}

@inline export function lea64(e: Insn): void {
  store<u64>(gpr(e.reg), leaAddress(e));
}
@inline export function lea32(e: Insn): void {
  store<u64>(gpr(e.reg), leaAddress(e) & 0xffffffff);
}

@inline export function load32(e: Insn): void {
  const v = readMem(eaPlain(e), 4);
  if (Cpu.exit) return;
  store<u64>(gpr(e.reg), v);
}
@inline export function store32(e: Insn): void {
  writeMem(eaPlain(e), 4, load<u64>(gpr(e.reg)));
}
@inline export function store8(e: Insn): void {
  writeMem(eaPlain(e), 1, load<u64>(gpr(e.reg)));
}

/** movzx/movsx G, m8/m16 at 32/64 bits (a 32-bit destination is zero-extended). */
@inline export function loadExtend(e: Insn, from: u32, signed: bool): void {
  let v = readMem(eaPlain(e), from);
  if (Cpu.exit) return;
  if (signed) {
    v = signExtend(v, from);
    if (e.size == 4) v &= 0xffffffff;
  }
  store<u64>(gpr(e.reg), v);
}

@inline export function movzxR8(e: Insn): void {
  store<u64>(gpr(e.reg), load<u8>(gpr(e.rm)));
}
@inline export function movsxdR(e: Insn): void {
  store<u64>(gpr(e.reg), <u64><i64>load<i32>(gpr(e.rm)));
}
@inline export function movRI(e: Insn): void {
  store<u64>(gpr(e.rm), e.imm); // a 32-bit immediate was masked when the record was made
}

@inline export function testRR(e: Insn, size: u32): void {
  const m: u64 = size == 8 ? <u64>-1 : size == 4 ? 0xffffffff : 0xff;
  setLogic(load<u64>(gpr(e.rm)) & load<u64>(gpr(e.reg)) & m, size == 8 ? 0x8000000000000000 : size == 4 ? 0x80000000 : 0x80);
}

/** alu r8, imm8 on a low byte register (al, cl, ... or, with REX, spl..r15b). */
@inline export function aluRI8(e: Insn): void {
  const r = alu(e.ext, <u64>load<u8>(gpr(e.rm)), e.imm, 1);
  if (e.ext != ALU_CMP) store<u8>(gpr(e.rm), <u8>r);
}

/** alu G, [mem] at 32/64 bits. */
@inline export function aluRM(e: Insn, size: u32): void {
  const v = readMem(ea(e), size);
  if (Cpu.exit) return;
  aluRegisters(e.ext, e.reg, v, size);
}

/** cmp [mem], G and cmp [mem], imm at any size. */
@inline export function cmpMR(e: Insn): void {
  const size = <u32>e.size;
  const d = readMem(ea(e), size);
  if (Cpu.exit) return;
  alu(ALU_CMP, d, readRegAt(e.reg, size, (e.flags & I_REX) != 0), size);
}
@inline export function cmpMI(e: Insn): void {
  const size = <u32>e.size;
  const d = readMem(ea(e), size);
  if (Cpu.exit) return;
  alu(ALU_CMP, d, e.imm, size);
}
@inline function readRegAt(n: u32, size: u32, rex: bool): u64 {
  if (size == 1 && !rex && n >= 4 && n < 8) return <u64>load<u8>(gpr(n - 4) + 1);
  return load<u64>(gpr(n));
}

/** shl/sal/shr/sar register, count (1..mask, stored in imm when the record was made). */
@inline export function shiftRI(e: Insn, size: u32): void {
  const p = gpr(e.rm);
  const count = e.imm;
  const m: u64 = size == 8 ? <u64>-1 : 0xffffffff;
  const top: u64 = size == 8 ? 63 : 31;
  const sign: u64 = (<u64>1) << top;
  const a = load<u64>(p) & m;
  let r: u64;
  const k = e.ext;
  if (k == 5) { // shr
    const t = a >> (count - 1);
    r = t >> 1;
    setResultFlags(r, sign, CF | OF | AF, (t & 1) | (((t ^ r) >> top) << 11));
  } else if (k == 7) { // sar
    const sa: i64 = size == 8 ? <i64>a : <i64><i32>a;
    const t = <u64>(sa >> <i64>(count - 1)) & m;
    r = <u64>((size == 8 ? <i64>t : <i64><i32>t) >> 1) & m;
    setResultFlags(r, sign, CF | OF | AF, t & 1);
  } else { // shl, sal
    const t = (a << (count - 1)) & m;
    r = (t << 1) & m;
    setResultFlags(r, sign, CF | OF | AF, ((t >> top) & 1) | ((((t ^ r) >> top) & 1) << 11));
  }
  store<u64>(p, r);
}

/** cmovcc G, E on registers (a 32-bit cmov zero-extends the destination even when not taken). */
@inline export function cmovRR(e: Insn, size: u32): void {
  const p = gpr(e.reg);
  const v = condition(e.ext) ? load<u64>(gpr(e.rm)) : load<u64>(p);
  store<u64>(p, size == 8 ? v : v & 0xffffffff);
}

@inline export function setccR(e: Insn): void {
  store<u8>(gpr(e.rm), condition(e.ext) ? 1 : 0);
}

@inline export function imulRR(e: Insn, size: u32): void {
  const r = imulTrunc(load<u64>(gpr(e.reg)), load<u64>(gpr(e.rm)), size);
  store<u64>(gpr(e.reg), size == 8 ? r : r & 0xffffffff);
}
@inline export function imulRRI(e: Insn, size: u32): void {
  const r = imulTrunc(load<u64>(gpr(e.rm)), e.imm, size);
  store<u64>(gpr(e.reg), size == 8 ? r : r & 0xffffffff);
}

// SSE2 fast forms: the same results as sse-move.ts and sse-int.ts, lanes written directly.

/** The 16-byte source: the rm register, or the (16-byte aligned) memory operand copied to scratch; 0 after a fault. */
@inline function source16(e: Insn): usize {
  return (e.flags & I_MEM) != 0 ? sourcePtr(e, 16, true) : xmmPtr(e.rm);
}

/** movdqa/movdqu/movaps/movups xmm, m128. */
@inline export function xmmLoad(e: Insn, aligned: bool): void {
  const a = eaPlain(e);
  if (aligned && (a & 15) != 0) {
    generalProtection();
    return;
  }
  const lo = readMem(a, 8);
  if (Cpu.exit) return;
  const hi = readMem(a + 8, 8);
  if (Cpu.exit) return;
  const d = xmmPtr(e.reg);
  store<u64>(d, lo);
  store<u64>(d, hi, 8);
}

@inline export function xmmMov(e: Insn): void {
  const d = xmmPtr(e.reg), s = xmmPtr(e.rm);
  store<u64>(d, load<u64>(s));
  store<u64>(d, load<u64>(s, 8), 8);
}

@inline export function pxor(e: Insn): void {
  const s = source16(e);
  if (s == 0) return;
  const d = xmmPtr(e.reg);
  store<u64>(d, load<u64>(d) ^ load<u64>(s));
  store<u64>(d, load<u64>(d, 8) ^ load<u64>(s, 8), 8);
}

@inline export function paddd(e: Insn): void {
  const s = source16(e);
  if (s == 0) return;
  const d = xmmPtr(e.reg);
  store<u32>(d, load<u32>(d) + load<u32>(s));
  store<u32>(d, load<u32>(d, 4) + load<u32>(s, 4), 4);
  store<u32>(d, load<u32>(d, 8) + load<u32>(s, 8), 8);
  store<u32>(d, load<u32>(d, 12) + load<u32>(s, 12), 12);
}

@inline export function punpckldq(e: Insn): void {
  const s = source16(e);
  if (s == 0) return;
  const d = xmmPtr(e.reg);
  const d0 = load<u32>(d), d1 = load<u32>(d, 4), s0 = load<u32>(s), s1 = load<u32>(s, 4);
  store<u32>(d, d0);
  store<u32>(d, s0, 4);
  store<u32>(d, d1, 8);
  store<u32>(d, s1, 12);
}

@inline export function pshufd(e: Insn): void {
  const s = source16(e);
  if (s == 0) return;
  const d = xmmPtr(e.reg);
  const imm = <u32>e.imm;
  const r0 = load<u32>(s + ((<usize>(imm & 3)) << 2));
  const r1 = load<u32>(s + ((<usize>((imm >> 2) & 3)) << 2));
  const r2 = load<u32>(s + ((<usize>((imm >> 4) & 3)) << 2));
  const r3 = load<u32>(s + ((<usize>((imm >> 6) & 3)) << 2));
  store<u32>(d, r0);
  store<u32>(d, r1, 4);
  store<u32>(d, r2, 8);
  store<u32>(d, r3, 12);
}

/** psrlq/psllq xmm, imm8 (a count of 64 or more clears the lanes). */
@inline export function pshiftQ(e: Insn, right: bool): void {
  const d = xmmPtr(e.rm);
  const count = e.imm & 0xff;
  if (count >= 64) {
    store<u64>(d, 0);
    store<u64>(d, 0, 8);
    return;
  }
  store<u64>(d, right ? load<u64>(d) >> count : load<u64>(d) << count);
  store<u64>(d, right ? load<u64>(d, 8) >> count : load<u64>(d, 8) << count, 8);
}

@inline export function pmuludqFast(e: Insn): void {
  const s = source16(e);
  if (s == 0) return;
  const d = xmmPtr(e.reg);
  const lo = (<u64>load<u32>(d)) * (<u64>load<u32>(s));
  const hi = (<u64>load<u32>(d, 8)) * (<u64>load<u32>(s, 8));
  store<u64>(d, lo);
  store<u64>(d, hi, 8);
}
