// Data movement: mov forms, movzx/movsx/movsxd, lea, xchg, cmpxchg(8b/16b), xadd, cmovcc,
// setcc, cbw/cwde/cdqe, cwd/cdq/cqo.

import { Insn, I_MEM } from './insn';
import { Cpu, Exit, reg64, setReg64, readReg, writeReg, sizeMask, signExtend, RAX, RDX, RBX, RCX } from './state';
import { ZF, Flags, materialize, condition } from './flags';
import { ea, leaAddress, readE, writeE, readG, writeG, readRmw, writeRmw, hasRex, rmwAddress } from './operands';
import { readMem, writeMem, rmwRead, checkWritable } from './mmu';
import { alu, ALU_ADD, ALU_CMP } from './alu';

@inline export function movEG(e: Insn): void {
  writeE(e, <u32>e.size, readG(e, <u32>e.size));
}

@inline export function movGE(e: Insn): void {
  const v = readE(e, <u32>e.size);
  if (Cpu.exit) return;
  writeG(e, <u32>e.size, v);
}

export function movEI(e: Insn): void {
  writeE(e, <u32>e.size, e.imm & sizeMask(<u32>e.size));
}

export function movRI(e: Insn): void {
  writeReg(e.rm, <u32>e.size, e.imm, hasRex(e));
}

/** mov al/eAX, moffs */
export function movAO(e: Insn): void {
  const v = readMem(ea(e), <u32>e.size);
  if (Cpu.exit) return;
  writeReg(RAX, <u32>e.size, v, false);
}

/** mov moffs, al/eAX */
export function movOA(e: Insn): void {
  writeMem(ea(e), <u32>e.size, readReg(RAX, <u32>e.size, false));
}

@inline export function lea(e: Insn): void {
  writeG(e, <u32>e.size, leaAddress(e)); // the write truncates to the operand size
}

export function movExtend(e: Insn, from: u32, signed: bool): void {
  const v = readE(e, from);
  if (Cpu.exit) return;
  writeG(e, <u32>e.size, signed ? signExtend(v, from) : v);
}

export function movsxd(e: Insn): void {
  const v = readE(e, 4);
  if (Cpu.exit) return;
  writeG(e, <u32>e.size, e.size == 8 ? signExtend(v, 4) : v);
}

export function xchgEG(e: Insn): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  const g = readG(e, size);
  writeRmw(e, size, g);
  writeG(e, size, d);
}

/** 90+r: xchg r, rAX */
export function xchgAR(e: Insn): void {
  const size = <u32>e.size;
  const a = readReg(RAX, size, false);
  const r = readReg(e.rm, size, true);
  writeReg(RAX, size, r, false);
  writeReg(e.rm, size, a, true);
}

export function cmpxchg(e: Insn): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  const acc = readReg(RAX, size, false);
  alu(ALU_CMP, acc, d, size);
  if (acc == d) {
    writeRmw(e, size, readG(e, size));
  } else {
    if (e.flags & I_MEM) writeRmw(e, size, d); // the destination is always written back
    writeReg(RAX, size, d, false);
  }
}

export function xadd(e: Insn): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  const s = readG(e, size);
  const r = alu(ALU_ADD, d, s, size);
  writeG(e, size, d);
  writeRmw(e, size, r);
}

/** cmpxchg8b m64 / cmpxchg16b m128 (size 8 means 16b, which needs 16-byte alignment). */
export function cmpxchgWide(e: Insn): void {
  const a = ea(e);
  if (e.size == 8) {
    if (a & 15) {
      Cpu.interrupt = 13;
      Cpu.exit = Exit.Interrupt;
      return;
    }
    const lo = rmwRead(a, 8);
    if (Cpu.exit) return;
    const hi = rmwRead(a + 8, 8);
    if (Cpu.exit) return;
    const equal = lo == reg64(RAX) && hi == reg64(RDX);
    if (equal) {
      writeMem(a, 8, reg64(RBX));
      writeMem(a + 8, 8, reg64(RCX));
    } else {
      writeMem(a, 8, lo);
      writeMem(a + 8, 8, hi);
      setReg64(RAX, lo);
      setReg64(RDX, hi);
    }
    setZero(equal);
    return;
  }
  const v = rmwRead(a, 8);
  if (Cpu.exit) return;
  const expect = (reg64(RDX) << 32) | (reg64(RAX) & 0xffffffff);
  if (v == expect) {
    writeMem(a, 8, (reg64(RCX) << 32) | (reg64(RBX) & 0xffffffff));
    setZero(true);
  } else {
    writeMem(a, 8, v);
    setReg64(RAX, v & 0xffffffff);
    setReg64(RDX, v >> 32);
    setZero(false);
  }
}

function setZero(on: bool): void {
  const f = materialize();
  Flags.base = on ? f | ZF : f & ~ZF;
  Flags.mask = 0;
}

export function cmovcc(e: Insn): void {
  const size = <u32>e.size;
  const v = readE(e, size); // the load happens (and may fault) even when the move does not
  if (Cpu.exit) return;
  if (condition(e.ext)) writeG(e, size, v);
  else if (size == 4) writeG(e, 4, readG(e, 4)); // 32-bit cmov zero-extends even when not taken
}

export function setcc(e: Insn): void {
  writeE(e, 1, condition(e.ext) ? 1 : 0);
}

/** cbw / cwde / cdqe */
export function cbw(e: Insn): void {
  const size = <u32>e.size;
  const half = size >> 1;
  writeReg(RAX, size, signExtend(readReg(RAX, half, false), half), false);
}

/** cwd / cdq / cqo */
export function cwd(e: Insn): void {
  const size = <u32>e.size;
  const negative = (readReg(RAX, size, false) >> (<u64>((size << 3) - 1))) != 0;
  writeReg(RDX, size, negative ? <u64>-1 : 0, false);
}


/** movbe (0F 38 F0 load, F1 store): a byte-swapped move between a register and memory. */
export function movbe(e: Insn): void {
  const size = <u32>e.size;
  if (e.opcode == 0xf0) {
    const v = readE(e, size);
    if (Cpu.exit) return;
    writeG(e, size, byteSwap(v, size));
  } else {
    writeE(e, size, byteSwap(readG(e, size), size));
  }
}
function byteSwap(v: u64, size: u32): u64 {
  if (size == 8) return bswap<u64>(v);
  if (size == 4) return <u64>bswap<u32>(<u32>v);
  return <u64>bswap<u16>(<u16>v);
}
