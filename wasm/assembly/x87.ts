// x87 floating point (D8..DF), enough for `long double` code in libc/libstdc++: loads and stores
// of m32/m64/m80 and integers, arithmetic, compares into flags or C0..C3, fxch, constants,
// control word, environment. Registers hold exact 80-bit values; arithmetic is the software
// extended precision of x87-float.ts, honouring the control word's precision and rounding
// control. Exceptions are always masked (the masked response is delivered) and recorded in the
// status word's sticky bits; C1 reports round-up, and stack overflow/underflow set SF and IE.

import { Insn, I_MEM } from './insn';
import { Cpu, writeReg, RAX } from './state';
import { CF, PF, ZF, SF, AF, OF, Flags, materialize } from './flags';
import { ea } from './operands';
import { readMem, writeMem, checkWritable } from './mmu';
import * as F from './x87-float';

/** Physical registers R0..R7 (ST(i) = R[(top + i) & 7]), 16 bytes each: significand u64, sign/exponent u16. */
const REGS: usize = memory.data(8 * 16, 16);

export class Fpu {
  static top: u32 = 0;
  /** Bit i set: R[i] holds a value (tag != empty). */
  static valid: u32 = 0;
  static control: u32 = 0x37f;
  /** Status word without TOP (C0..C3 and the sticky bits). */
  static status: u32 = 0;
}

/** Size of the x87 state image the host keeps in a saved context (see saveFpuState). */
export const FPU_STATE_SIZE: u32 = 144;

/**
 * Writes the whole x87 state to `dst`: R0..R7 as 16-byte slots (physical order; the 10-byte
 * extended value then 6 zero bytes), then TOP, the valid (non-empty tag) bits, the control word
 * and the status word without TOP, as u32 each.
 */
export function saveFpuState(dst: usize): void {
  memory.copy(dst, REGS, 128);
  store<u32>(dst, Fpu.top, 128);
  store<u32>(dst, Fpu.valid, 132);
  store<u32>(dst, Fpu.control, 136);
  store<u32>(dst, Fpu.status, 140);
}

/** The inverse of saveFpuState. */
export function loadFpuState(src: usize): void {
  memory.copy(REGS, src, 128);
  for (let r: usize = 0; r < 8; r++) { store<u16>(REGS + (r << 4), 0, 10); store<u32>(REGS + (r << 4), 0, 12); }
  Fpu.top = load<u32>(src, 128) & 7;
  Fpu.valid = load<u32>(src, 132) & 0xff;
  Fpu.control = load<u32>(src, 136) & 0xffff;
  Fpu.status = load<u32>(src, 140) & 0xffff & ~0x3800;
}

const C0: u32 = 0x100, C1: u32 = 0x200, C2: u32 = 0x400, C3: u32 = 0x4000;
const STACK_FAULT: u32 = 0x40;
const INDEF_M: u64 = 0xc000000000000000;
const INDEF_SE: u32 = 0xffff;

@inline function phys(i: u32): u32 {
  return (Fpu.top + i) & 7;
}
@inline function slot(i: u32): usize { return REGS + (<usize>phys(i) << 4); }
@inline function isValid(i: u32): bool { return (Fpu.valid & (1 << phys(i))) != 0; }
@inline function regM(i: u32): u64 { return load<u64>(slot(i)); }
@inline function regSE(i: u32): u32 { return <u32>load<u16>(slot(i), 8); }

function setSt(i: u32, m: u64, se: u32): void {
  const s = slot(i);
  store<u64>(s, m);
  store<u16>(s, <u16>se, 8);
  Fpu.valid |= 1 << phys(i);
}
/** ST(i) = the last x87-float result. */
@inline function setResult(i: u32): void { setSt(i, F.RM, F.RSE); }

/** Stack overflow (C1 = 1) or underflow (C1 = 0): IE and SF, masked response. */
function stackFault(overflow: bool): void {
  F.begin(Fpu.control); // keeps nothing from the operation
  Fpu.status = (Fpu.status & ~C1) | F.IE | STACK_FAULT | (overflow ? C1 : 0);
  faulted = true;
}
/** A stack fault happened in this instruction (its C1 stands; the operation's own C1 does not). */
let faulted = false;

