// Lazy arithmetic flags. The last flag-setting operation records its kind, operands, result and
// width; each flag is computed only when read, exactly as the hardware defines it. `mask` says
// which of the six arithmetic flags come from the lazy record; the rest live in `base`.

export const CF: u64 = 0x1, PF: u64 = 0x4, AF: u64 = 0x10, ZF: u64 = 0x40, SF: u64 = 0x80;
export const TF: u64 = 0x100, IF: u64 = 0x200, DF: u64 = 0x400, OF: u64 = 0x800;
export const ARITH: u64 = 0x8d5;
/** rflags bits a user-mode program (or the host) can set. */
export const RFLAGS_WRITABLE: u64 = 0x250fd5;

export const enum Lazy { Add = 0, Adc = 1, Sub = 2, Sbb = 3, Logic = 4 }

export class Flags {
  static base: u64 = 0x202;
  static mask: u64 = 0;
  static kind: u32 = 0;
  static dst: u64 = 0;
  static src: u64 = 0;
  static res: u64 = 0;
  static sign: u64 = 0x80;
  static carryIn: u64 = 0;
}

/** Records an add/sub-family result (operands and result already truncated to the width). */
@inline export function setArith(kind: u32, dst: u64, src: u64, res: u64, sign: u64): void {
  Flags.kind = kind;
  Flags.dst = dst;
  Flags.src = src;
  Flags.res = res;
  Flags.sign = sign;
  Flags.mask = ARITH;
}

/** Records a logic result: CF = OF = 0, AF = 0 (undefined), SF/ZF/PF from the result. */
@inline export function setLogic(res: u64, sign: u64): void {
  Flags.kind = Lazy.Logic;
  Flags.res = res;
  Flags.sign = sign;
  Flags.mask = ARITH;
}

/**
 * Sets SF/ZF/PF lazily from `res` and the given concrete CF/OF/AF bits (shifts, multiplies, ...).
 * `concrete` holds the values for the bits in `defined`.
 */
export function setResultFlags(res: u64, sign: u64, defined: u64, concrete: u64): void {
  // The new mask plus `defined` cover all six arithmetic flags, so base needs no materializing.
  Flags.base = (Flags.base & ~defined) | (concrete & defined);
  Flags.kind = Lazy.Logic;
  Flags.res = res;
  Flags.sign = sign;
  Flags.mask = ZF | SF | PF;
}

@inline function lazyCF(): u64 {
  const k = Flags.kind;
  if (k == Lazy.Add) return <u64>(Flags.res < Flags.dst);
  if (k == Lazy.Sub) return <u64>(Flags.dst < Flags.src);
  if (k == Lazy.Adc) return Flags.carryIn ? <u64>(Flags.res <= Flags.dst) : <u64>(Flags.res < Flags.dst);
  if (k == Lazy.Sbb) return Flags.carryIn ? <u64>(Flags.dst <= Flags.src) : <u64>(Flags.dst < Flags.src);
  return 0;
}

@inline function lazyOF(): u64 {
  const k = Flags.kind;
  if (k == Lazy.Logic) return 0;
  const d = Flags.dst, s = Flags.src, r = Flags.res;
  const x = k <= <u32>Lazy.Adc ? (d ^ r) & (s ^ r) : (d ^ s) & (d ^ r);
  return <u64>((x & Flags.sign) != 0);
}

@inline function lazyAF(): u64 {
  if (Flags.kind == Lazy.Logic) return 0;
  return (Flags.dst ^ Flags.src ^ Flags.res) & AF;
}

@inline function parity(v: u64): u64 {
  return <u64>((popcnt<u32>(<u32>v & 0xff) & 1) == 0);
}

@inline export function getCF(): u64 {
  return (Flags.mask & CF) ? lazyCF() : Flags.base & CF;
}
@inline export function getZF(): bool {
  return (Flags.mask & ZF) ? Flags.res == 0 : (Flags.base & ZF) != 0;
}
@inline export function getSF(): bool {
  return (Flags.mask & SF) ? (Flags.res & Flags.sign) != 0 : (Flags.base & SF) != 0;
}
@inline export function getOF(): bool {
  return (Flags.mask & OF) ? lazyOF() != 0 : (Flags.base & OF) != 0;
}
@inline export function getPF(): bool {
  return (Flags.mask & PF) ? parity(Flags.res) != 0 : (Flags.base & PF) != 0;
}

/** The full rflags value (lazy bits computed). */
export function materialize(): u64 {
  const m = Flags.mask;
  if (m == 0) return Flags.base;
  let f = Flags.base & ~m;
  if (m & CF) f |= lazyCF();
  if (m & PF) f |= parity(Flags.res) << 2;
  if (m & AF) f |= lazyAF();
  if (m & ZF) f |= (<u64>(Flags.res == 0)) << 6;
  if (m & SF) f |= (<u64>((Flags.res & Flags.sign) != 0)) << 7;
  if (m & OF) f |= lazyOF() << 11;
  return f;
}

export function setRflags(v: u64): void {
  Flags.base = (v & RFLAGS_WRITABLE) | 2;
  Flags.mask = 0;
}

/** Makes everything concrete, then sets or clears the given bits (clc/stc/bt/...). */
export function setFlagBits(bits: u64, on: bool): void {
  const f = materialize();
  Flags.base = on ? f | bits : f & ~bits;
  Flags.mask = 0;
}

/** Evaluates condition code cc (0..15: o no b ae e ne be a s ns p np l ge le g). */
@inline export function condition(cc: u32): bool {
  let r: bool;
  const c = cc >> 1;
  if (c == 2) {
    r = getZF();
  } else if (Flags.mask == ARITH && Flags.kind == Lazy.Sub) {
    // Fast path for cmp/sub, the overwhelmingly common producer of a jcc's flags.
    const d = Flags.dst, s = Flags.src, sh = <u64>(clz<u64>(Flags.sign));
    switch (c) {
      case 1: r = d < s; break;
      case 3: r = d <= s; break;
      case 6: r = (<i64>(d << sh)) < (<i64>(s << sh)); break;
      case 7: r = (<i64>(d << sh)) <= (<i64>(s << sh)); break;
      default: r = slowCondition(c);
    }
  } else {
    r = slowCondition(c);
  }
  return (cc & 1) ? !r : r;
}

function slowCondition(c: u32): bool {
  switch (c) {
    case 0: return getOF();
    case 1: return getCF() != 0;
    case 2: return getZF();
    case 3: return getCF() != 0 || getZF();
    case 4: return getSF();
    case 5: return getPF();
    case 6: return getSF() != getOF();
    default: return getZF() || getSF() != getOF();
  }
}
