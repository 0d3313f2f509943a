// SSE2 remainder, SSE3, SSSE3 and SSE4.1 packed integer and float: saturating/averaging/signed
// lane operations, shifts by an xmm count, pshufb, palignr, pmovzx/sx, ptest, blends, inserts and
// extracts, rounding, horizontal adds, movnt*/lddqu (moves with hints the core ignores).

import { Insn, I_MEM } from './insn';
import { Cpu, readReg, writeReg } from './state';
import { CF, PF, ZF, SF, AF, OF, Flags, materialize } from './flags';
import { readE, writeE, ea, hasRex } from './operands';
import { writeMem, checkWritable } from './mmu';
import { sourcePtr, destPtr, xmmPtr, commit, RESULT_TMP, generalProtection } from './sse-operands';
import { lane, setLane, signed } from './sse-lanes';

function saturate(v: i64, w: u32, unsignedRange: bool): u64 {
  const bits = <i64>(w << 3);
  const hi: i64 = unsignedRange ? ((<i64>1) << bits) - 1 : ((<i64>1) << (bits - 1)) - 1;
  const lo: i64 = unsignedRange ? 0 : -((<i64>1) << (bits - 1));
  return <u64>(v > hi ? hi : v < lo ? lo : v);
}

export const X_MINS: u32 = 0, X_MAXS: u32 = 1, X_MINU: u32 = 2, X_MAXU: u32 = 3, X_ADDS: u32 = 4, X_SUBS: u32 = 5,
  X_ADDUS: u32 = 6, X_SUBUS: u32 = 7, X_AVG: u32 = 8, X_MULHS: u32 = 9, X_MULHU: u32 = 10, X_MULLO: u32 = 11,
  X_EQ: u32 = 12, X_GT: u32 = 13, X_SIGN: u32 = 14, X_ABS: u32 = 15;

/** Lane-wise operations beyond sse-int.ts's set, on `w`-byte lanes. */
export function laneOpExt(e: Insn, kind: u32, w: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const n: u32 = (<u32>16) / w;
  const mask: u64 = w == 8 ? <u64>-1 : ((<u64>1) << (<u64>(w << 3))) - 1;
  for (let i: u32 = 0; i < n; i++) {
    const a = lane(d, i, w), b = lane(s, i, w);
    const sa = signed(a, w), sb = signed(b, w);
    let r: u64;
    switch (kind) {
      case X_MINS: r = sa < sb ? a : b; break;
      case X_MAXS: r = sa > sb ? a : b; break;
      case X_MINU: r = a < b ? a : b; break;
      case X_MAXU: r = a > b ? a : b; break;
      case X_ADDS: r = saturate(sa + sb, w, false); break;
      case X_SUBS: r = saturate(sa - sb, w, false); break;
      case X_ADDUS: r = saturate(<i64>(a + b), w, true); break;
      case X_SUBUS: r = a < b ? 0 : a - b; break;
      case X_AVG: r = (a + b + 1) >> 1; break;
      case X_MULHS: r = <u64>((sa * sb) >> (<i64>(w << 3))); break;
      case X_MULHU: r = (a * b) >> (<u64>(w << 3)); break;
      case X_MULLO: r = <u64>(sa * sb); break;
      case X_EQ: r = a == b ? mask : 0; break;
      case X_GT: r = sa > sb ? mask : 0; break;
      case X_SIGN: r = sb < 0 ? <u64>(-sa) : sb == 0 ? 0 : a; break;
      default: r = sb < 0 ? <u64>(-sb) : b; break; // pabs*: the source only
    }
    setLane(RESULT_TMP, i, w, r & mask);
  }
  commit(d, RESULT_TMP);
}