export function push(m: u64, se: u32): void {
  Fpu.top = (Fpu.top - 1) & 7;
  // Stack overflow with IE masked loads the indefinite NaN.
  if (Fpu.valid & (1 << Fpu.top)) { stackFault(true); m = INDEF_M; se = INDEF_SE; }
  setSt(0, m, se);
}
export function pop(): void {
  Fpu.valid &= ~(1 << Fpu.top);
  Fpu.top = (Fpu.top + 1) & 7;
}

// Operands of the current instruction: A (usually ST0) and B.
let AM: u64 = 0, ASE: u32 = 0, BM: u64 = 0, BSE: u32 = 0;
/** ST(i) into A, or the indefinite NaN with a stack underflow when that register is empty. */
function opA(i: u32): void {
  if (isValid(i)) { AM = regM(i); ASE = regSE(i); } else { stackFault(false); AM = INDEF_M; ASE = INDEF_SE; }
}
function opB(i: u32): void {
  if (isValid(i)) { BM = regM(i); BSE = regSE(i); } else { stackFault(false); BM = INDEF_M; BSE = INDEF_SE; }
}

/** Starts an instruction that may raise exceptions. */
function beginOp(): void {
  F.begin(Fpu.control);
  faulted = false;
}
/** Merges the operation's exceptions into the status word; C1 = rounded up unless a stack fault set it. */
function endOp(): void {
  let s = Fpu.status | F.EXC;
  if (!faulted) s = (s & ~C1) | (F.UP ? C1 : 0);
  if (s & ~Fpu.control & 0x3f) s |= 0x8080; // an unmasked exception pending: ES and B
  Fpu.status = s;
}

export function statusWord(): u32 {
  return (Fpu.status & ~0x3800) | (Fpu.top << 11);
}

/** Tag of physical register r: 0 valid, 1 zero, 2 special, 3 empty. */
function tagOf(r: u32): u32 {
  if ((Fpu.valid & (1 << r)) == 0) return 3;
  const m = load<u64>(REGS + (<usize>r << 4));
  const e = <u32>load<u16>(REGS + (<usize>r << 4), 8) & 0x7fff;
  if (e == 0) return m == 0 ? 1 : 2;
  return e == 0x7fff || (m >> 63) == 0 ? 2 : 0;
}

/** Full 16-bit tag word: 00 valid, 01 zero, 10 special, 11 empty. */
export function tagWord(): u32 {
  let t: u32 = 0;
  for (let r: u32 = 0; r < 8; r++) t |= tagOf(r) << (r * 2);
  return t;
}

/** ST(i) as its 10-byte encoding for the host: significand then sign/exponent. */
export function stMant(i: u32): u64 { return regM(i); }
export function stSignExp(i: u32): u32 { return regSE(i); }

// ---- arithmetic -------------------------------------------------------------------------------

/** A op B for /reg 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr; result in F.RM/F.RSE. */
function arith(kind: u32): void {
  switch (kind) {
    case 0: F.add(AM, ASE, BM, BSE, false); return;
    case 1: F.mul(AM, ASE, BM, BSE); return;
    case 4: F.add(AM, ASE, BM, BSE, true); return;
    case 5: F.add(BM, BSE, AM, ASE, true); return;
    case 6: F.div(AM, ASE, BM, BSE); return;
    default: F.div(BM, BSE, AM, ASE); return;
  }
}

/** fcom family on A, B: C3 C2 C0 = 000 greater, 001 less, 100 equal, 111 unordered; C1 = 0. */
function compareToStatus(quiet: bool): void {
  const r = F.compare(AM, ASE, BM, BSE, quiet);
  const c: u32 = r == 2 ? C3 | C2 | C0 : r < 0 ? C0 : r == 0 ? C3 : 0;
  endOp();
  Fpu.status = (Fpu.status & ~(C0 | C2 | C3 | (faulted ? 0 : C1))) | c;
}

