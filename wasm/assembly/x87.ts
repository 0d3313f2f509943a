// x87 floating point (D8..DF), enough for `long double` code in libc/libstdc++: loads and stores
// of m32/m64/m80 and integers, arithmetic, compares into flags or C0..C3, fxch, constants,
// control word, environment. Values are held as f64: an 80-bit operand loses its 11 extra
// mantissa bits and its extra exponent range on load (documented deviation in wasm/README.md);
// stores to m80 are exact for every f64. Exceptions are always masked and never recorded.

import { Insn, I_MEM } from './insn';
import { Cpu, writeReg, RAX } from './state';
import { CF, PF, ZF, SF, AF, OF, Flags, materialize } from './flags';
import { ea } from './operands';
import { readMem, writeMem, checkWritable } from './mmu';

/** Physical registers R0..R7 (ST(i) = R[(top + i) & 7]). */
const REGS: usize = memory.data(8 * 8, 8);

export class Fpu {
  static top: u32 = 0;
  /** Bit i set: R[i] holds a value (tag != empty). */
  static valid: u32 = 0;
  static control: u32 = 0x37f;
  /** Status word without TOP (C0..C3 and the sticky bits). */
  static status: u32 = 0;
}

/** Size of the x87 state image the host keeps in a saved context (see saveFpuState). */
export const FPU_STATE_SIZE: u32 = 80;

/**
 * Writes the whole x87 state to `dst`: R0..R7 as f64 (physical order), then TOP, the valid
 * (non-empty tag) bits, the control word and the status word without TOP, as u32 each.
 */
export function saveFpuState(dst: usize): void {
  memory.copy(dst, REGS, 64);
  store<u32>(dst, Fpu.top, 64);
  store<u32>(dst, Fpu.valid, 68);
  store<u32>(dst, Fpu.control, 72);
  store<u32>(dst, Fpu.status, 76);
}

/** The inverse of saveFpuState. */
export function loadFpuState(src: usize): void {
  memory.copy(REGS, src, 64);
  Fpu.top = load<u32>(src, 64) & 7;
  Fpu.valid = load<u32>(src, 68) & 0xff;
  Fpu.control = load<u32>(src, 72) & 0xffff;
  Fpu.status = load<u32>(src, 76) & 0xffff & ~0x3800;
}

const C0: u32 = 0x100, C1: u32 = 0x200, C2: u32 = 0x400, C3: u32 = 0x4000;
const INDEFINITE: f64 = reinterpret<f64>(0xfff8000000000000);

@inline function phys(i: u32): u32 {
  return (Fpu.top + i) & 7;
}
@inline export function st(i: u32): f64 {
  return load<f64>(REGS + (<usize>phys(i) << 3));
}
@inline function setSt(i: u32, v: f64): void {
  store<f64>(REGS + (<usize>phys(i) << 3), v);
  Fpu.valid |= 1 << phys(i);
}
export function push(v: f64): void {
  Fpu.top = (Fpu.top - 1) & 7;
  // Stack overflow with IE masked loads the indefinite NaN.
  if (Fpu.valid & (1 << Fpu.top)) v = INDEFINITE;
  setSt(0, v);
}
export function pop(): void {
  Fpu.valid &= ~(1 << Fpu.top);
  Fpu.top = (Fpu.top + 1) & 7;
}
/** ST(i), or the indefinite NaN when that register is empty (stack underflow, masked). */
@inline function operand(i: u32): f64 {
  return Fpu.valid & (1 << phys(i)) ? st(i) : INDEFINITE;
}

export function statusWord(): u32 {
  return (Fpu.status & ~0x3800) | (Fpu.top << 11);
}

/** Full 16-bit tag word: 00 valid, 01 zero, 10 special, 11 empty. */
export function tagWord(): u32 {
  let t: u32 = 0;
  for (let r: u32 = 0; r < 8; r++) {
    let tag: u32 = 3;
    if (Fpu.valid & (1 << r)) {
      const v = load<f64>(REGS + (<usize>r << 3));
      tag = v == 0 ? 1 : v != v || v - v != 0 ? 2 : 0;
    }
    t |= tag << (r * 2);
  }
  return t;
}

// ---- 80-bit extended <-> f64 ----------------------------------------------------------------

function scale2(x: f64, e: i32): f64 {
  while (e > 1000) { x *= reinterpret<f64>(<u64>(1023 + 1000) << 52); e -= 1000; }
  while (e < -1000) { x *= reinterpret<f64>(<u64>(1023 - 1000) << 52); e += 1000; }
  return x * reinterpret<f64>(<u64>(1023 + e) << 52);
}

