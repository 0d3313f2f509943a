// String instructions: movs/stos/lods/cmps/scas with rep/repe/repne and DF. One iteration per
// dispatch (rip stays on the instruction until the repetition ends), as QEMU does: faults,
// budgets and hooks see each iteration, and the state between iterations is architectural.

import { Insn, I_REP, I_REPNE, I_ADDR32 } from './insn';
import { Cpu, reg64, setReg64, readReg, writeReg, RAX, RCX, RSI, RDI } from './state';
import { DF, Flags, getZF } from './flags';
import { readMem, writeMem } from './mmu';
import { alu, ALU_CMP } from './alu';

export const STR_MOVS: u32 = 0, STR_STOS: u32 = 1, STR_LODS: u32 = 2, STR_CMPS: u32 = 3, STR_SCAS: u32 = 4;

@inline function addrReg(n: u32, wide: bool): u64 {
  return wide ? reg64(n) : reg64(n) & 0xffffffff;
}
@inline function setAddrReg(n: u32, v: u64, wide: bool): void {
  if (wide) setReg64(n, v);
  else writeReg(n, 4, v, false);
}

export function stringOp(e: Insn, kind: u32): void {
  const size = <u32>e.size;
  const wide = (e.flags & I_ADDR32) == 0;
  const rep = (e.flags & (I_REP | I_REPNE)) != 0;
  if (rep && addrReg(RCX, wide) == 0) return;
  const step: u64 = (Flags.base & DF) ? <u64>(0 - size) : <u64>size;
  const srcBase: u64 = e.seg == 4 ? Cpu.fsBase : e.seg == 5 ? Cpu.gsBase : 0;
  const si = addrReg(RSI, wide), di = addrReg(RDI, wide);
  switch (kind) {
    case STR_MOVS: {
      const v = readMem(srcBase + si, size);
      if (Cpu.exit) return;
      if (!writeMem(di, size, v)) return;
      setAddrReg(RSI, si + step, wide);
      setAddrReg(RDI, di + step, wide);
      break;
    }
    case STR_STOS:
      if (!writeMem(di, size, readReg(RAX, size, false))) return;
      setAddrReg(RDI, di + step, wide);
      break;
    case STR_LODS: {
      const v = readMem(srcBase + si, size);
      if (Cpu.exit) return;
      writeReg(RAX, size, v, false);
      setAddrReg(RSI, si + step, wide);
      break;
    }
    case STR_CMPS: {
      const a = readMem(srcBase + si, size);
      if (Cpu.exit) return;
      const b = readMem(di, size);
      if (Cpu.exit) return;
      alu(ALU_CMP, a, b, size);
      setAddrReg(RSI, si + step, wide);
      setAddrReg(RDI, di + step, wide);
      break;
    }
    default: { // scas
      const b = readMem(di, size);
      if (Cpu.exit) return;
      alu(ALU_CMP, readReg(RAX, size, false), b, size);
      setAddrReg(RDI, di + step, wide);
      break;
    }
  }
  if (!rep) return;
  const c = addrReg(RCX, wide) - 1;
  setAddrReg(RCX, c, wide);
  if (c == 0) return;
  if (kind >= STR_CMPS) {
    // repe stops on ZF = 0, repne on ZF = 1 (the prefix bits mean e/ne only for cmps/scas)
    const z = getZF();
    if ((e.flags & I_REP) ? !z : z) return;
  }
  Cpu.rip = e.rip; // next iteration
}