/** Shifts of every lane by a count: kind 2 srl, 4 sra, 6 sll (the /reg numbering of 0F 71..73). */
export function shiftLanes(d: usize, w: u32, kind: u32, count: u64): void {
  const bits = <u64>(w << 3);
  const lanes: u32 = (<u32>16) / w;
  const mask: u64 = w == 8 ? <u64>-1 : ((<u64>1) << bits) - 1;
  for (let i: u32 = 0; i < lanes; i++) {
    const a = lane(d, i, w);
    let r: u64;
    if (kind == 2) r = count >= bits ? 0 : a >> count;
    else if (kind == 6) r = count >= bits ? 0 : (a << count) & mask;
    else r = <u64>(signed(a, w) >> <i64>(count >= bits ? bits - 1 : count)) & mask;
    setLane(d, i, w, r);
  }
}

/** psrl/psra/psll w/d/q xmm, xmm/m128: the count is the low quadword of the source. */
export function shiftByXmm(e: Insn, w: u32, kind: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  shiftLanes(destPtr(e), w, kind, load<u64>(s));
}

/** pmaddwd: signed words multiplied, adjacent products added into dwords. */
export function pmaddwd(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  for (let i: u32 = 0; i < 4; i++) {
    const p0 = signed(lane(d, 2 * i, 2), 2) * signed(lane(s, 2 * i, 2), 2);
    const p1 = signed(lane(d, 2 * i + 1, 2), 2) * signed(lane(s, 2 * i + 1, 2), 2);
    setLane(RESULT_TMP, i, 4, <u64>(p0 + p1));
  }
  commit(d, RESULT_TMP);
}

/** psadbw: sums of absolute byte differences per 8-byte half, into the low word of each quadword. */
export function psadbw(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  for (let h: u32 = 0; h < 2; h++) {
    let sum: u64 = 0;
    for (let i: u32 = 0; i < 8; i++) {
      const a = <i32>lane(d, h * 8 + i, 1), b = <i32>lane(s, h * 8 + i, 1);
      sum += <u64>(a > b ? a - b : b - a);
    }
    setLane(RESULT_TMP, h, 8, sum);
  }
  commit(d, RESULT_TMP);
}

/** pshufb: each destination byte picks a source-selected byte of the destination, or 0 when bit 7 is set. */
export function pshufb(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  for (let i: u32 = 0; i < 16; i++) {
    const c = load<u8>(s + i);
    store<u8>(RESULT_TMP + i, c & 0x80 ? 0 : load<u8>(d + (c & 15)));
  }
  commit(d, RESULT_TMP);
}

/** palignr: bytes imm.. of the 32-byte concatenation destination:source. */
export function palignr(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const n = <u32>(e.imm & 0xff);
  for (let i: u32 = 0; i < 16; i++) {
    const k = i + n;
    store<u8>(RESULT_TMP + i, k < 16 ? load<u8>(s + k) : k < 32 ? load<u8>(d + (k - 16)) : 0);
  }
  commit(d, RESULT_TMP);
}

/** pmovzx/pmovsx: `from`-byte lanes widened to `to` bytes; the source is 16 * from / to bytes. */
export function pmovExtend(e: Insn, from: u32, to: u32, signExtend: bool): void {
  const n: u32 = (<u32>16) / to;
  const s = sourcePtr(e, n * from, false);
  if (s == 0) return;
  for (let i: u32 = 0; i < n; i++) {
    const v = lane(s, i, from);
    setLane(RESULT_TMP, i, to, signExtend ? <u64>signed(v, from) : v);
  }
  commit(destPtr(e), RESULT_TMP);
}

/** ptest: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0; AF PF SF OF cleared. */
export function ptest(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const and = (load<u64>(d) & load<u64>(s)) | (load<u64>(d, 8) & load<u64>(s, 8));
  const andn = (~load<u64>(d) & load<u64>(s)) | (~load<u64>(d, 8) & load<u64>(s, 8));
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | OF)) | (and == 0 ? ZF : 0) | (andn == 0 ? CF : 0);
  Flags.mask = 0;
}