export function fromExtended(mant: u64, se: u32): f64 {
  const negative = (se & 0x8000) != 0;
  const exp = <i32>(se & 0x7fff);
  let v: f64;
  if (exp == 0x7fff) {
    if ((mant << 1) == 0) v = Infinity;
    else v = reinterpret<f64>(0x7ff8000000000000 | ((mant >> 11) & 0x000fffffffffffff));
  } else if (mant == 0) v = 0;
  else v = scale2(<f64>mant, (exp == 0 ? 1 : exp) - 16383 - 63);
  return negative ? -v : v;
}

/** Writes `v` as an 80-bit value at `a` (exact: every f64 is representable). */
export function storeExtended(a: u64, v: f64): bool {
  if (!checkWritable(a, 10)) return false;
  const b = reinterpret<u64>(v);
  const sign: u32 = <u32>(b >> 63) << 15;
  const exp = <i32>((b >> 52) & 0x7ff);
  const frac = b & 0x000fffffffffffff;
  let mant: u64, e: u32;
  if (exp == 0x7ff) {
    e = 0x7fff;
    mant = 0x8000000000000000 | (frac << 11);
  } else if (exp == 0) {
    if (frac == 0) { e = 0; mant = 0; }
    else {
      const p = 63 - <i32>clz<u64>(frac); // highest set bit of a subnormal fraction
      mant = frac << (<u64>(63 - p));
      e = <u32>(16383 + p - 1074);
    }
  } else {
    e = <u32>(exp - 1023 + 16383);
    mant = 0x8000000000000000 | (frac << 11);
  }
  writeMem(a, 8, mant);
  writeMem(a + 8, 2, sign | e);
  return true;
}

// ---- arithmetic -------------------------------------------------------------------------------

/** x op y for /reg 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr. */
function arith(kind: u32, x: f64, y: f64): f64 {
  switch (kind) {
    case 0: return x + y;
    case 1: return x * y;
    case 4: return x - y;
    case 5: return y - x;
    case 6: return x / y;
    default: return y / x;
  }
}

/** fcom family: C3 C2 C0 = 000 greater, 001 less, 100 equal, 111 unordered. */
function compareToStatus(x: f64, y: f64): void {
  let c: u32 = 0;
  if (x != x || y != y) c = C3 | C2 | C0;
  else if (x < y) c = C0;
  else if (x == y) c = C3;
  Fpu.status = (Fpu.status & ~(C0 | C1 | C2 | C3)) | c;
}

/** fcomi family: ZF PF CF like ucomisd; OF SF AF cleared. */
function compareToFlags(x: f64, y: f64): void {
  let f: u64 = 0;
  if (x != x || y != y) f = ZF | PF | CF;
  else if (x < y) f = CF;
  else if (x == y) f = ZF;
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | OF)) | f;
  Flags.mask = 0;
}

function roundByControl(x: f64): f64 {
  const rc = (Fpu.control >> 10) & 3;
  return rc == 0 ? nearest<f64>(x) : rc == 1 ? floor<f64>(x) : rc == 2 ? ceil<f64>(x) : trunc<f64>(x);
}

/** Integer store (fist/fistp/fisttp): out of range or NaN gives the integer indefinite. */
function storeInt(a: u64, bytes: u32, x: f64, truncate: bool): bool {
  const r = truncate ? trunc<f64>(x) : roundByControl(x);
  let v: u64;
  if (bytes == 8) v = r >= -9223372036854775808.0 && r < 9223372036854775808.0 ? <u64>(<i64>r) : 0x8000000000000000;
  else if (bytes == 4) v = r >= -2147483648.0 && r <= 2147483647.0 ? <u64>(<u32>(<i32>r)) : 0x80000000;
  else v = r >= -32768.0 && r <= 32767.0 ? <u64>(<u16>(<i32>r)) : 0x8000;
  return writeMem(a, bytes, v);
}

function loadFloat(a: u64, bytes: u32): f64 {
  if (bytes == 4) return <f64>reinterpret<f32>(<u32>readMem(a, 4));
  if (bytes == 8) return reinterpret<f64>(readMem(a, 8));
  const mant = readMem(a, 8);
  if (Cpu.exit) return 0;
  return fromExtended(mant, <u32>readMem(a + 8, 2));
}