/** fcomi family: ZF PF CF like ucomisd; OF SF AF cleared; C1 = 0. */
function compareToFlags(quiet: bool): void {
  const r = F.compare(AM, ASE, BM, BSE, quiet);
  let f: u64 = 0;
  if (r == 2) f = ZF | PF | CF;
  else if (r < 0) f = CF;
  else if (r == 0) f = ZF;
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | OF)) | f;
  Flags.mask = 0;
  endOp();
}

/** Loads an m32/m64/m80 float into B (`quiet`: as fld does, see F.fromFloat); false on a fault. */
function loadFloat(a: u64, bytes: u32, quiet: bool = true): bool {
  if (bytes == 10) {
    const mant = readMem(a, 8);
    if (Cpu.exit) return false;
    const se = <u32>readMem(a + 8, 2);
    if (Cpu.exit) return false;
    BM = mant; BSE = se;
    return true;
  }
  const bits = readMem(a, bytes);
  if (Cpu.exit) return false;
  F.fromFloat(bits, bytes, quiet);
  BM = F.RM; BSE = F.RSE;
  return true;
}

function loadInt(a: u64, bytes: u32): bool {
  const v = readMem(a, bytes);
  if (Cpu.exit) return false;
  F.fromInt(bytes == 2 ? <i64>(<i16>v) : bytes == 4 ? <i64>(<i32>v) : <i64>v);
  BM = F.RM; BSE = F.RSE;
  return true;
}

/** Stores A as a float of `bytes` (4, 8, 10); false on a fault (nothing changes then). */
function storeFloat(a: u64, bytes: u32): bool {
  if (bytes == 10) {
    if (!checkWritable(a, 10)) return false;
    writeMem(a, 8, AM);
    writeMem(a + 8, 2, ASE);
    return true;
  }
  F.toFloat(AM, ASE, bytes);
  if (!writeMem(a, bytes, F.RM)) return false;
  endOp();
  return true;
}

/** Integer store (fist/fistp/fisttp): out of range or NaN gives the integer indefinite. */
function storeInt(a: u64, bytes: u32, truncate: bool): bool {
  F.toInt(AM, ASE, bytes, truncate);
  if (!writeMem(a, bytes, F.RM)) return false;
  endOp();
  return true;
}

/** fnstenv/fstenv image (28 bytes, 32-bit layout): control, status, tag; pointers recorded as 0. */
function storeEnvironment(a: u64): bool {
  if (!checkWritable(a, 28)) return false;
  writeMem(a, 4, 0xffff0000 | Fpu.control);
  writeMem(a + 4, 4, 0xffff0000 | statusWord());
  writeMem(a + 8, 4, 0xffff0000 | tagWord());
  for (let o: u64 = 12; o < 28; o += 4) writeMem(a + o, 4, 0);
  return true;
}

function loadEnvironment(a: u64): void {
  const cw = <u32>readMem(a, 2);
  if (Cpu.exit) return;
  const sw = <u32>readMem(a + 4, 2);
  if (Cpu.exit) return;
  const tw = <u32>readMem(a + 8, 2);
  if (Cpu.exit) return;
  Fpu.control = cw;
  Fpu.status = sw & ~0x3800;
  Fpu.top = (sw >> 11) & 7;
  let valid: u32 = 0;
  for (let r: u32 = 0; r < 8; r++) if (((tw >> (r * 2)) & 3) != 3) valid |= 1 << r;
  Fpu.valid = valid;
}

/** fxam: C3 C2 C0 = 101 empty, 001 NaN, 011 inf, 100 zero, 110 denormal, 010 normal, 000 unsupported; C1 = sign. */
function examine(): void {
  let c: u32;
  const m = regM(0), se = regSE(0);
  if (!isValid(0)) c = C3 | C0;
  else {
    const k = F.kind(m, se);
    if (k == F.K_NAN) c = C0;
    else if (k == F.K_INF) c = C2 | C0;
    else if (k == F.K_ZERO) c = C3;
    else if (k == F.K_INVALID) c = 0;
    else if ((se & 0x7fff) == 0) c = C3 | C2;
    else c = C2;
  }
  if (se & 0x8000) c |= C1;
  Fpu.status = (Fpu.status & ~(C0 | C1 | C2 | C3)) | c;
}

export function init(): void {
  Fpu.top = 0;
  Fpu.valid = 0;
  Fpu.control = 0x37f;
  Fpu.status = 0;
}