/** Blends: pblendw/blendps/blendpd by imm bits, pblendvb/blendvps/blendvpd by xmm0 sign bits. */
export function blend(e: Insn, w: u32, byXmm0: bool): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const sel = xmmPtr(0);
  const n: u32 = (<u32>16) / w;
  for (let i: u32 = 0; i < n; i++) {
    const pick = byXmm0 ? (lane(sel, i, w) >> (<u64>((w << 3) - 1))) & 1 : (e.imm >> (<u64>i)) & 1;
    setLane(RESULT_TMP, i, w, pick ? lane(s, i, w) : lane(d, i, w));
  }
  commit(d, RESULT_TMP);
}

/** pextrb/pextrw/pextrd/pextrq and extractps: a lane into a GPR (zero-extended) or memory. */
export function extractLane(e: Insn, w: u32, fromRm: bool): void {
  // 66 0F C5 (pextrw r32, xmm) names the xmm in rm and the GPR in reg; the 0F3A forms the reverse.
  const x = fromRm ? xmmPtr(e.rm) : destPtr(e);
  const n: u32 = (<u32>16) / w;
  const v = lane(x, <u32>e.imm & (n - 1), w);
  if (fromRm) writeReg(e.reg, 8, v, hasRex(e));
  else if (e.flags & I_MEM) writeMem(ea(e), w, v);
  else writeReg(e.rm, w == 8 ? 8 : 4, v, hasRex(e));
}

/** pinsrb/pinsrw/pinsrd/pinsrq: a GPR or memory value into one lane. */
export function insertLane(e: Insn, w: u32): void {
  const v = readE(e, w == 8 ? 8 : w == 4 ? 4 : (e.flags & I_MEM) ? w : 4);
  if (Cpu.exit) return;
  const n: u32 = (<u32>16) / w;
  setLane(destPtr(e), <u32>e.imm & (n - 1), w, v);
}

/** insertps: a float from xmm (imm[7:6]) or m32 into lane imm[5:4], then zero lanes in imm[3:0]. */
export function insertps(e: Insn): void {
  const imm = <u32>e.imm;
  let v: u32;
  if (e.flags & I_MEM) {
    const s = sourcePtr(e, 4, false);
    if (s == 0) return;
    v = load<u32>(s);
  } else v = load<u32>(xmmPtr(e.rm) + (<usize>((imm >> 6) & 3) << 2));
  const d = destPtr(e);
  store<u32>(d + (<usize>((imm >> 4) & 3) << 2), v);
  for (let i: u32 = 0; i < 4; i++) if (imm & (1 << i)) store<u32>(d + (<usize>i << 2), 0);
}

/** roundps/pd/ss/sd: imm[2] selects MXCSR.RC, else imm[1:0]; NaN operands are quieted. */
export function roundOp(e: Insn, lanes: u32, w: u32): void {
  const s = sourcePtr(e, lanes == 1 ? w : 16, lanes > 1);
  if (s == 0) return;
  const d = destPtr(e);
  const imm = <u32>e.imm;
  const rc = imm & 4 ? (Cpu.mxcsr >> 13) & 3 : imm & 3;
  store<u64>(RESULT_TMP, load<u64>(d));
  store<u64>(RESULT_TMP, load<u64>(d, 8), 8);
  for (let i: u32 = 0; i < lanes; i++) {
    const o = <usize>(i * w);
    if (w == 8) {
      const b = load<u64>(s + o);
      const x = reinterpret<f64>(b);
      const r = rc == 0 ? nearest<f64>(x) : rc == 1 ? floor<f64>(x) : rc == 2 ? ceil<f64>(x) : trunc<f64>(x);
      store<u64>(RESULT_TMP + o, x != x ? b | 0x0008000000000000 : reinterpret<u64>(r));
    } else {
      const b = load<u32>(s + o);
      const x = reinterpret<f32>(b);
      const r = rc == 0 ? nearest<f32>(x) : rc == 1 ? floor<f32>(x) : rc == 2 ? ceil<f32>(x) : trunc<f32>(x);
      store<u32>(RESULT_TMP + o, x != x ? b | 0x00400000 : reinterpret<u32>(r));
    }
  }
  commit(d, RESULT_TMP);
}

