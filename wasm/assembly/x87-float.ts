// Software 80-bit extended precision for the x87 (x87.ts): 64-bit significand with explicit
// integer bit, 15-bit exponent (bias 16383), rounding with round/sticky bits to the precision
// control (24/53/64 bits) and rounding control of the control word, over the full extended
// exponent range (denormals, overflow to inf or the largest finite per RC). Every operation
// leaves its result in RM (significand) and RSE (sign << 15 | exponent field), ORs exception
// flags into EXC (IE DE ZE OE UE PE, status-word bit positions) and sets UP when the result was
// rounded away from zero (the x87's C1). Correct before fast: division and square root go bit by
// bit.

export const IE: u32 = 1, DE: u32 = 2, ZE: u32 = 4, OE: u32 = 8, UE: u32 = 16, PE: u32 = 32;

export let RM: u64 = 0;
export let RSE: u32 = 0;
export let EXC: u32 = 0;
export let UP: bool = false;

/** Rounding control (0 nearest, 1 down, 2 up, 3 toward zero) and significand bits kept (24/53/64). */
let rc: u32 = 0;
let keepBits: i32 = 64;

const INDEF_M: u64 = 0xc000000000000000;
const INDEF_SE: u32 = 0xffff;
const TOP_BIT: u64 = 0x8000000000000000;
const QUIET: u64 = 0x4000000000000000;

/** Starts an instruction under control word `cw`: picks RC and PC, clears EXC and UP. */
export function begin(cw: u32): void {
  rc = (cw >> 10) & 3;
  const pc = (cw >> 8) & 3;
  keepBits = pc == 0 ? 24 : pc == 2 ? 53 : 64; // PC = 1 (reserved) as 64 bits
  EXC = 0;
  UP = false;
}

@inline function set(m: u64, se: u32): void { RM = m; RSE = se; }
export function setIndefinite(): void { set(INDEF_M, INDEF_SE); }

// ---- classification ----------------------------------------------------------------------------

export const K_ZERO: u32 = 0, K_FINITE: u32 = 1, K_INF: u32 = 2, K_NAN: u32 = 3, K_INVALID: u32 = 4;

/** Class of an extended value; unnormals, pseudo-infinities and pseudo-NaNs are K_INVALID. */
export function kind(m: u64, se: u32): u32 {
  const e = se & 0x7fff;
  if (e == 0) return m == 0 ? K_ZERO : K_FINITE; // denormal or pseudo-denormal
  if ((m & TOP_BIT) == 0) return K_INVALID;
  if (e == 0x7fff) return (m << 1) == 0 ? K_INF : K_NAN;
  return K_FINITE;
}
@inline export function isSignaling(m: u64): bool { return (m & QUIET) == 0; }
/** A denormal or pseudo-denormal operand: the x87's DE condition (the CPU raises DE for both). */
@inline function isDenormal(m: u64, se: u32): bool { return (se & 0x7fff) == 0 && m != 0; }

// Unpacked finite nonzero operand: normalized significand (bit 63 set) and biased exponent (< 1 for denormals).
let UM: u64 = 0;
let UE_: i32 = 0;
function unpack(m: u64, se: u32): void {
  let e = <i32>(se & 0x7fff);
  if (e == 0) {
    e = 1;
    const s = <i32>clz<u64>(m);
    m <<= <u64>s;
    e -= s;
  }
  UM = m;
  UE_ = e;
}

// ---- rounding ----------------------------------------------------------------------------------

// Result of shiftRightJam: (SH:SL) = (hi:lo) >> s with every bit shifted out ORed into bit 0 of SL.
let SH: u64 = 0;
let SL: u64 = 0;
function shiftRightJam(hi: u64, lo: u64, s: i32): void {
  if (s <= 0) { SH = hi; SL = lo; return; }
  if (s < 64) {
    SL = (hi << <u64>(64 - s)) | (lo >> <u64>s) | ((lo << <u64>(64 - s)) != 0 ? 1 : 0);
    SH = hi >> <u64>s;
  } else if (s == 64) {
    SL = hi | (lo != 0 ? 1 : 0);
    SH = 0;
  } else if (s < 128) {
    SL = (hi >> <u64>(s - 64)) | ((hi << <u64>(128 - s)) != 0 || lo != 0 ? 1 : 0);
    SH = 0;
  } else {
    SL = hi != 0 || lo != 0 ? 1 : 0;
    SH = 0;
  }
}

