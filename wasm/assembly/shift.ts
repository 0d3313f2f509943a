// Shifts and rotates (group 2: rol ror rcl rcr shl shr sal sar) and shld/shrd. Counts are masked
// to 5 bits (6 for 64-bit operands); a masked count of 0 leaves the flags untouched. Undefined
// flags follow QEMU where that is cheap (AF = 0, OF computed for every count).

import { Insn } from './insn';
import { Cpu, sizeMask, signBit, signExtend, readReg, RCX } from './state';
import { CF, OF, AF, setResultFlags, setFlagBits, getCF, materialize, Flags } from './flags';
import { readRmw, writeRmw, readG } from './operands';

@inline function msb(v: u64, size: u32): u64 {
  return (v >> (<u64>((size << 3) - 1))) & 1;
}

export function shiftGroup(e: Insn, countSource: u32): void {
  const size = <u32>e.size;
  const raw = countSource == 0 ? <u32>e.imm : countSource == 1 ? 1 : <u32>readReg(RCX, 1, false);
  const count = raw & (size == 8 ? 0x3f : 0x1f);
  const a = readRmw(e, size);
  if (Cpu.exit) return;
  const bits = size << 3;
  const m = sizeMask(size);
  const sign = signBit(size);
  if (count == 0) {
    writeRmw(e, size, a); // still written (32-bit registers zero-extend)
    return;
  }
  let r: u64 = a;
  switch (e.ext) {
    case 0: { // rol
      const c = count & (bits - 1);
      r = c == 0 ? a : ((a << (<u64>c)) | (a >> (<u64>(bits - c)))) & m;
      const cf = r & 1;
      setRotateFlags(cf, (msb(r, size) ^ cf) != 0);
      break;
    }
    case 1: { // ror
      const c = count & (bits - 1);
      r = c == 0 ? a : ((a >> (<u64>c)) | (a << (<u64>(bits - c)))) & m;
      const cf = msb(r, size);
      setRotateFlags(cf, (cf ^ ((r >> (<u64>(bits - 2))) & 1)) != 0);
      break;
    }
    case 2: // rcl
    case 3: { // rcr
      const c = bits < 32 ? count % (bits + 1) : count;
      if (c == 0) {
        writeRmw(e, size, a);
        return;
      }
      let cf = getCF();
      r = a;
      for (let i: u32 = 0; i < c; i++) {
        if (e.ext == 2) {
          const out = msb(r, size);
          r = ((r << 1) | cf) & m;
          cf = out;
        } else {
          const out = r & 1;
          r = (r >> 1) | (cf << (<u64>(bits - 1)));
          cf = out;
        }
      }
      setRotateFlags(cf, msb(a ^ r, size) != 0);
      break;
    }
    case 4:
    case 6: { // shl / sal
      const t = (a << (<u64>(count - 1))) & m;
      r = (t << 1) & m;
      const cf = msb(t, size);
      setResultFlags(r, sign, CF | OF | AF, cf | (msb(t ^ r, size) << 11));
      break;
    }
    case 5: { // shr
      const t = a >> (<u64>(count - 1));
      r = t >> 1;
      setResultFlags(r, sign, CF | OF | AF, (t & 1) | (msb(t ^ r, size) << 11));
      break;
    }
    default: { // sar
      const t = <u64>(<i64>signExtend(a, size) >> (<i64>(count - 1))) & m;
      r = <u64>(<i64>signExtend(t, size) >> 1) & m;
      setResultFlags(r, sign, CF | OF | AF, t & 1);
      break;
    }
  }
  writeRmw(e, size, r);
}

/** Rotates change only CF and OF. */
function setRotateFlags(cf: u64, overflow: bool): void {
  const f = materialize() & ~(CF | OF);
  Flags.base = f | cf | (overflow ? OF : 0);
  Flags.mask = 0;
}

/** shld/shrd E, G, imm8|cl */
export function doubleShift(e: Insn, left: bool, byCl: bool): void {
  const size = <u32>e.size;
  const raw = byCl ? <u32>readReg(RCX, 1, false) : <u32>e.imm;
  const count = raw & (size == 8 ? 0x3f : 0x1f);
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  if (count == 0) {
    writeRmw(e, size, d);
    return;
  }
  const s = readG(e, size);
  const bits = size << 3;
  const m = sizeMask(size);
  let r: u64, cf: u64;
  if (size == 2) {
    // 16-bit counts above 16 shift through a 48-bit d:s:d value as QEMU does (undefined result).
    const wide: u64 = left ? (d << 32) | (s << 16) | d : (d << 32) | (s << 16) | d;
    if (left) {
      const t = wide << (<u64>count);
      r = (t >> 32) & 0xffff;
      cf = (wide >> (<u64>(48 - count))) & 1;
    } else {
      const v = (s << 16) | d | (d << 32);
      const t = v >> (<u64>count);
      r = t & 0xffff;
      cf = (v >> (<u64>(count - 1))) & 1;
    }
  } else if (left) {
    r = ((d << (<u64>count)) | (s >> (<u64>(bits - count)))) & m;
    cf = (d >> (<u64>(bits - count))) & 1;
  } else {
    r = ((d >> (<u64>count)) | (s << (<u64>(bits - count)))) & m;
    cf = (d >> (<u64>(count - 1))) & 1;
  }
  setResultFlags(r, signBit(size), CF | OF | AF, cf | (msb(r ^ d, size) << 11));
  writeRmw(e, size, r);
}

