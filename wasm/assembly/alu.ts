// Integer ALU: add/or/adc/sbb/and/sub/xor/cmp (indexed like ModRM /reg, as blink's kAlu), test,
// inc/dec/neg/not. One flags path for all of them (flags.ts).

import { Insn } from './insn';
import { Cpu, sizeMask, signBit } from './state';
import { Flags, Lazy, ARITH, CF, setArith, setLogic, getCF, materialize } from './flags';
import { readE, readG, writeG, readRmw, writeRmw } from './operands';
import { readReg, writeReg } from './state';

export const ALU_ADD: u32 = 0, ALU_OR: u32 = 1, ALU_ADC: u32 = 2, ALU_SBB: u32 = 3, ALU_AND: u32 = 4, ALU_SUB: u32 = 5, ALU_XOR: u32 = 6, ALU_CMP: u32 = 7;

/** Computes `a kind b` at `size` bytes, sets the flags, returns the result. */
@inline export function alu(kind: u32, a: u64, b: u64, size: u32): u64 {
  const m = sizeMask(size), s = signBit(size);
  a &= m;
  b &= m;
  let r: u64;
  switch (kind) {
    case ALU_ADD:
      r = (a + b) & m;
      setArith(Lazy.Add, a, b, r, s);
      return r;
    case ALU_OR:
      r = a | b;
      setLogic(r, s);
      return r;
    case ALU_ADC: {
      const c = getCF();
      r = (a + b + c) & m;
      Flags.carryIn = c;
      setArith(Lazy.Adc, a, b, r, s);
      return r;
    }
    case ALU_SBB: {
      const c = getCF();
      r = (a - b - c) & m;
      Flags.carryIn = c;
      setArith(Lazy.Sbb, a, b, r, s);
      return r;
    }
    case ALU_AND:
      r = a & b;
      setLogic(r, s);
      return r;
    case ALU_XOR:
      r = a ^ b;
      setLogic(r, s);
      return r;
    default: // sub, cmp
      r = (a - b) & m;
      setArith(Lazy.Sub, a, b, r, s);
      return r;
  }
}

/** op E, G */
@inline export function aluEG(e: Insn): void {
  const size = <u32>e.size;
  const src = readG(e, size);
  if (e.ext == ALU_CMP) {
    const d = readE(e, size);
    if (Cpu.exit) return;
    alu(ALU_CMP, d, src, size);
    return;
  }
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  writeRmw(e, size, alu(e.ext, d, src, size));
}

/** op G, E */
@inline export function aluGE(e: Insn): void {
  const size = <u32>e.size;
  const src = readE(e, size);
  if (Cpu.exit) return;
  const r = alu(e.ext, readG(e, size), src, size);
  if (e.ext != ALU_CMP) writeG(e, size, r);
}

/** op AL/eAX, imm */
export function aluAI(e: Insn): void {
  const size = <u32>e.size;
  const r = alu(e.ext, readReg(0, size, false), e.imm, size);
  if (e.ext != ALU_CMP) writeReg(0, size, r, false);
}

/** op E, imm (group 1) */
@inline export function aluEI(e: Insn): void {
  const size = <u32>e.size;
  if (e.ext == ALU_CMP) {
    const d = readE(e, size);
    if (Cpu.exit) return;
    alu(ALU_CMP, d, e.imm, size);
    return;
  }
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  writeRmw(e, size, alu(e.ext, d, e.imm, size));
}

export function testEG(e: Insn): void {
  const size = <u32>e.size;
  const d = readE(e, size);
  if (Cpu.exit) return;
  setLogic(d & readG(e, size), signBit(size));
}

export function testAI(e: Insn): void {
  const size = <u32>e.size;
  setLogic(readReg(0, size, false) & e.imm & sizeMask(size), signBit(size));
}

/** inc/dec: like add/sub 1 but CF is preserved. */
@inline export function incDec(e: Insn, dec: bool): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  const m = sizeMask(size);
  const cf = getCF();
  const r = (dec ? d - 1 : d + 1) & m;
  // Only CF must be concrete in base: the new lazy mask covers the other arithmetic flags.
  Flags.base = (Flags.base & ~CF) | cf;
  setArith(dec ? Lazy.Sub : Lazy.Add, d, 1, r, signBit(size));
  Flags.mask = ARITH & ~CF;
  writeRmw(e, size, r);
}

export function notE(e: Insn): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  writeRmw(e, size, ~d & sizeMask(size));
}

export function negE(e: Insn): void {
  const size = <u32>e.size;
  const d = readRmw(e, size);
  if (Cpu.exit) return;
  const m = sizeMask(size);
  const r = (0 - d) & m;
  setArith(Lazy.Sub, 0, d & m, r, signBit(size));
  writeRmw(e, size, r);
}

export function testEI(e: Insn): void {
  const size = <u32>e.size;
  const d = readE(e, size);
  if (Cpu.exit) return;
  setLogic(d & e.imm & sizeMask(size), signBit(size));
}