/**
 * Rounds sign * (m:x) * 2^(exp - 16383 - 63), m normalized (bit 63 set), to `keep` significant bits
 * in the exponent range [minExp, maxExp] (extended bias). The result (significand with bit 63
 * clear for a denormal or zero of that range, and its exponent) is left in RM and REXP; RSE gets the
 * extended encoding.
 */
export let REXP: i32 = 0;
export function roundPack(sign: u32, exp: i32, m: u64, x: u64, keep: i32, minExp: i32, maxExp: i32): void {
  let tiny = false;
  if (exp < minExp) {
    shiftRightJam(m, x, minExp - exp);
    m = SH;
    x = SL;
    exp = minExp;
    tiny = true;
  }
  let roundBit: bool, sticky: bool, lsb: bool;
  let unit: u64 = 1;
  if (keep >= 64) {
    roundBit = (x >> 63) != 0;
    sticky = (x << 1) != 0;
    lsb = (m & 1) != 0;
  } else {
    const drop = <u64>(64 - keep);
    unit = (<u64>1) << drop;
    const low = m & (unit - 1);
    const half = unit >> 1;
    roundBit = (low & half) != 0;
    sticky = (low & (half - 1)) != 0 || x != 0;
    lsb = (m & unit) != 0;
    m &= ~(unit - 1);
  }
  const inexact = roundBit || sticky;
  let inc = false;
  if (rc == 0) inc = roundBit && (sticky || lsb);
  else if (rc == 1) inc = inexact && sign != 0;
  else if (rc == 2) inc = inexact && sign == 0;
  if (inc) {
    m += unit;
    if (m == 0) { m = TOP_BIT; exp++; }
  }
  if (exp > maxExp) {
    EXC |= OE | PE;
    const toInf = rc == 0 || (rc == 1 && sign != 0) || (rc == 2 && sign == 0);
    if (toInf) { m = TOP_BIT; exp = maxExp + 1; UP = true; }
    else { m = keep >= 64 ? 0xffffffffffffffff : ~((<u64>1 << <u64>(64 - keep)) - 1); exp = maxExp; UP = false; }
  } else if (inexact) {
    EXC |= PE;
    if (tiny) EXC |= UE;
    UP = inc;
  }
  RM = m;
  REXP = exp;
  RSE = (sign << 15) | ((m & TOP_BIT) != 0 ? <u32>exp : 0);
}

/** Rounds to the current precision control in the extended range (the x87 register destination). */
@inline function finish(sign: u32, exp: i32, m: u64, x: u64): void {
  roundPack(sign, exp, m, x, keepBits, 1, 0x7ffe);
}

/** Normalizes (m:x) (not both zero) and rounds. */
function normFinish(sign: u32, exp: i32, m: u64, x: u64): void {
  if (m == 0) { m = x; x = 0; exp -= 64; }
  const s = <i32>clz<u64>(m);
  if (s > 0) {
    m = (m << <u64>s) | (x >> <u64>(64 - s));
    x <<= <u64>s;
    exp -= s;
  }
  finish(sign, exp, m, x);
}

// ---- NaN propagation and operand checks --------------------------------------------------------

/** x87 NaN rules: SNaN+QNaN gives the QNaN, otherwise the larger significand (positive on a tie), quieted. */
function propagate(am: u64, ase: u32, bm: u64, bse: u32): void {
  const an = kind(am, ase) == K_NAN, bn = kind(bm, bse) == K_NAN;
  if ((an && isSignaling(am)) || (bn && isSignaling(bm))) EXC |= IE;
  if (an && bn) {
    const as = isSignaling(am), bs = isSignaling(bm);
    if (as && !bs) return set(bm, bse);
    if (bs && !as) return set(am | QUIET, ase);
    const ma = am | QUIET, mb = bm | QUIET;
    if (ma > mb) return set(ma, ase);
    if (mb > ma) return set(mb, bse);
    return set(ma, (ase & 0x8000) == 0 ? ase : bse);
  }
  if (an) return set(am | QUIET, ase);
  set(bm | QUIET, bse);
}

