// SSE/SSE2 floating point: add/sub/mul/div/min/max/sqrt (ps, pd, ss, sd), compares, ucomis/comis,
// conversions. NaN results follow x86 (first NaN operand quieted, else the default -QNaN),
// not WebAssembly's nondeterministic NaN bits. MXCSR exception flags are not updated; rounding
// of float->int conversions follows MXCSR.RC.

import { Insn, I_MEM } from './insn';
import { Cpu, readReg } from './state';
import { CF, PF, ZF, SF, AF, OF, Flags, materialize } from './flags';
import { readE, writeG } from './operands';
import { sourcePtr, destPtr, commit, RESULT_TMP } from './sse-operands';

const QNAN64: u64 = 0xfff8000000000000;
const QNAN32: u32 = 0xffc00000;

@inline function isNaN64(b: u64): bool {
  return (b & 0x7fffffffffffffff) > 0x7ff0000000000000;
}
@inline function isNaN32(b: u32): bool {
  return (b & 0x7fffffff) > 0x7f800000;
}

export const F_ADD: u32 = 0, F_MUL: u32 = 1, F_SUB: u32 = 4, F_MIN: u32 = 5, F_DIV: u32 = 6, F_MAX: u32 = 7;

/** One double-precision operation with x86 NaN rules; `kind` is the opcode minus 0x58. */
function op64(kind: u32, ab: u64, bb: u64): u64 {
  const a = reinterpret<f64>(ab), b = reinterpret<f64>(bb);
  if (kind == F_MIN) return a < b ? ab : bb;
  if (kind == F_MAX) return a > b ? ab : bb;
  if (isNaN64(ab)) return ab | 0x0008000000000000;
  if (isNaN64(bb)) return bb | 0x0008000000000000;
  let r: f64;
  if (kind == F_ADD) r = a + b;
  else if (kind == F_MUL) r = a * b;
  else if (kind == F_SUB) r = a - b;
  else r = a / b;
  const rb = reinterpret<u64>(r);
  return isNaN64(rb) ? QNAN64 : rb;
}

function op32(kind: u32, ab: u32, bb: u32): u32 {
  const a = reinterpret<f32>(ab), b = reinterpret<f32>(bb);
  if (kind == F_MIN) return a < b ? ab : bb;
  if (kind == F_MAX) return a > b ? ab : bb;
  if (isNaN32(ab)) return ab | 0x00400000;
  if (isNaN32(bb)) return bb | 0x00400000;
  let r: f32;
  if (kind == F_ADD) r = a + b;
  else if (kind == F_MUL) r = a * b;
  else if (kind == F_SUB) r = a - b;
  else r = a / b;
  const rb = reinterpret<u32>(r);
  return isNaN32(rb) ? QNAN32 : rb;
}

/** add/mul/sub/min/div/max for ps (lanes 4, w 4), pd (2, 8), ss (1, 4), sd (1, 8). */
export function arith(e: Insn, lanes: u32, w: u32): void {
  const kind = <u32>e.opcode - 0x58;
  const s = sourcePtr(e, lanes == 1 ? w : 16, lanes > 1);
  if (s == 0) return;
  const d = destPtr(e);
  for (let i: u32 = 0; i < lanes; i++) {
    const o = <usize>(i * w);
    if (w == 8) store<u64>(d + o, op64(kind, load<u64>(d + o), load<u64>(s + o)));
    else store<u32>(d + o, op32(kind, load<u32>(d + o), load<u32>(s + o)));
  }
}

export function sqrtOp(e: Insn, lanes: u32, w: u32): void {
  const s = sourcePtr(e, lanes == 1 ? w : 16, lanes > 1);
  if (s == 0) return;
  const d = destPtr(e);
  for (let i: u32 = 0; i < lanes; i++) {
    const o = <usize>(i * w);
    if (w == 8) {
      const b = load<u64>(s + o);
      const r = isNaN64(b) ? b | 0x0008000000000000 : reinterpret<u64>(sqrt<f64>(reinterpret<f64>(b)));
      store<u64>(RESULT_TMP + o, isNaN64(r) && !isNaN64(b) ? QNAN64 : r);
    } else {
      const b = load<u32>(s + o);
      const r = isNaN32(b) ? b | 0x00400000 : reinterpret<u32>(sqrt<f32>(reinterpret<f32>(b)));
      store<u32>(RESULT_TMP + o, isNaN32(r) && !isNaN32(b) ? QNAN32 : r);
    }
  }
  for (let i: u32 = 0; i < lanes; i++) {
    const o = <usize>(i * w);
    if (w == 8) store<u64>(d + o, load<u64>(RESULT_TMP + o));
    else store<u32>(d + o, load<u32>(RESULT_TMP + o));
  }
}

/** ucomiss/ucomisd/comiss/comisd: ZF PF CF = 111 unordered, 000 greater, 001 less, 100 equal. */
export function ucomi(e: Insn, w: u32): void {
  const s = sourcePtr(e, w, false);
  if (s == 0) return;
  const d = destPtr(e);
  let a: f64, b: f64;
  if (w == 8) {
    a = load<f64>(d);
    b = load<f64>(s);
  } else {
    a = <f64>load<f32>(d);
    b = <f64>load<f32>(s);
  }
  let f: u64;
  if (a != a || b != b) f = ZF | PF | CF;
  else if (a > b) f = 0;
  else if (a < b) f = CF;
  else f = ZF;
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | OF)) | f;
  Flags.mask = 0;
}

