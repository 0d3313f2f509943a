// Architectural state shared by every instruction file. GPRs and XMMs live at fixed addresses in
// linear memory so the host reads and writes them without a call; scalars are wasm globals.

/** 16 GPRs, 8 bytes each, in x86 encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15). */
export const GPR: usize = memory.data(16 * 8, 64);
/** 16 XMM registers, 16 bytes each, little-endian. */
export const XMM: usize = memory.data(16 * 16, 64);

/** Why run() returned: mirrors the host's StopReason plus internal hook exits. */
export const enum Exit {
  None = 0,
  Count = 1,
  Breakpoint = 2,
  Until = 3,
  Fault = 4,
  Invalid = 5,
  Syscall = 6,
  Interrupt = 7,
  Divide = 8,
  Hook = 9,
  /** A thread's quantum ended and the host must finish the switch (threads.ts). */
  Quantum = 10,
}

export const enum Access { Read = 0, Write = 1, Fetch = 2 }
export const enum FaultKind { Unmapped = 1, Protection = 2 }

export class Cpu {
  static rip: u64 = 0;
  static exit: u32 = 0;
  static interrupt: u32 = 0;
  static fsBase: u64 = 0;
  static gsBase: u64 = 0;
  static mxcsr: u32 = 0x1f80;
  /** Instructions retired since the core was created (rdtsc and trace sequence numbers derive from it). */
  static retired: u64 = 0;
  /** With Exit.Interrupt: a fault (#UD, #GP: rip stays on the instruction) rather than a trap. */
  static interruptIsFault: bool = false;
}

export class Fault {
  static kind: u32 = 0;
  static access: u32 = 0;
  static address: u64 = 0;
  static size: u32 = 0;
}

@inline export function reg64(n: u32): u64 {
  return load<u64>(GPR + ((<usize>n) << 3));
}
@inline export function setReg64(n: u32, v: u64): void {
  store<u64>(GPR + ((<usize>n) << 3), v);
}

@inline export function sizeMask(size: u32): u64 {
  return size == 8 ? <u64>-1 : ((<u64>1) << (<u64>(size << 3))) - 1;
}
@inline export function signBit(size: u32): u64 {
  return (<u64>1) << (<u64>((size << 3) - 1));
}
@inline export function signExtend(v: u64, size: u32): u64 {
  const sh = <u64>(64 - (size << 3));
  return <u64>((<i64>(v << sh)) >> sh);
}

/** Reads a GPR at an operand size; without REX, byte registers 4..7 are ah, ch, dh, bh. */
@inline export function readReg(n: u32, size: u32, rex: bool): u64 {
  if (size == 8) return reg64(n);
  if (size == 4) return reg64(n) & 0xffffffff;
  if (size == 2) return reg64(n) & 0xffff;
  if (!rex && n >= 4 && n < 8) return (reg64(n - 4) >> 8) & 0xff;
  return reg64(n) & 0xff;
}

/** Writes a GPR at an operand size: 32-bit writes zero-extend, 8/16-bit writes merge. */
@inline export function writeReg(n: u32, size: u32, v: u64, rex: bool): void {
  const p = GPR + ((<usize>n) << 3);
  if (size == 8) store<u64>(p, v);
  else if (size == 4) store<u64>(p, v & 0xffffffff);
  else if (size == 2) store<u16>(p, <u16>v);
  else if (!rex && n >= 4 && n < 8) store<u8>(GPR + ((<usize>(n - 4)) << 3) + 1, <u8>v);
  else store<u8>(p, <u8>v);
}

export const RAX: u32 = 0, RCX: u32 = 1, RDX: u32 = 2, RBX: u32 = 3, RSP: u32 = 4, RBP: u32 = 5, RSI: u32 = 6, RDI: u32 = 7;
