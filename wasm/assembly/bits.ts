// Bit instructions: bt/bts/btr/btc, bsf/bsr, tzcnt/lzcnt, popcnt, bswap.

import { Insn, I_MEM } from './insn';
import { Cpu, reg64, setReg64, readReg, writeReg, signExtend } from './state';
import { CF, ZF, OF, SF, AF, PF, Flags, materialize, setResultFlags } from './flags';
import { ea, readE, readG, writeG, hasRex } from './operands';
import { readMem, writeMem, rmwRead } from './mmu';

/** bt family; ext: 0 bt, 1 bts, 2 btr, 3 btc. Only CF is defined; other flags are kept. */
function bitOp(e: Insn, offset: u64, fromRegister: bool): void {
  const size = <u32>e.size;
  const bits = <u64>(size << 3);
  let bit = offset & (bits - 1);
  let v: u64, addr: u64 = 0;
  const kind = <u32>e.ext;
  if (e.flags & I_MEM) {
    addr = ea(e);
    if (fromRegister) {
      // A register bit offset is signed and may address memory outside the operand.
      const off = <i64>signExtend(offset, size);
      addr += <u64>((off >> (<i64>(size == 8 ? 6 : size == 4 ? 5 : 4))) * <i64>size);
    }
    v = kind == 0 ? readMem(addr, size) : rmwRead(addr, size);
  } else {
    v = readReg(e.rm, size, hasRex(e));
  }
  if (Cpu.exit) return;
  const mask = (<u64>1) << bit;
  const cf = (v >> bit) & 1;
  Flags.base = (materialize() & ~CF) | cf;
  Flags.mask = 0;
  if (kind == 0) return;
  const r = kind == 1 ? v | mask : kind == 2 ? v & ~mask : v ^ mask;
  if (e.flags & I_MEM) writeMem(addr, size, r);
  else writeReg(e.rm, size, r, hasRex(e));
}

export function btEG(e: Insn): void {
  bitOp(e, readG(e, <u32>e.size), true);
}
export function btEI(e: Insn): void {
  bitOp(e, e.imm & 0xff, false);
}

/** bsf/bsr: source 0 sets ZF and leaves the destination unchanged (as AMD documents and QEMU does). */
export function bitScan(e: Insn, reverse: bool): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  if (src == 0) {
    Flags.base = materialize() | ZF;
    Flags.mask = 0;
    return;
  }
  const r: u64 = reverse ? 63 - clz<u64>(src) : ctz<u64>(src);
  Flags.base = materialize() & ~ZF;
  Flags.mask = 0;
  writeG(e, size, r);
}

/** tzcnt/lzcnt: CF = source was 0, ZF = result is 0. */
export function bitCount(e: Insn, leading: bool): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  const bits = <u64>(size << 3);
  let r: u64;
  if (src == 0) r = bits;
  else if (leading) r = clz<u64>(src) - (64 - bits);
  else r = ctz<u64>(src);
  const f = materialize() & ~(CF | ZF);
  Flags.base = f | (src == 0 ? CF : 0) | (r == 0 ? ZF : 0);
  Flags.mask = 0;
  writeG(e, size, r);
}

export function popcntGE(e: Insn): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  const f = materialize() & ~(CF | ZF | OF | SF | AF | PF);
  Flags.base = f | (src == 0 ? ZF : 0);
  Flags.mask = 0;
  writeG(e, size, popcnt<u64>(src));
}

export function bswapR(e: Insn): void {
  const n = <u32>e.rm;
  if (e.size == 8) setReg64(n, bswap<u64>(reg64(n)));
  else setReg64(n, <u64>bswap<u32>(<u32>reg64(n))); // bswap r16 is undefined: do what QEMU does (32-bit swap)
}