/** Handles NaN and unsupported operands of a binary operation; true when the result is already set. */
function specialOperands(am: u64, ase: u32, bm: u64, bse: u32): bool {
  const ka = kind(am, ase), kb = kind(bm, bse);
  if (ka == K_INVALID || kb == K_INVALID) { EXC |= IE; setIndefinite(); return true; }
  if (ka == K_NAN || kb == K_NAN) { propagate(am, ase, bm, bse); return true; }
  if (isDenormal(am, ase) || isDenormal(bm, bse)) EXC |= DE;
  return false;
}

function invalid(): void { EXC |= IE; setIndefinite(); }

// ---- arithmetic --------------------------------------------------------------------------------

export function add(am: u64, ase: u32, bm: u64, bse: u32, negateB: bool): void {
  if (specialOperands(am, ase, bm, bse)) return;
  if (negateB) bse ^= 0x8000;
  const ka = kind(am, ase), kb = kind(bm, bse);
  const sa = ase >> 15, sb = bse >> 15;
  if (ka == K_INF) {
    if (kb == K_INF && sa != sb) return invalid();
    return set(TOP_BIT, ase | 0x7fff);
  }
  if (kb == K_INF) return set(TOP_BIT, bse | 0x7fff);
  if (ka == K_ZERO && kb == K_ZERO) return set(0, sa == sb ? ase & 0x8000 : rc == 1 ? 0x8000 : 0);
  if (kb == K_ZERO) { unpack(am, ase); return finish(sa, UE_, UM, 0); }
  if (ka == K_ZERO) { unpack(bm, bse); return finish(sb, UE_, UM, 0); }
  unpack(am, ase);
  let ea = UE_, ma = UM;
  unpack(bm, bse);
  let eb = UE_, mb = UM;
  let sign = sa;
  if (eb > ea || (eb == ea && mb > ma)) { // |b| > |a|: swap
    const te = ea; ea = eb; eb = te;
    const tm = ma; ma = mb; mb = tm;
    sign = sb;
  }
  shiftRightJam(mb, 0, ea - eb);
  mb = SH;
  const xb = SL;
  if (sa == sb) {
    const sum = ma + mb;
    if (sum < ma) { // carry out
      return finish(sign, ea + 1, (sum >> 1) | TOP_BIT, (xb >> 1) | (sum << 63) | (xb & 1));
    }
    return finish(sign, ea, sum, xb);
  }
  const lo = 0 - xb;
  const hi = ma - mb - (xb != 0 ? 1 : 0);
  if (hi == 0 && lo == 0) return set(0, rc == 1 ? 0x8000 : 0);
  normFinish(sign, ea, hi, lo);
}

