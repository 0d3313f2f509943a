// Operand access shared by the instruction files: effective addresses and E (r/m) operands.

import { Insn, I_MEM, I_REX, I_ADDR32, NO_REG } from './insn';
import { Cpu, reg64, readReg, writeReg } from './state';
import { readMem, writeMem, rmwRead } from './mmu';

/** Effective address of the memory operand, including an fs/gs base. */
@inline export function ea(e: Insn): u64 {
  let a = e.disp;
  if (e.base != NO_REG) a += reg64(e.base);
  if (e.index != NO_REG) a += reg64(e.index) << (<u64>e.scale);
  if (e.flags & I_ADDR32) a &= 0xffffffff;
  if (e.seg) a += e.seg == 4 ? Cpu.fsBase : Cpu.gsBase;
  return a;
}

/** Address without segment base (lea). */
@inline export function leaAddress(e: Insn): u64 {
  let a = e.disp;
  if (e.base != NO_REG) a += reg64(e.base);
  if (e.index != NO_REG) a += reg64(e.index) << (<u64>e.scale);
  return a;
}

@inline export function isMem(e: Insn): bool {
  return (e.flags & I_MEM) != 0;
}
@inline export function hasRex(e: Insn): bool {
  return (e.flags & I_REX) != 0;
}

@inline export function readE(e: Insn, size: u32): u64 {
  if (e.flags & I_MEM) return readMem(ea(e), size);
  return readReg(e.rm, size, (e.flags & I_REX) != 0);
}

@inline export function writeE(e: Insn, size: u32, v: u64): void {
  if (e.flags & I_MEM) writeMem(ea(e), size, v);
  else writeReg(e.rm, size, v, (e.flags & I_REX) != 0);
}

@inline export function readG(e: Insn, size: u32): u64 {
  return readReg(e.reg, size, (e.flags & I_REX) != 0);
}
@inline export function writeG(e: Insn, size: u32, v: u64): void {
  writeReg(e.reg, size, v, (e.flags & I_REX) != 0);
}

/** Reads the E operand for a read-modify-write; `rmwAddress` keeps the address for the write. */
export let rmwAddress: u64 = 0;
@inline export function readRmw(e: Insn, size: u32): u64 {
  if (e.flags & I_MEM) {
    rmwAddress = ea(e);
    return rmwRead(rmwAddress, size);
  }
  return readReg(e.rm, size, (e.flags & I_REX) != 0);
}
@inline export function writeRmw(e: Insn, size: u32, v: u64): void {
  if (e.flags & I_MEM) writeMem(rmwAddress, size, v);
  else writeReg(e.rm, size, v, (e.flags & I_REX) != 0);
}
