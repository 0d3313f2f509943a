// SSE2 packed integer: logic, add/sub (wrapping and unsigned-saturating bytes), compares, unpacks,
// packs, shuffles, shifts, min/max, multiplies. Lanes are processed through a scratch result so
// a source that is also the destination is read intact.

import { Insn } from './insn';
import { sourcePtr, destPtr, xmmPtr, commit, RESULT_TMP } from './sse-operands';
import { lane, setLane, signed } from './sse-lanes';


export const LOGIC_AND: u32 = 0, LOGIC_ANDN: u32 = 1, LOGIC_OR: u32 = 2, LOGIC_XOR: u32 = 3;

/** Bitwise logic on 128 bits (pand/pandn/por/pxor and the ps/pd forms). */
export function logic128(e: Insn, kind: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  for (let o: usize = 0; o < 16; o += 8) {
    const a = load<u64>(d + o), b = load<u64>(s + o);
    const r = kind == LOGIC_AND ? a & b : kind == LOGIC_ANDN ? ~a & b : kind == LOGIC_OR ? a | b : a ^ b;
    store<u64>(d + o, r);
  }
}

export const LANE_ADD: u32 = 0, LANE_SUB: u32 = 1, LANE_EQ: u32 = 2, LANE_GT: u32 = 3, LANE_MINU: u32 = 4, LANE_MAXU: u32 = 5,
  LANE_ADDUS: u32 = 6, LANE_SUBUS: u32 = 7, LANE_MULLO: u32 = 8;

/** Lane-wise binary operations on `w`-byte lanes. */
export function laneOp(e: Insn, kind: u32, w: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const n: u32 = (<u32>16) / w;
  const mask: u64 = w == 8 ? <u64>-1 : ((<u64>1) << (<u64>(w << 3))) - 1;
  for (let i: u32 = 0; i < n; i++) {
    const a = lane(d, i, w), b = lane(s, i, w);
    let r: u64;
    switch (kind) {
      case LANE_ADD: r = a + b; break;
      case LANE_SUB: r = a - b; break;
      case LANE_EQ: r = a == b ? mask : 0; break;
      case LANE_GT: r = signed(a, w) > signed(b, w) ? mask : 0; break;
      case LANE_MINU: r = a < b ? a : b; break;
      case LANE_MAXU: r = a > b ? a : b; break;
      case LANE_ADDUS: r = a + b > mask ? mask : a + b; break;
      case LANE_SUBUS: r = a < b ? 0 : a - b; break;
      default: r = <u64>(signed(a, w) * signed(b, w)); break;
    }
    setLane(RESULT_TMP, i, w, r & mask);
  }
  commit(d, RESULT_TMP);
}

/** pmuludq: unsigned 32x32->64 of the even dwords. */
export function pmuludq(e: Insn): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  store<u64>(RESULT_TMP, (<u64>load<u32>(d)) * (<u64>load<u32>(s)));
  store<u64>(RESULT_TMP, (<u64>load<u32>(d, 8)) * (<u64>load<u32>(s, 8)), 8);
  commit(d, RESULT_TMP);
}

/** punpckl* / punpckh*: interleave `w`-byte lanes of the low or high halves. */
export function unpack(e: Insn, w: u32, high: bool): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const half: u32 = (<u32>8) / w;
  const from: u32 = high ? half : 0;
  for (let i: u32 = 0; i < half; i++) {
    setLane(RESULT_TMP, 2 * i, w, lane(d, from + i, w));
    setLane(RESULT_TMP, 2 * i + 1, w, lane(s, from + i, w));
  }
  commit(d, RESULT_TMP);
}

