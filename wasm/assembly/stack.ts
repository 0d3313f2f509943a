// Stack and control transfer: push/pop (incl. rsp quirks), pushf/popf, enter/leave, jmp/jcc/call/ret,
// loop/loope/loopne/jrcxz.

import { Insn, I_MEM, I_ADDR32 } from './insn';
import { Cpu, reg64, setReg64, readReg, writeReg, RSP, RBP, RCX } from './state';
import { condition, getZF, materialize, setRflags, Flags, RFLAGS_WRITABLE } from './flags';
import { ea, readE, writeE } from './operands';
import { readMem, writeMem, readMem64, writeMem64 } from './mmu';

/** Pushes `size` (8 or 2) bytes; false when the write faulted (rsp unchanged). */
@inline export function push(v: u64, size: u32): bool {
  const sp = reg64(RSP) - size;
  if (!(size == 8 ? writeMem64(sp, v) : writeMem(sp, size, v))) return false;
  setReg64(RSP, sp);
  return true;
}

export function pushR(e: Insn): void {
  push(readReg(e.rm, <u32>e.size, true), <u32>e.size); // push rsp pushes the old value
}

export function popR(e: Insn): void {
  const size = <u32>e.size;
  const sp = reg64(RSP);
  const v = size == 8 ? readMem64(sp) : readMem(sp, size);
  if (Cpu.exit) return;
  setReg64(RSP, sp + size);
  writeReg(e.rm, size, v, true); // pop rsp: the loaded value wins
}

export function pushI(e: Insn): void {
  push(e.imm, <u32>e.size);
}

/** push E (FF /6): 64-bit by default like every push; 66 makes it 16-bit. */
export function pushE(e: Insn): void {
  const size: u32 = e.size == 2 ? 2 : 8;
  const v = readE(e, size);
  if (Cpu.exit) return;
  push(v, size);
}

/** pop E: an rsp-based address is computed after rsp is incremented. */
export function popE(e: Insn): void {
  const size = <u32>e.size;
  const sp = reg64(RSP);
  const v = readMem(sp, size);
  if (Cpu.exit) return;
  setReg64(RSP, sp + size);
  writeE(e, size, v);
  if (Cpu.exit) setReg64(RSP, sp);
}

export function pushf(e: Insn): void {
  push(materialize() & 0xfcffff, <u32>e.size); // VM and RF read as 0
}

export function popf(e: Insn): void {
  const size = <u32>e.size;
  const sp = reg64(RSP);
  const v = readMem(sp, size);
  if (Cpu.exit) return;
  setReg64(RSP, sp + size);
  const keep = materialize() & ~RFLAGS_WRITABLE;
  const newBits = size == 2 ? (materialize() & 0xffff0000) | v : v;
  // IF (and IOPL) cannot be changed from user mode.
  setRflags((newBits & RFLAGS_WRITABLE & ~(<u64>0x200)) | (Flags.base & 0x200) | keep);
}

/** leave: rsp = rbp, then pop rbp (bp with a 66 prefix). */
export function leave(e: Insn): void {
  const size = <u32>e.size;
  const bp = reg64(RBP);
  const v = readMem(bp, size);
  if (Cpu.exit) return;
  setReg64(RSP, bp + size);
  writeReg(RBP, size, v, false);
}

export function enter(e: Insn): void {
  const frameSize = e.imm & 0xffff;
  const level = <u32>(e.imm2 & 31);
  const sp0 = reg64(RSP);
  const bp = reg64(RBP);
  const size = <u32>e.size;
  if (!push(size == 2 ? bp & 0xffff : bp, size)) return;
  const frame = reg64(RSP);
  for (let i: u32 = 1; i < level; i++) {
    const v = readMem(bp - <u64>(i * size), size);
    if (Cpu.exit || !push(v, size)) {
      setReg64(RSP, sp0);
      return;
    }
  }
  if (level > 0 && !push(frame, size)) {
    setReg64(RSP, sp0);
    return;
  }
  writeReg(RBP, size, frame, false);
  setReg64(RSP, reg64(RSP) - frameSize);
}

@inline export function jcc(e: Insn): void {
  if (condition(e.ext)) Cpu.rip = e.imm;
}

@inline export function jmpRel(e: Insn): void {
  Cpu.rip = e.imm;
}

export function callRel(e: Insn): void {
  if (push(Cpu.rip, 8)) Cpu.rip = e.imm;
}

export function callE(e: Insn): void {
  const target = readE(e, 8);
  if (Cpu.exit) return;
  if (push(Cpu.rip, 8)) Cpu.rip = target;
}

export function jmpE(e: Insn): void {
  const target = readE(e, 8);
  if (Cpu.exit) return;
  Cpu.rip = target;
}

export function ret(e: Insn, extra: u64): void {
  const sp = reg64(RSP);
  const target = readMem64(sp);
  if (Cpu.exit) return;
  setReg64(RSP, sp + 8 + extra);
  Cpu.rip = target;
}

/** loop/loope/loopne (kind 0/1/2) and jrcxz (kind 3); the address size picks rcx or ecx. */
export function loopFamily(e: Insn, kind: u32): void {
  const wide = (e.flags & I_ADDR32) == 0;
  let c = wide ? reg64(RCX) : reg64(RCX) & 0xffffffff;
  if (kind == 3) {
    if (c == 0) Cpu.rip = e.imm;
    return;
  }
  c = wide ? c - 1 : (c - 1) & 0xffffffff;
  if (wide) setReg64(RCX, c);
  else writeReg(RCX, 4, c, false);
  let taken = c != 0;
  if (kind == 1) taken = taken && getZF();
  else if (kind == 2) taken = taken && !getZF();
  if (taken) Cpu.rip = e.imm;
}