/** Whether the escape opcode D8..DF with this ModRM form is implemented (the decoder's question). */
export function x87Known(opcode: u32, mod: u32, reg: u32, rm: u32): bool {
  const esc = opcode - 0xd8;
  if (mod != 3) {
    switch (esc) {
      case 0: case 2: case 4: case 6: return true;
      case 1: return reg != 1;
      case 3: return reg != 4 && reg != 6;
      case 5: return reg != 4 && reg != 5 && reg != 6; // frstor/fnsave not implemented
      default: return reg != 4 && reg != 6; // fbld/fbstp not implemented
    }
  }
  const low = ((reg << 3) | rm);
  switch (esc) {
    case 0: case 4: return true;
    case 1: return reg <= 1 || low == 0x10 || low == 0x20 || low == 0x21 || low == 0x24 || low == 0x25 || (low >= 0x28 && low <= 0x2e) || low == 0x3a || low == 0x3c || low == 0x3d;
    case 2: return low == 0x29 || reg <= 3; // fucompp, fcmovb/e/be/u
    case 3: return reg <= 3 || low == 0x22 || low == 0x23 || reg == 5 || reg == 6;
    case 5: return reg == 0 || reg == 2 || reg == 3 || reg == 4 || reg == 5;
    case 6: return reg != 3 || rm == 1;
    default: return low == 0x20 || reg == 5 || reg == 6;
  }
}

/** Executes one x87 instruction (opcode D8..DF). */
export function executeX87(e: Insn): void {
  const esc = <u32>e.opcode - 0xd8;
  const reg = <u32>e.ext;
  beginOp();
  if (e.flags & I_MEM) return memoryForm(e, esc, reg);
  const i = <u32>e.rm & 7;
  const low = (reg << 3) | i;
  switch (esc) {
    case 0: // D8: st0 = st0 op st(i); /2 fcom, /3 fcomp
      opA(0); opB(i);
      if (reg == 2 || reg == 3) { compareToStatus(false); if (reg == 3) pop(); return; }
      arith(reg); setResult(0); endOp();
      return;
    case 1:
      if (reg == 0) { opB(i); push(BM, BSE); clearC1(); return; } // fld st(i)
      if (reg == 1) { // fxch
        opA(0); opB(i);
        setSt(0, BM, BSE); setSt(i, AM, ASE);
        clearC1();
        return;
      }
      switch (low) {
        case 0x10: return; // fnop
        case 0x20: opA(0); setSt(0, AM, ASE ^ 0x8000); clearC1(); return; // fchs
        case 0x21: opA(0); setSt(0, AM, ASE & 0x7fff); clearC1(); return; // fabs
        case 0x24: opA(0); BM = 0; BSE = 0; compareToStatus(false); return; // ftst
        case 0x25: examine(); return;
        case 0x28: F.constant(0x8000000000000000, 0x3fff, 0); break; // fld1
        case 0x29: F.constant(0xd49a784bcd1b8afe, 0x4000, -1); break; // fldl2t
        case 0x2a: F.constant(0xb8aa3b295c17f0bc, 0x3fff, 1); break; // fldl2e
        case 0x2b: F.constant(0xc90fdaa22168c235, 0x4000, 1); break; // fldpi
        case 0x2c: F.constant(0x9a209a84fbcff799, 0x3ffd, 1); break; // fldlg2
        case 0x2d: F.constant(0xb17217f7d1cf79ac, 0x3ffe, 1); break; // fldln2
        case 0x2e: F.constant(0, 0, 0); break; // fldz
        case 0x3a: opA(0); F.sqrt(AM, ASE); setResult(0); endOp(); return;
        case 0x3c: opA(0); F.roundInt(AM, ASE); setResult(0); endOp(); return; // frndint
        default: opA(0); opB(1); F.scale(AM, ASE, BM, BSE); setResult(0); endOp(); return; // 0x3d fscale
      }
      // a constant: push it
      { const m = F.RM, se = F.RSE; push(m, se); clearC1(); }
      return;
    case 2: {
      if (low == 0x29) { opA(0); opB(1); compareToStatus(true); pop(); pop(); return; } // fucompp
      const f = materialize();
      const take = reg == 0 ? (f & CF) != 0 : reg == 1 ? (f & ZF) != 0 : reg == 2 ? (f & (CF | ZF)) != 0 : (f & PF) != 0;
      opB(i);
      if (take) setSt(0, BM, BSE);
      clearC1();
      return;
    }
    case 3: {
      if (low == 0x22) { Fpu.status &= ~0x80ff; return; } // fnclex
      if (low == 0x23) { init(); return; } // fninit
      if (reg == 5 || reg == 6) { opA(0); opB(i); compareToFlags(reg == 5); return; } // fucomi, fcomi
      const f = materialize();
      const take = reg == 0 ? (f & CF) == 0 : reg == 1 ? (f & ZF) == 0 : reg == 2 ? (f & (CF | ZF)) == 0 : (f & PF) == 0;
      opB(i);
      if (take) setSt(0, BM, BSE);
      clearC1();
      return;
    }
    case 4: case 6: { // DC: st(i) = st(i) op st0; DE: the same, then pop. sub/subr and div/divr swap.
      if (esc == 6 && reg == 3) { opA(0); opB(1); compareToStatus(false); pop(); pop(); return; } // fcompp
      if (reg == 2 || reg == 3) { opA(0); opB(i); compareToStatus(false); if (reg == 3 || esc == 6) pop(); return; }
      const kind = reg >= 4 ? reg ^ 1 : reg;
      opA(i); opB(0);
      arith(kind); setResult(i); endOp();
      if (esc == 6) pop();
      return;
    }
    case 5:
      if (reg == 0) { Fpu.valid &= ~(1 << phys(i)); return; } // ffree
      if (reg == 2 || reg == 3) { opA(0); setSt(i, AM, ASE); clearC1(); if (reg == 3) pop(); return; } // fst/fstp st(i)
      opA(0); opB(i); compareToStatus(true); // fucom/fucomp
      if (reg == 5) pop();
      return;
    default: // DF
      if (low == 0x20) { writeReg(RAX, 2, statusWord(), false); return; } // fnstsw ax
      opA(0); opB(i); compareToFlags(reg == 5); // fucomip, fcomip
      pop();
      return;
  }
}

