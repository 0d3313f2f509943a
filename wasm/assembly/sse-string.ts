// SSE4.2 packed string compares: pcmpistri/pcmpistrm (implicit, NUL-terminated lengths) and
// pcmpestri/pcmpestrm (lengths in eax/edx), as glibc's strchr/strspn/strstr family use them.
// imm8: [1:0] element format (ub, uw, sb, sw), [3:2] aggregation (equal any, ranges, equal each,
// equal ordered), [5:4] polarity, [6] most-significant index / byte-mask output.

import { Insn } from './insn';
import { reg64, setReg64, RAX, RCX, RDX } from './state';
import { CF, PF, ZF, SF, AF, OF, Flags, materialize } from './flags';
import { sourcePtr, destPtr, xmmPtr } from './sse-operands';

@inline function element(p: usize, i: u32, words: bool, signedElems: bool): i32 {
  if (words) return signedElems ? <i32>load<i16>(p + (<usize>i << 1)) : <i32>load<u16>(p + (<usize>i << 1));
  return signedElems ? <i32>load<i8>(p + i) : <i32>load<u8>(p + i);
}

function implicitLength(p: usize, n: u32, words: bool): u32 {
  for (let i: u32 = 0; i < n; i++) if (element(p, i, words, false) == 0) return i;
  return n;
}

function explicitLength(reg: u32, n: u32, wide: bool): u32 {
  let v: i64 = wide ? <i64>reg64(reg) : <i64>(<i32>reg64(reg));
  if (v < 0) v = -v;
  return v > <i64>n ? n : <u32>v;
}

/** Runs one packed string compare; `explicit` takes lengths from eax/edx, `indexOut` writes ecx, else xmm0. */
export function stringCompare(e: Insn, explicit: bool, indexOut: bool): void {
  const s = sourcePtr(e, 16, false); // SSE4.2 string compares allow unaligned memory
  if (s == 0) return;
  const a = destPtr(e);
  const imm = <u32>e.imm;
  const words = (imm & 1) != 0;
  const signedElems = (imm & 2) != 0;
  const n: u32 = words ? 8 : 16;
  const lenA = explicit ? explicitLength(RAX, n, e.size == 8) : implicitLength(a, n, words);
  const lenB = explicit ? explicitLength(RDX, n, e.size == 8) : implicitLength(s, n, words);
  const agg = (imm >> 2) & 3;
  let res: u32 = 0;
  for (let j: u32 = 0; j < n; j++) {
    let bit = false;
    const bj = element(s, j, words, signedElems);
    if (agg == 0) {
      if (j < lenB) for (let i: u32 = 0; i < lenA; i++) if (element(a, i, words, signedElems) == bj) { bit = true; break; }
    } else if (agg == 1) {
      if (j < lenB) {
        for (let i: u32 = 0; i + 1 < lenA; i += 2) {
          if (element(a, i, words, signedElems) <= bj && bj <= element(a, i + 1, words, signedElems)) { bit = true; break; }
        }
      }
    } else if (agg == 2) {
      const va = j < lenA, vb = j < lenB;
      bit = va && vb ? element(a, j, words, signedElems) == bj : !va && !vb;
    } else {
      bit = true;
      for (let i: u32 = 0; i + j < n; i++) {
        if (i >= lenA) break; // an invalid needle element matches anything
        if (i + j >= lenB) { bit = false; break; }
        if (element(a, i, words, signedElems) != element(s, i + j, words, signedElems)) { bit = false; break; }
      }
    }
    if (bit) res |= 1 << j;
  }
  const all: u32 = (1 << n) - 1;
  const polarity = (imm >> 4) & 3;
  if (polarity == 1) res = ~res & all;
  else if (polarity == 3) res = res ^ ((1 << lenB) - 1);
  if (indexOut) {
    let index: u32 = n;
    if (res != 0) index = imm & 0x40 ? 31 - clz<u32>(res) : ctz<u32>(res);
    setReg64(RCX, index);
  } else {
    const x = xmmPtr(0);
    if (imm & 0x40) {
      for (let j: u32 = 0; j < n; j++) {
        const m: u32 = (res >> j) & 1 ? 0xffff : 0;
        if (words) store<u16>(x + (<usize>j << 1), <u16>m);
        else store<u8>(x + j, <u8>m);
      }
    } else {
      store<u64>(x, res);
      store<u64>(x, 0, 8);
    }
  }
  let f: u64 = 0;
  if (res != 0) f |= CF;
  if (lenB < n) f |= ZF;
  if (lenA < n) f |= SF;
  if (res & 1) f |= OF;
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | OF)) | f;
  Flags.mask = 0;
}
