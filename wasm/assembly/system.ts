// System-ish instructions: cpuid (a fixed model), rdtsc (from the instruction count), syscall and
// interrupts (exits to the host), fences, mxcsr, and direct flag manipulation.

import { Insn } from './insn';
import { Cpu, Exit, setReg64, readReg, writeReg, RAX, RBX, RCX, RDX } from './state';
import { CF, DF, ZF, SF, AF, PF, Flags, materialize, setFlagBits, getCF } from './flags';
import { ea } from './operands';
import { readMem, writeMem } from './mmu';
import { fxsave, fxrstor } from './x87';

/**
 * The CPU model cpuid reports, advertising only what this core implements (UnicornEngine answers
 * the same from src/engine/cpuid.ts: keep the two equal, test/engine/cpuid.test.ts checks):
 * leaf 1 edx: FPU(0) TSC(4) CX8(8) CMOV(15) FXSR(24) SSE(25) SSE2(26);
 *        ecx: SSE3(0) SSSE3(9) CX16(13) SSE4.1(19) SSE4.2(20) MOVBE(22) POPCNT(23) RDRAND(30).
 * MMX(23) is advertised although the core has no MMX instructions: it is part of the x86-64
 * baseline ISA level that Debian's libc.so.6 requires (ld.so refuses it otherwise); an MMX
 * instruction still stops as unsupported. No AVX/XSAVE/OSXSAVE (so no xgetbv), no RDSEED.
 * 0x80000001 edx: SYSCALL(11) NX(20) LM(29); ecx: LAHF-SAHF(0) ABM/lzcnt(5).
 */
export function cpuid(): void {
  const leaf = <u32>readReg(RAX, 4, false);
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  if (leaf == 0) {
    a = 1;
    b = 0x756e6547; // "Genu"
    d = 0x49656e69; // "ineI"
    c = 0x6c65746e; // "ntel"
  } else if (leaf == 1) {
    a = 0x000306a0; // family 6 model 0x3a
    d = (1 << 0) | (1 << 4) | (1 << 8) | (1 << 15) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
    c = (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 30);
  } else if (leaf == 0x80000000) {
    a = 0x80000001;
  } else if (leaf == 0x80000001) {
    d = (1 << 11) | (1 << 20) | (1 << 29);
    c = (1 << 0) | (1 << 5);
  }
  setReg64(RAX, a);
  setReg64(RBX, b);
  setReg64(RCX, c);
  setReg64(RDX, d);
}

/** A deterministic time stamp: the number of instructions retired before this one. */
export function rdtsc(): void {
  setReg64(RAX, Cpu.retired & 0xffffffff);
  setReg64(RDX, Cpu.retired >> 32);
}

/** syscall: the host services it; rip is already after the instruction. */
export function syscall(): void {
  Cpu.exit = Exit.Syscall;
}

/** Traps (int3, int n, hlt) leave rip after the instruction; ud2 is a fault and stays on it. */
export function interrupt(n: u32, fault: bool): void {
  Cpu.interrupt = n;
  Cpu.exit = Exit.Interrupt;
  Cpu.interruptIsFault = fault;
}

/** 0F AE: lfence/mfence/sfence (register forms) are no-ops here; fxsave/fxrstor; ldmxcsr/stmxcsr. */
export function grp15(e: Insn): void {
  if (e.mod == 3) return;
  if (e.ext == 0) return fxsave(e);
  if (e.ext == 1) return fxrstor(e);
  const a = ea(e);
  if (e.ext == 2) {
    const v = <u32>readMem(a, 4);
    if (Cpu.exit) return;
    if (v & 0xffff0000) return interrupt(13, true); // reserved bits set: #GP
    Cpu.mxcsr = v;
  } else {
    writeMem(a, 4, Cpu.mxcsr);
  }
}

export function flagOp(which: u32): void {
  switch (which) {
    case 0: setFlagBits(CF, false); break; // clc
    case 1: setFlagBits(CF, true); break; // stc
    case 2: setFlagBits(CF, getCF() == 0); break; // cmc
    case 3: Flags.base &= ~DF; break; // cld
    default: Flags.base |= DF; break; // std
  }
}

export function sahf(): void {
  const ah = (readReg(RAX, 2, false) >> 8) & 0xff;
  const bits = CF | PF | AF | ZF | SF;
  Flags.base = (materialize() & ~bits) | (ah & bits);
  Flags.mask = 0;
}

export function lahf(): void {
  writeReg(4, 1, (materialize() & 0xff) | 2, false); // ah
}

/** rdrand (0F C7 /6): deterministic, a xorshift64* sequence reset with the core, CF = 1 (always "ready"). */
let randomState: u64 = 0x2545f4914f6cdd1d;
export function rdrand(e: Insn): void {
  randomState ^= randomState >> 12;
  randomState ^= randomState << 25;
  randomState ^= randomState >> 27;
  const v = randomState * 0x2545f4914f6cdd1d;
  writeReg(e.rm, <u32>e.size, v, (e.flags & 2) != 0);
  Flags.base = (materialize() & ~(CF | PF | ZF | SF | AF | 0x800)) | CF;
  Flags.mask = 0;
}