/** phaddw/phaddd/phsubw/phsubd: pairs within the destination, then within the source. */
export function horizontalInt(e: Insn, w: u32, subtract: bool): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const half: u32 = (<u32>8) / w;
  for (let i: u32 = 0; i < half; i++) {
    setLane(RESULT_TMP, i, w, subtract ? lane(d, 2 * i, w) - lane(d, 2 * i + 1, w) : lane(d, 2 * i, w) + lane(d, 2 * i + 1, w));
    setLane(RESULT_TMP, half + i, w, subtract ? lane(s, 2 * i, w) - lane(s, 2 * i + 1, w) : lane(s, 2 * i, w) + lane(s, 2 * i + 1, w));
  }
  commit(d, RESULT_TMP);
}

/** movsldup (which 0), movshdup (1), movddup (2). */
export function duplicate(e: Insn, which: u32): void {
  const s = sourcePtr(e, which == 2 ? 8 : 16, which != 2);
  if (s == 0) return;
  if (which == 2) {
    store<u64>(RESULT_TMP, load<u64>(s));
    store<u64>(RESULT_TMP, load<u64>(s), 8);
  } else {
    const o: usize = which == 0 ? 0 : 4;
    store<u32>(RESULT_TMP, load<u32>(s + o));
    store<u32>(RESULT_TMP, load<u32>(s + o), 4);
    store<u32>(RESULT_TMP, load<u32>(s + o + 8), 8);
    store<u32>(RESULT_TMP, load<u32>(s + o + 8), 12);
  }
  commit(destPtr(e), RESULT_TMP);
}

/** lddqu (unaligned 128-bit load). */
export function lddqu(e: Insn): void {
  const s = sourcePtr(e, 16, false);
  if (s == 0) return;
  commit(destPtr(e), s);
}

/** movntps/movntpd/movntdq: an aligned 128-bit store (the non-temporal hint is ignored). */
export function movntStore(e: Insn): void {
  const a = ea(e);
  if ((a & 15) != 0) return generalProtection();
  if (!checkWritable(a, 16)) return;
  const s = destPtr(e);
  writeMem(a, 8, load<u64>(s));
  writeMem(a + 8, 8, load<u64>(s, 8));
}

/** movnti m32/m64, r. */
export function movnti(e: Insn): void {
  writeE(e, e.size, readReg(e.reg, e.size, hasRex(e)));
}

/** pmuldq: signed 32x32->64 of the even dwords. */
export function pmuldq(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  store<i64>(RESULT_TMP, (<i64>load<i32>(d)) * (<i64>load<i32>(s)));
  store<i64>(RESULT_TMP, (<i64>load<i32>(d, 8)) * (<i64>load<i32>(s, 8)), 8);
  commit(d, RESULT_TMP);
}

/** haddps/haddpd/hsubps/hsubpd (kind 0 add, 1 sub) and addsubps/addsubpd (kind 2). */
export function floatHorizontal(e: Insn, w: u32, kind: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  if (w == 8) {
    const a0 = load<f64>(d), a1 = load<f64>(d, 8), b0 = load<f64>(s), b1 = load<f64>(s, 8);
    store<f64>(RESULT_TMP, kind == 0 ? a0 + a1 : kind == 1 ? a0 - a1 : a0 - b0);
    store<f64>(RESULT_TMP, kind == 0 ? b0 + b1 : kind == 1 ? b0 - b1 : a1 + b1, 8);
  } else {
    for (let i: u32 = 0; i < 4; i++) {
      const o = <usize>i << 2;
      let r: f32;
      if (kind == 2) r = i & 1 ? load<f32>(d + o) + load<f32>(s + o) : load<f32>(d + o) - load<f32>(s + o);
      else {
        const p = i < 2 ? d : s;
        const x = load<f32>(p + ((<usize>(i & 1)) << 3)), y = load<f32>(p + ((<usize>(i & 1)) << 3) + 4);
        r = kind == 0 ? x + y : x - y;
      }
      store<f32>(RESULT_TMP + o, r);
    }
  }
  commit(d, RESULT_TMP);
}