function loadInt(a: u64, bytes: u32): f64 {
  const v = readMem(a, bytes);
  if (bytes == 2) return <f64>(<i16>v);
  if (bytes == 4) return <f64>(<i32>v);
  return <f64>(<i64>v);
}

function storeFloat(a: u64, bytes: u32, x: f64): bool {
  if (bytes == 4) return writeMem(a, 4, reinterpret<u32>(<f32>x));
  if (bytes == 8) return writeMem(a, 8, reinterpret<u64>(x));
  return storeExtended(a, x);
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

function examine(): void {
  let c: u32;
  const x = st(0);
  if ((Fpu.valid & (1 << phys(0))) == 0) c = C3 | C0;
  else if (x != x) c = C0;
  else if (x - x != 0) c = C2 | C0;
  else if (x == 0) c = C3;
  else if (abs<f64>(x) < 2.2250738585072014e-308) c = C3 | C2;
  else c = C2;
  if (reinterpret<u64>(x) >> 63) c |= C1;
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
  if (e.flags & I_MEM) return memoryForm(e, esc, reg);
  const i = <u32>e.rm & 7;
  const low = (reg << 3) | i;
  switch (esc) {
    case 0: // D8: st0 = st0 op st(i); /2 fcom, /3 fcomp
      if (reg == 2 || reg == 3) { compareToStatus(operand(0), operand(i)); if (reg == 3) pop(); }
      else setSt(0, arith(reg, operand(0), operand(i)));
      return;
    case 1:
      if (reg == 0) { push(operand(i)); return; }
      if (reg == 1) { const t = operand(0); setSt(0, operand(i)); setSt(i, t); return; }
      switch (low) {
        case 0x10: return; // fnop
        case 0x20: setSt(0, -operand(0)); return;
        case 0x21: setSt(0, abs<f64>(operand(0))); return;
        case 0x24: compareToStatus(operand(0), 0); return; // ftst
        case 0x25: examine(); return;
        case 0x28: push(1); return;
        case 0x29: push(3.321928094887362); return; // log2(10)
        case 0x2a: push(1.4426950408889634); return; // log2(e)
        case 0x2b: push(3.141592653589793); return;
        case 0x2c: push(0.3010299956639812); return; // log10(2)
        case 0x2d: push(0.6931471805599453); return; // ln(2)
        case 0x2e: push(0); return;
        case 0x3a: setSt(0, sqrt<f64>(operand(0))); return;
        case 0x3c: setSt(0, roundByControl(operand(0))); return; // frndint
        default: { // 0x3d fscale: st0 * 2^trunc(st1)
          const n = trunc<f64>(operand(1));
          const k: i32 = n > 20000 ? 20000 : n < -20000 ? -20000 : <i32>n;
          setSt(0, scale2(operand(0), k));
          return;
        }
      }
    case 2: {
      if (low == 0x29) { compareToStatus(operand(0), operand(1)); pop(); pop(); return; } // fucompp
      const f = materialize();
      const take = reg == 0 ? (f & CF) != 0 : reg == 1 ? (f & ZF) != 0 : reg == 2 ? (f & (CF | ZF)) != 0 : (f & PF) != 0;
      if (take) setSt(0, operand(i));
      return;
    }
    case 3: {
      if (low == 0x22) { Fpu.status &= ~0x80ff; return; } // fnclex
      if (low == 0x23) { init(); return; } // fninit
      if (reg == 5 || reg == 6) { compareToFlags(operand(0), operand(i)); return; } // fucomi, fcomi
      const f = materialize();
      const take = reg == 0 ? (f & CF) == 0 : reg == 1 ? (f & ZF) == 0 : reg == 2 ? (f & (CF | ZF)) == 0 : (f & PF) == 0;
      if (take) setSt(0, operand(i));
      return;
    }
    case 4: case 6: { // DC: st(i) = st(i) op st0; DE: the same, then pop. sub/subr and div/divr swap.
      if (esc == 6 && reg == 3) { compareToStatus(operand(0), operand(1)); pop(); pop(); return; } // fcompp
      if (reg == 2 || reg == 3) { compareToStatus(operand(0), operand(i)); if (reg == 3 || esc == 6) pop(); return; }
      const kind = reg >= 4 ? reg ^ 1 : reg;
      setSt(i, arith(kind, operand(i), operand(0)));
      if (esc == 6) pop();
      return;
    }
    case 5:
      if (reg == 0) { Fpu.valid &= ~(1 << phys(i)); return; } // ffree
      if (reg == 2 || reg == 3) { setSt(i, operand(0)); if (reg == 3) pop(); return; } // fst/fstp st(i)
      compareToStatus(operand(0), operand(i)); // fucom/fucomp
      if (reg == 5) pop();
      return;
    default: // DF
      if (low == 0x20) { writeReg(RAX, 2, statusWord(), false); return; } // fnstsw ax
      compareToFlags(operand(0), operand(i)); // fucomip, fcomip
      pop();
      return;
  }
}

function memoryForm(e: Insn, esc: u32, reg: u32): void {
  const a = ea(e);
  // D8/DC: m32fp/m64fp arithmetic; DA/DE: m32int/m16int arithmetic.
  if ((esc & 1) == 0) {
    const bytes: u32 = esc == 0 ? 4 : esc == 4 ? 8 : esc == 2 ? 4 : 2;
    const y = esc == 0 || esc == 4 ? loadFloat(a, bytes) : loadInt(a, bytes);
    if (Cpu.exit) return;
    if (reg == 2 || reg == 3) { compareToStatus(operand(0), y); if (reg == 3) pop(); }
    else setSt(0, arith(reg, operand(0), y));
    return;
  }
  switch (esc) {
    case 1: // D9
      switch (reg) {
        case 0: { const v = loadFloat(a, 4); if (!Cpu.exit) push(v); return; }
        case 2: case 3: if (storeFloat(a, 4, operand(0)) && reg == 3) pop(); return;
        case 4: loadEnvironment(a); return;
        case 5: { const cw = <u32>readMem(a, 2); if (!Cpu.exit) Fpu.control = cw; return; }
        case 6: if (storeEnvironment(a)) Fpu.control |= 0x3f; return;
        default: writeMem(a, 2, Fpu.control); return;
      }
    case 3: // DB
      switch (reg) {
        case 0: { const v = loadInt(a, 4); if (!Cpu.exit) push(v); return; }
        case 1: if (storeInt(a, 4, operand(0), true)) pop(); return;
        case 2: case 3: if (storeInt(a, 4, operand(0), false) && reg == 3) pop(); return;
        case 5: { const v = loadFloat(a, 10); if (!Cpu.exit) push(v); return; }
        default: if (storeFloat(a, 10, operand(0))) pop(); return;
      }
    case 5: // DD
      switch (reg) {
        case 0: { const v = loadFloat(a, 8); if (!Cpu.exit) push(v); return; }
        case 1: if (storeInt(a, 8, operand(0), true)) pop(); return;
        case 2: case 3: if (storeFloat(a, 8, operand(0)) && reg == 3) pop(); return;
        default: writeMem(a, 2, statusWord()); return; // fnstsw m16
      }
    default: // DF
      switch (reg) {
        case 0: { const v = loadInt(a, 2); if (!Cpu.exit) push(v); return; }
        case 1: if (storeInt(a, 2, operand(0), true)) pop(); return;
        case 2: case 3: if (storeInt(a, 2, operand(0), false) && reg == 3) pop(); return;
        case 5: { const v = loadInt(a, 8); if (!Cpu.exit) push(v); return; }
        default: if (storeInt(a, 8, operand(0), false)) pop(); return;
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
    storeExtended(slot, st(i));
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
  const values = memory.data(8 * 8 + 16 * 16, 16);
  for (let i: u32 = 0; i < 8; i++) {
    const slot = a + 32 + (<u64>i << 4);
    const mant = readMem(slot, 8);
    if (Cpu.exit) return;
    const se = <u32>readMem(slot + 8, 2);
    if (Cpu.exit) return;
    store<f64>(values + (<usize>i << 3), fromExtended(mant, se));
  }
  for (let i: u32 = 0; i < 32; i++) {
    const q = readMem(a + 160 + (<u64>i << 3), 8);
    if (Cpu.exit) return;
    store<u64>(values + 64 + (<usize>i << 3), q);
  }
  const cw = <u32>readMem(a, 2), sw = <u32>readMem(a + 2, 2), tag = <u32>readMem(a + 4, 1);
  if (Cpu.exit) return;
  Fpu.control = cw;
  Fpu.status = sw & ~0x3800;
  Fpu.top = (sw >> 11) & 7;
  Fpu.valid = tag & 0xff;
  for (let i: u32 = 0; i < 8; i++) store<f64>(REGS + (<usize>phys(i) << 3), load<f64>(values + (<usize>i << 3)));
  memory.copy(XMM, values + 64, 256);
  Cpu.mxcsr = mx;
}