/** cmpps/cmppd/cmpss/cmpsd with predicate imm & 7: eq lt le unord neq nlt nle ord. */
export function cmpOp(e: Insn, lanes: u32, w: u32): void {
  const s = sourcePtr(e, lanes == 1 ? w : 16, lanes > 1);
  if (s == 0) return;
  const d = destPtr(e);
  const pred = <u32>e.imm & 7;
  for (let i: u32 = 0; i < lanes; i++) {
    const o = <usize>(i * w);
    const a: f64 = w == 8 ? load<f64>(d + o) : <f64>load<f32>(d + o);
    const b: f64 = w == 8 ? load<f64>(s + o) : <f64>load<f32>(s + o);
    const unordered = a != a || b != b;
    let r: bool;
    switch (pred) {
      case 0: r = a == b; break;
      case 1: r = a < b; break;
      case 2: r = a <= b; break;
      case 3: r = unordered; break;
      case 4: r = !(a == b); break;
      case 5: r = !(a < b); break;
      case 6: r = !(a <= b); break;
      default: r = !unordered; break;
    }
    if (w == 8) store<u64>(d + o, r ? <u64>-1 : 0);
    else store<u32>(d + o, r ? <u32>-1 : 0);
  }
}

/** cvtsi2ss/cvtsi2sd: a 32- or 64-bit signed integer (REX.W) into the low lane. */
export function intToScalar(e: Insn, w: u32): void {
  const size = <u32>e.size == 8 ? 8 : 4;
  const v = readE(e, size);
  if (Cpu.exit) return;
  const n: i64 = size == 8 ? <i64>v : <i64>(<i32>v);
  const d = destPtr(e);
  if (w == 8) store<f64>(d, <f64>n);
  else store<f32>(d, <f32>n);
}

/** Rounds per MXCSR.RC (or truncates) and converts to a signed integer of `size` bytes; out of range or NaN gives the indefinite value. */
function toInt(x: f64, size: u32, truncate: bool): u64 {
  let r: f64;
  if (truncate) r = trunc<f64>(x);
  else {
    const rc = (Cpu.mxcsr >> 13) & 3;
    r = rc == 0 ? nearest<f64>(x) : rc == 1 ? floor<f64>(x) : rc == 2 ? ceil<f64>(x) : trunc<f64>(x);
  }
  if (size == 8) {
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return 0x8000000000000000;
    return <u64>(<i64>r);
  }
  if (!(r >= -2147483648.0 && r <= 2147483647.0)) return 0x80000000;
  return <u64>(<u32>(<i32>r));
}

/** cvt(t)ss2si / cvt(t)sd2si into a 32- or 64-bit GPR. */
export function scalarToInt(e: Insn, w: u32, truncate: bool): void {
  const s = sourcePtr(e, w, false);
  if (s == 0) return;
  const x: f64 = w == 8 ? load<f64>(s) : <f64>load<f32>(s);
  const size = <u32>e.size == 8 ? 8 : 4;
  writeG(e, size, toInt(x, size, truncate));
}

/** f32 bits -> f64 bits, keeping NaN payloads quieted as x86 does. */
function widen(b: u32): u64 {
  if (isNaN32(b)) return ((<u64>(b & 0x80000000)) << 32) | 0x7ff8000000000000 | ((<u64>(b & 0x3fffff)) << 29);
  return reinterpret<u64>(<f64>reinterpret<f32>(b));
}
function narrow(b: u64): u32 {
  if (isNaN64(b)) return (<u32>(b >> 32) & 0x80000000) | 0x7fc00000 | <u32>((b >> 29) & 0x3fffff);
  return reinterpret<u32>(<f32>reinterpret<f64>(b));
}

export function cvtss2sd(e: Insn): void {
  const s = sourcePtr(e, 4, false);
  if (s == 0) return;
  store<u64>(destPtr(e), widen(load<u32>(s)));
}

export function cvtsd2ss(e: Insn): void {
  const s = sourcePtr(e, 8, false);
  if (s == 0) return;
  store<u32>(destPtr(e), narrow(load<u64>(s)));
}

/** Packed conversions: 0 cvtps2pd, 1 cvtpd2ps, 2 cvtdq2pd, 3 cvtdq2ps, 4 cvttps2dq, 5 cvttpd2dq. */
export function packedConvert(e: Insn, kind: u32): void {
  const narrowSource = kind == 0 || kind == 2;
  const s = sourcePtr(e, narrowSource ? 8 : 16, !narrowSource);
  if (s == 0) return;
  const d = destPtr(e);
  store<u64>(RESULT_TMP, 0);
  store<u64>(RESULT_TMP, 0, 8);
  switch (kind) {
    case 0:
      for (let i: u32 = 0; i < 2; i++) store<u64>(RESULT_TMP + (<usize>i << 3), widen(load<u32>(s + (<usize>i << 2))));
      break;
    case 1:
      for (let i: u32 = 0; i < 2; i++) store<u32>(RESULT_TMP + (<usize>i << 2), narrow(load<u64>(s + (<usize>i << 3))));
      break;
    case 2:
      for (let i: u32 = 0; i < 2; i++) store<f64>(RESULT_TMP + (<usize>i << 3), <f64>load<i32>(s + (<usize>i << 2)));
      break;
    case 3:
      for (let i: u32 = 0; i < 4; i++) store<f32>(RESULT_TMP + (<usize>i << 2), <f32>load<i32>(s + (<usize>i << 2)));
      break;
    case 4:
      for (let i: u32 = 0; i < 4; i++) store<u32>(RESULT_TMP + (<usize>i << 2), <u32>toInt(<f64>load<f32>(s + (<usize>i << 2)), 4, true));
      break;
    default:
      for (let i: u32 = 0; i < 2; i++) store<u32>(RESULT_TMP + (<usize>i << 2), <u32>toInt(load<f64>(s + (<usize>i << 3)), 4, true));
      break;
  }
  commit(d, RESULT_TMP);
}