/** C1 = 0 unless a stack fault in this instruction set it. */
function clearC1(): void {
  if (!faulted) Fpu.status &= ~C1;
}

function memoryForm(e: Insn, esc: u32, reg: u32): void {
  const a = ea(e);
  // D8/DC: m32fp/m64fp arithmetic; DA/DE: m32int/m16int arithmetic.
  if ((esc & 1) == 0) {
    const ok = esc == 0 ? loadFloat(a, 4, false) : esc == 4 ? loadFloat(a, 8, false) : esc == 2 ? loadInt(a, 4) : loadInt(a, 2);
    if (!ok) return;
    opA(0);
    if (reg == 2 || reg == 3) { compareToStatus(false); if (reg == 3) pop(); return; }
    arith(reg); setResult(0); endOp();
    return;
  }
  switch (esc) {
    case 1: // D9
      switch (reg) {
        case 0: if (loadFloat(a, 4)) { push(BM, BSE); endOp(); } return;
        case 2: case 3: opA(0); if (storeFloat(a, 4) && reg == 3) pop(); return;
        case 4: loadEnvironment(a); return;
        case 5: { const cw = <u32>readMem(a, 2); if (!Cpu.exit) Fpu.control = cw; return; }
        case 6: if (storeEnvironment(a)) Fpu.control |= 0x3f; return;
        default: writeMem(a, 2, Fpu.control); return;
      }
    case 3: // DB
      switch (reg) {
        case 0: if (loadInt(a, 4)) { push(BM, BSE); clearC1(); } return;
        case 1: opA(0); if (storeInt(a, 4, true)) pop(); return;
        case 2: case 3: opA(0); if (storeInt(a, 4, false) && reg == 3) pop(); return;
        case 5: if (loadFloat(a, 10)) { push(BM, BSE); clearC1(); } return;
        default: opA(0); if (storeFloat(a, 10)) { clearC1(); pop(); } return;
      }
    case 5: // DD
      switch (reg) {
        case 0: if (loadFloat(a, 8)) { push(BM, BSE); endOp(); } return;
        case 1: opA(0); if (storeInt(a, 8, true)) pop(); return;
        case 2: case 3: opA(0); if (storeFloat(a, 8) && reg == 3) pop(); return;
        default: writeMem(a, 2, statusWord()); return; // fnstsw m16
      }
    default: // DF
      switch (reg) {
        case 0: if (loadInt(a, 2)) { push(BM, BSE); clearC1(); } return;
        case 1: opA(0); if (storeInt(a, 2, true)) pop(); return;
        case 2: case 3: opA(0); if (storeInt(a, 2, false) && reg == 3) pop(); return;
        case 5: if (loadInt(a, 8)) { push(BM, BSE); clearC1(); } return;
        default: opA(0); if (storeInt(a, 8, false)) pop(); return;
      }
  }
}

