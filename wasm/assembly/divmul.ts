// mul/imul (one, two and three operand forms) and div/idiv with #DE on zero or overflow.

import { Insn } from './insn';
import { Cpu, Exit, reg64, setReg64, readReg, writeReg, sizeMask, signBit, signExtend, RAX, RDX } from './state';
import { CF, OF, AF, setResultFlags } from './flags';
import { readE, writeG } from './operands';

/** High 64 bits of the unsigned 128-bit product. */
export function mulHighU(a: u64, b: u64): u64 {
  const aL = a & 0xffffffff, aH = a >> 32, bL = b & 0xffffffff, bH = b >> 32;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** High 64 bits of the signed 128-bit product. */
export function mulHighS(a: u64, b: u64): u64 {
  let h = mulHighU(a, b);
  if (<i64>a < 0) h -= b;
  if (<i64>b < 0) h -= a;
  return h;
}

/** CF = OF = `overflow`; SF/ZF/PF from the low result as QEMU does (architecturally undefined); AF = 0. */
@inline function mulFlags(low: u64, size: u32, overflow: bool): void {
  setResultFlags(low, signBit(size), CF | OF | AF, overflow ? CF | OF : 0);
}

/** F6/F7 /4 mul and /5 imul: rDX:rAX = rAX * E. */
export function mulAcc(e: Insn, signed: bool): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  const a = readReg(RAX, size, false);
  if (size == 8) {
    const lo = a * src;
    const hi = signed ? mulHighS(a, src) : mulHighU(a, src);
    setReg64(RAX, lo);
    setReg64(RDX, hi);
    mulFlags(lo, 8, signed ? hi != <u64>(<i64>lo >> 63) : hi != 0);
    return;
  }
  const bits = <u64>(size << 3);
  const m = sizeMask(size);
  const p = signed ? <u64>(<i64>signExtend(a, size) * <i64>signExtend(src, size)) : a * src;
  const lo = p & m;
  const overflow = signed ? signExtend(lo, size) != p : (p >> bits) != 0;
  if (size == 1) writeReg(RAX, 2, p & 0xffff, false);
  else {
    writeReg(RAX, size, lo, false);
    writeReg(RDX, size, (p >> bits) & m, false);
  }
  mulFlags(lo, size, overflow);
}

/** Signed truncated multiply with CF = OF = result does not fit (imul G, E[, imm]). */
export function imulTrunc(a: u64, b: u64, size: u32): u64 {
  if (size == 8) {
    const lo = a * b;
    mulFlags(lo, 8, mulHighS(a, b) != <u64>(<i64>lo >> 63));
    return lo;
  }
  const p = <u64>(<i64>signExtend(a, size) * <i64>signExtend(b, size));
  const lo = p & sizeMask(size);
  mulFlags(lo, size, signExtend(lo, size) != p);
  return lo;
}

export function imulGE(e: Insn): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  writeG(e, size, imulTrunc(readReg(e.reg, size, true), src, size));
}

export function imulGEI(e: Insn): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  writeG(e, size, imulTrunc(src, e.imm, size));
}

// 128-by-64 unsigned division results (valid when divide128 returns true).
let quotient: u64 = 0;
let remainder: u64 = 0;

/** hi:lo / d; false when d is 0 or the quotient needs more than 64 bits. */
function divide128(hi: u64, lo: u64, d: u64): bool {
  if (d == 0 || hi >= d) return false;
  if (hi == 0) {
    quotient = lo / d;
    remainder = lo % d;
    return true;
  }
  let r = hi, q = lo;
  for (let i = 0; i < 64; i++) {
    const top = r >> 63;
    r = (r << 1) | (q >> 63);
    q <<= 1;
    if (top != 0 || r >= d) {
      r -= d;
      q |= 1;
    }
  }
  quotient = q;
  remainder = r;
  return true;
}

function divideError(): void {
  Cpu.exit = Exit.Divide;
}

/** F6/F7 /6 div and /7 idiv. Flags are undefined and left unchanged. */
export function divAcc(e: Insn, signed: bool): void {
  const size = <u32>e.size;
  const d = readE(e, size);
  if (Cpu.exit) return;
  if (d == 0) return divideError();
  if (size == 8) {
    let hi = reg64(RDX), lo = reg64(RAX);
    if (!signed) {
      if (!divide128(hi, lo, d)) return divideError();
      setReg64(RAX, quotient);
      setReg64(RDX, remainder);
      return;
    }
    const negDividend = <i64>hi < 0, negDivisor = <i64>d < 0;
    if (negDividend) {
      lo = ~lo + 1;
      hi = ~hi + <u64>(lo == 0);
    }
    const ad = negDivisor ? 0 - d : d;
    if (!divide128(hi, lo, ad)) return divideError();
    const negQ = negDividend != negDivisor;
    if (negQ ? quotient > 0x8000000000000000 : quotient >= 0x8000000000000000) return divideError();
    setReg64(RAX, negQ ? 0 - quotient : quotient);
    setReg64(RDX, negDividend ? 0 - remainder : remainder);
    return;
  }
  const bits = <u64>(size << 3);
  const m = sizeMask(size);
  const dividend = size == 1 ? reg64(RAX) & 0xffff : ((readReg(RDX, size, false) << bits) | readReg(RAX, size, false));
  let q: u64, r: u64;
  if (!signed) {
    q = dividend / d;
    r = dividend % d;
    if (q > m) return divideError();
  } else {
    const n = <i64>signExtend(dividend, size << 1);
    const dv = <i64>signExtend(d, size);
    if (n == i64.MIN_VALUE && dv == -1) return divideError();
    const sq = n / dv;
    if (sq > (<i64>(m >> 1)) || sq < -(<i64>(m >> 1)) - 1) return divideError();
    q = <u64>sq & m;
    r = <u64>(n % dv) & m;
  }
  if (size == 1) writeReg(RAX, 2, (r << 8) | q, false);
  else {
    writeReg(RAX, size, q, false);
    writeReg(RDX, size, r, false);
  }
}