// 64x64 -> 128 product in (SH:SL).
function mul128(a: u64, b: u64): void {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  SL = (mid << 32) | (p00 & 0xffffffff);
  SH = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

export function mul(am: u64, ase: u32, bm: u64, bse: u32): void {
  if (specialOperands(am, ase, bm, bse)) return;
  const ka = kind(am, ase), kb = kind(bm, bse);
  const sign = (ase ^ bse) >> 15;
  if (ka == K_INF || kb == K_INF) {
    if (ka == K_ZERO || kb == K_ZERO) return invalid();
    return set(TOP_BIT, (sign << 15) | 0x7fff);
  }
  if (ka == K_ZERO || kb == K_ZERO) return set(0, sign << 15);
  unpack(am, ase);
  const ea = UE_, ma = UM;
  unpack(bm, bse);
  mul128(ma, UM);
  let hi = SH, lo = SL, e = ea + UE_ - 16383 + 1;
  if ((hi & TOP_BIT) == 0) { hi = (hi << 1) | (lo >> 63); lo <<= 1; e--; }
  finish(sign, e, hi, lo);
}

/** a / b (reverse operands at the call site for fdivr). */
export function div(am: u64, ase: u32, bm: u64, bse: u32): void {
  if (specialOperands(am, ase, bm, bse)) return;
  const ka = kind(am, ase), kb = kind(bm, bse);
  const sign = (ase ^ bse) >> 15;
  if (ka == K_INF) {
    if (kb == K_INF) return invalid();
    return set(TOP_BIT, (sign << 15) | 0x7fff);
  }
  if (kb == K_INF) return set(0, sign << 15);
  if (kb == K_ZERO) {
    if (ka == K_ZERO) return invalid();
    EXC |= ZE;
    return set(TOP_BIT, (sign << 15) | 0x7fff);
  }
  if (ka == K_ZERO) return set(0, sign << 15);
  unpack(am, ase);
  const ea = UE_, ma = UM;
  unpack(bm, bse);
  const eb = UE_, mb = UM;
  let e = ea - eb + 16383;
  let r = ma, carry = false;
  if (ma < mb) { e--; carry = (r >> 63) != 0; r <<= 1; }
  let q: u64 = 0, roundBit: u64 = 0;
  for (let i = 0; i < 65; i++) {
    let bit: u64 = 0;
    if (carry || r >= mb) { r -= mb; bit = 1; }
    if (i < 64) q = (q << 1) | bit;
    else roundBit = bit;
    carry = (r >> 63) != 0;
    r <<= 1;
  }
  finish(sign, e, q, (roundBit << 63) | (carry || r != 0 ? 1 : 0));
}

export function sqrt(am: u64, ase: u32): void {
  const k = kind(am, ase);
  if (k == K_INVALID) return invalid();
  if (k == K_NAN) { if (isSignaling(am)) EXC |= IE; return set(am | QUIET, ase); }
  if (k == K_ZERO) return set(0, ase);
  if (ase & 0x8000) return invalid();
  if (k == K_INF) return set(TOP_BIT, 0x7fff);
  if (isDenormal(am, ase)) EXC |= DE;
  unpack(am, ase);
  const e = UE_ - 16383;
  let nh: u64, nl: u64;
  if (e & 1) { nh = UM; nl = 0; } else { nh = UM >> 1; nl = UM << 63; }
  let rh: u64 = 0, rl: u64 = 0, r: u64 = 0;
  for (let i = 0; i < 64; i++) {
    const two = nh >> 62;
    nh = (nh << 2) | (nl >> 62);
    nl <<= 2;
    rh = (rh << 2) | (rl >> 62);
    rl = (rl << 2) | two;
    const th = r >> 62, tl = (r << 2) | 1;
    if (rh > th || (rh == th && rl >= tl)) {
      const borrow: u64 = rl < tl ? 1 : 0;
      rl -= tl;
      rh = rh - th - borrow;
      r = (r << 1) | 1;
    } else r <<= 1;
  }
  // remainder N - r^2 is at most 2r: above r means above the half-way point (never exactly on it)
  const x: u64 = rh == 0 && rl == 0 ? 0 : rh != 0 || rl > r ? 0xc000000000000000 : 0x4000000000000000;
  finish(0, ((e - (e & 1)) >> 1) + 16383, r, x);
}

/** frndint: to an integer by RC, at full precision (PC does not apply). */
export function roundInt(am: u64, ase: u32): void {
  const k = kind(am, ase);
  if (k == K_INVALID) return invalid();
  if (k == K_NAN) { if (isSignaling(am)) EXC |= IE; return set(am | QUIET, ase); }
  if (k != K_FINITE) return set(am, ase);
  if (isDenormal(am, ase)) EXC |= DE;
  unpack(am, ase);
  const e = UE_ - 16383;
  if (e >= 63) return set(am, ase);
  const sign = ase >> 15;
  let m = UM, x: u64 = 0, keep = e + 1, exp = UE_;
  if (e < 0) { shiftRightJam(m, 0, -e); m = SH; x = SL; keep = 1; exp = 16383; }
  roundPack(sign, exp, m, x, keep, 1, 0x7ffe);
  if (RM == 0) RSE = sign << 15;
}

/** fscale: ST0 * 2^trunc(ST1). */
export function scale(am: u64, ase: u32, bm: u64, bse: u32): void {
  if (specialOperands(am, ase, bm, bse)) return;
  const ka = kind(am, ase), kb = kind(bm, bse);
  if (kb == K_INF) {
    const neg = (bse & 0x8000) != 0;
    if (ka == K_ZERO) { if (!neg) return invalid(); return set(am, ase); }
    if (ka == K_INF) { if (neg) return invalid(); return set(am, ase); }
    return neg ? set(0, ase & 0x8000) : set(TOP_BIT, (ase & 0x8000) | 0x7fff);
  }
  if (ka != K_FINITE) return set(am, ase);
  let n: i32 = 0;
  if (kb == K_FINITE) {
    unpack(bm, bse);
    const e = UE_ - 16383;
    if (e >= 0) n = e >= 30 ? 1 << 30 : <i32>(UM >> <u64>(63 - e));
    if (bse & 0x8000) n = -n;
  }
  unpack(am, ase);
  finish(ase >> 15, UE_ + n, UM, 0);
}

// ---- compares ----------------------------------------------------------------------------------

/** -1 less, 0 equal, 1 greater, 2 unordered. `quiet`: only SNaNs raise IE (fucom); otherwise any NaN. */
export function compare(am: u64, ase: u32, bm: u64, bse: u32, quiet: bool): i32 {
  const ka = kind(am, ase), kb = kind(bm, bse);
  if (ka == K_INVALID || kb == K_INVALID) { EXC |= IE; return 2; }
  if (ka == K_NAN || kb == K_NAN) {
    if (!quiet || (ka == K_NAN && isSignaling(am)) || (kb == K_NAN && isSignaling(bm))) EXC |= IE;
    return 2;
  }
  if (isDenormal(am, ase) || isDenormal(bm, bse)) EXC |= DE;
  if (ka == K_ZERO && kb == K_ZERO) return 0;
  const sa = ase >> 15, sb = bse >> 15;
  if (sa != sb) return sa ? -1 : 1;
  let mag: i32;
  if (ka == K_ZERO) mag = -1;
  else if (kb == K_ZERO) mag = 1;
  else {
    unpack(am, ase);
    const ea = UE_, ma = UM;
    unpack(bm, bse);
    mag = ea != UE_ ? (ea < UE_ ? -1 : 1) : ma == UM ? 0 : ma < UM ? -1 : 1;
  }
  return sa ? -mag : mag;
}

// ---- conversions -------------------------------------------------------------------------------

/**
 * f32/f64 bits (bytes 4 or 8) to extended, exact. With `quiet` (fld) an SNaN raises IE and is
 * quieted; without (an arithmetic operand) it stays signaling for the operation's NaN rules.
 */
export function fromFloat(bits: u64, bytes: u32, quiet: bool): void {
  const fracBits: u64 = bytes == 4 ? 23 : 52;
  const expMax: u32 = bytes == 4 ? 0xff : 0x7ff;
  const bias: i32 = bytes == 4 ? 127 : 1023;
  const sign = <u32>(bits >> (fracBits + (bytes == 4 ? 8 : 11))) & 1;
  const e = <u32>(bits >> fracBits) & expMax;
  const frac = bits & ((<u64>1 << fracBits) - 1);
  const top = frac << (63 - fracBits); // fraction aligned below bit 63
  if (e == expMax) {
    if (frac == 0) return set(TOP_BIT, (sign << 15) | 0x7fff);
    if (!quiet) return set(TOP_BIT | top, (sign << 15) | 0x7fff);
    if ((top & QUIET) == 0) EXC |= IE;
    return set(TOP_BIT | QUIET | top, (sign << 15) | 0x7fff);
  }
  if (e == 0) {
    if (frac == 0) return set(0, sign << 15);
    if (quiet) EXC |= DE; // as an arithmetic operand, DE comes from the operation
    const s = <i32>clz<u64>(top);
    return set(top << <u64>s, (sign << 15) | <u32>(16383 - bias + 1 - s));
  }
  set(TOP_BIT | top, (sign << 15) | <u32>(<i32>e - bias + 16383));
}

/** Extended to f32/f64 bits by RC (for fst m32/m64); result in RM. */
export function toFloat(am: u64, ase: u32, bytes: u32): void {
  const k = kind(am, ase);
  const fracBits: u64 = bytes == 4 ? 23 : 52;
  const expMax: u64 = bytes == 4 ? 0xff : 0x7ff;
  const bias: i32 = bytes == 4 ? 127 : 1023;
  const sign = <u64>(ase >> 15);
  const signBit = sign << (fracBits + (bytes == 4 ? 8 : 11));
  if (k == K_INVALID) { EXC |= IE; RM = bytes == 4 ? 0xffc00000 : 0xfff8000000000000; return; } // the indefinite
  if (k == K_NAN) {
    if (isSignaling(am)) EXC |= IE;
    RM = signBit | (expMax << fracBits) | (((am | QUIET) << 1) >> (64 - fracBits));
    return;
  }
  if (k == K_INF) { RM = signBit | (expMax << fracBits); return; }
  if (k == K_ZERO) { RM = signBit; return; }
  if (isDenormal(am, ase)) EXC |= DE;
  unpack(am, ase);
  const keep = <i32>fracBits + 1;
  roundPack(<u32>sign, UE_, UM, 0, keep, 16383 - bias + 1, 16383 + bias);
  if (REXP > 16383 + bias) { RM = signBit | (expMax << fracBits); return; }
  const normal = (RM & TOP_BIT) != 0;
  const field: u64 = normal ? <u64>(REXP - 16383 + bias) : 0;
  RM = signBit | (field << fracBits) | ((RM << 1) >> (64 - fracBits));
}

/** Signed integer (already sign-extended) to extended, exact. */
export function fromInt(v: i64): void {
  if (v == 0) return set(0, 0);
  const sign: u32 = v < 0 ? 1 : 0;
  const m: u64 = v < 0 ? <u64>(-v) : <u64>v; // -(i64.MIN) wraps to 2^63 as u64, which is right
  const s = <i32>clz<u64>(m);
  set(m << <u64>s, (sign << 15) | <u32>(16383 + 63 - s));
}

/**
 * Extended to a `bytes`-byte signed integer, by RC or truncating; out of range, NaN, inf or
 * unsupported give the integer indefinite with IE. Result in RM (zero-extended to 64 bits).
 */
export function toInt(am: u64, ase: u32, bytes: u32, truncate: bool): void {
  const k = kind(am, ase);
  const indef: u64 = (<u64>1) << (<u64>bytes * 8 - 1);
  const mask: u64 = bytes == 8 ? 0xffffffffffffffff : (indef << 1) - 1;
  if (k == K_ZERO) { RM = 0; return; }
  if (k != K_FINITE) { EXC |= IE; RM = indef; return; }
  if (isDenormal(am, ase)) EXC |= DE;
  const sign = ase >> 15;
  unpack(am, ase);
  const e = UE_ - 16383;
  if (e > 63) { EXC |= IE; RM = indef; return; }
  const saved = rc;
  if (truncate) rc = 3;
  let m = UM, x: u64 = 0, keep = e + 1, exp = UE_;
  if (e < 0) { shiftRightJam(m, 0, -e); m = SH; x = SL; keep = 1; exp = 16383; }
  const savedExc = EXC;
  roundPack(sign, exp, m, x, keep, 1, 0x7ffe);
  rc = saved;
  EXC = savedExc | (EXC & PE);
  const re = REXP - 16383;
  // magnitude = RM >> (63 - re) when RM != 0
  let mag: u64 = 0;
  if (RM != 0) {
    if (re > 63) { EXC = (EXC & ~PE) | IE; RM = indef; UP = false; return; }
    mag = RM >> <u64>(63 - re);
  }
  const limit: u64 = sign ? indef : indef - 1;
  if (mag > limit) { EXC = (EXC & ~PE) | IE; RM = indef; UP = false; return; }
  RM = (sign ? 0 - mag : mag) & mask;
}

/** Loads a constant rounded by RC: `nearest` is the value rounded to nearest, `dir` its rounding direction (+1 up, -1 down). */
export function constant(m: u64, se: u32, dir: i32): void {
  set(m, se);
  if (dir > 0 && (rc == 1 || rc == 3)) set(m - 1, se);
  else if (dir < 0 && rc == 2) set(m + 1, se);
}