/** packsswb (w=2 -> 1, signed), packuswb (w=2 -> 1, unsigned), packssdw (w=4 -> 2, signed). */
export function pack(e: Insn, w: u32, unsignedSaturate: bool): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const n: u32 = (<u32>16) / w;
  const outW = w >> 1;
  const bits = <i64>(outW << 3);
  const hi: i64 = unsignedSaturate ? ((<i64>1) << bits) - 1 : ((<i64>1) << (bits - 1)) - 1;
  const lo: i64 = unsignedSaturate ? 0 : -((<i64>1) << (bits - 1));
  for (let i: u32 = 0; i < 2 * n; i++) {
    let v = signed(i < n ? lane(d, i, w) : lane(s, i - n, w), w);
    if (v > hi) v = hi;
    if (v < lo) v = lo;
    setLane(RESULT_TMP, i, outW, <u64>v);
  }
  commit(d, RESULT_TMP);
}

/** pshufd (which = 0), pshuflw (1), pshufhw (2). */
export function pshuf(e: Insn, which: u32): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const imm = <u32>e.imm;
  if (which == 0) {
    for (let i: u32 = 0; i < 4; i++) setLane(RESULT_TMP, i, 4, lane(s, (imm >> (i * 2)) & 3, 4));
  } else {
    const base: u32 = which == 1 ? 0 : 4;
    for (let i: u32 = 0; i < 8; i++) setLane(RESULT_TMP, i, 2, lane(s, i, 2));
    for (let i: u32 = 0; i < 4; i++) setLane(RESULT_TMP, base + i, 2, lane(s, base + ((imm >> (i * 2)) & 3), 2));
  }
  commit(d, RESULT_TMP);
}

/** shufps / shufpd: low lanes from the destination, high lanes from the source. */
export function shuf(e: Insn, double: bool): void {
  const s = sourcePtr(e, 16, true);
  if (s == 0) return;
  const d = destPtr(e);
  const imm = <u32>e.imm;
  if (double) {
    setLane(RESULT_TMP, 0, 8, lane(d, imm & 1, 8));
    setLane(RESULT_TMP, 1, 8, lane(s, (imm >> 1) & 1, 8));
  } else {
    setLane(RESULT_TMP, 0, 4, lane(d, imm & 3, 4));
    setLane(RESULT_TMP, 1, 4, lane(d, (imm >> 2) & 3, 4));
    setLane(RESULT_TMP, 2, 4, lane(s, (imm >> 4) & 3, 4));
    setLane(RESULT_TMP, 3, 4, lane(s, (imm >> 6) & 3, 4));
  }
  commit(d, RESULT_TMP);
}

/** Shifts by immediate: groups 0F 71 (w=2), 72 (w=4), 73 (w=8; /3 and /7 shift whole bytes). */
export function shiftImmediate(e: Insn, w: u32): void {
  const d = xmmPtr(e.rm);
  const count = <u32>(e.imm & 0xff);
  const op = <u32>e.ext;
  if (w == 8 && (op == 3 || op == 7)) {
    // psrldq / pslldq: byte shifts of the whole register
    const n: u32 = count > 16 ? 16 : count;
    for (let i: u32 = 0; i < 16; i++) {
      let v: u8 = 0;
      if (op == 3) { if (i + n < 16) v = load<u8>(d + i + n); }
      else if (i >= n) v = load<u8>(d + i - n);
      store<u8>(RESULT_TMP + i, v);
    }
    commit(d, RESULT_TMP);
    return;
  }
  const bits = w << 3;
  const lanes: u32 = (<u32>16) / w;
  const mask: u64 = w == 8 ? <u64>-1 : ((<u64>1) << (<u64>bits)) - 1;
  for (let i: u32 = 0; i < lanes; i++) {
    const a = lane(d, i, w);
    let r: u64;
    if (op == 2) r = count >= bits ? 0 : a >> (<u64>count);
    else if (op == 6) r = count >= bits ? 0 : (a << (<u64>count)) & mask;
    else r = <u64>(signed(a, w) >> (<i64>(count >= bits ? bits - 1 : count))) & mask; // psra
    setLane(d, i, w, r);
  }
}