// ---- fxsave / fxrstor (0F AE /0 /1): the 512-byte legacy image, 16-byte aligned ----------------

import { XMM } from './state';
import { generalProtection } from './sse-operands';

export function fxsave(e: Insn): void {
  const a = ea(e);
  if (a & 15) return generalProtection();
  if (!checkWritable(a, 512)) return;
  let abridged: u32 = 0;
  for (let r: u32 = 0; r < 8; r++) if (Fpu.valid & (1 << r)) abridged |= 1 << r;
  writeMem(a, 2, Fpu.control);
  writeMem(a + 2, 2, statusWord());
  writeMem(a + 4, 2, abridged);
  for (let o: u64 = 6; o < 24; o += 2) writeMem(a + o, 2, 0); // FOP, FIP, FDP: not tracked
  writeMem(a + 24, 4, Cpu.mxcsr);
  writeMem(a + 28, 4, 0xffff); // MXCSR_MASK: every bit below 16 writable
  for (let i: u32 = 0; i < 8; i++) {
    const slot = a + 32 + (<u64>i << 4);
    writeMem(slot, 8, regM(i));
    writeMem(slot + 8, 2, regSE(i));
    writeMem(slot + 10, 2, 0);
    writeMem(slot + 12, 4, 0);
  }
  for (let i: u32 = 0; i < 16; i++) {
    writeMem(a + 160 + (<u64>i << 4), 8, load<u64>(XMM + (<usize>i << 4)));
    writeMem(a + 168 + (<u64>i << 4), 8, load<u64>(XMM + (<usize>i << 4), 8));
  }
  // Bytes 416..511 are left as they were, as hardware does.
}

export function fxrstor(e: Insn): void {
  const a = ea(e);
  if (a & 15) return generalProtection();
  const mx = <u32>readMem(a + 24, 4);
  if (Cpu.exit) return;
  if (mx & 0xffff0000) return generalProtection();
  // Read everything before changing any state, so a fault leaves the FPU as it was.
  const values = memory.data(8 * 16 + 16 * 16, 16);
  for (let i: u32 = 0; i < 8; i++) {
    const slot = a + 32 + (<u64>i << 4);
    const mant = readMem(slot, 8);
    if (Cpu.exit) return;
    const se = readMem(slot + 8, 2);
    if (Cpu.exit) return;
    store<u64>(values + (<usize>i << 4), mant);
    store<u64>(values + (<usize>i << 4), se, 8);
  }
  for (let i: u32 = 0; i < 32; i++) {
    const q = readMem(a + 160 + (<u64>i << 3), 8);
    if (Cpu.exit) return;
    store<u64>(values + 128 + (<usize>i << 3), q);
  }
  const cw = <u32>readMem(a, 2), sw = <u32>readMem(a + 2, 2), tag = <u32>readMem(a + 4, 1);
  if (Cpu.exit) return;
  Fpu.control = cw;
  Fpu.status = sw & ~0x3800;
  Fpu.top = (sw >> 11) & 7;
  Fpu.valid = tag & 0xff;
  for (let i: u32 = 0; i < 8; i++) memory.copy(slot(i), values + (<usize>i << 4), 16);
  memory.copy(XMM, values + 128, 256);
  Cpu.mxcsr = mx;
}
