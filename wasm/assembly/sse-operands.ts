// XMM operand access for the SSE/SSE2 files: a pointer to 16 bytes of source (the register
// itself, or a scratch copy of the memory operand) and the destination register.

import { Insn, I_MEM } from './insn';
import { Cpu, Exit, XMM } from './state';
import { readMem } from './mmu';
import { ea } from './operands';

const SRC_TMP: usize = memory.data(16, 16);
/** Scratch for results built lane by lane (source and destination may be the same register). */
export const RESULT_TMP: usize = memory.data(16, 16);

@inline export function xmmPtr(n: u32): usize {
  return XMM + ((<usize>n) << 4);
}

/** General protection (#GP), e.g. a misaligned 16-byte SSE operand: reported as interrupt 13 at the instruction. */
export function generalProtection(): void {
  Cpu.interrupt = 13;
  Cpu.exit = Exit.Interrupt;
  Cpu.interruptIsFault = true;
}

/**
 * The source operand as a pointer to 16 bytes: the rm register, or `bytes` (4, 8 or 16) read from
 * memory into scratch with the rest zeroed. 16-byte reads check alignment when `aligned`.
 * Returns 0 after a fault.
 */
export function sourcePtr(e: Insn, bytes: u32, aligned: bool): usize {
  if ((e.flags & I_MEM) == 0) return xmmPtr(e.rm);
  const a = ea(e);
  if (bytes == 16) {
    if (aligned && (a & 15) != 0) {
      generalProtection();
      return 0;
    }
    const lo = readMem(a, 8);
    if (Cpu.exit) return 0;
    const hi = readMem(a + 8, 8);
    if (Cpu.exit) return 0;
    store<u64>(SRC_TMP, lo);
    store<u64>(SRC_TMP, hi, 8);
    return SRC_TMP;
  }
  const v = readMem(a, bytes);
  if (Cpu.exit) return 0;
  store<u64>(SRC_TMP, v);
  store<u64>(SRC_TMP, 0, 8);
  return SRC_TMP;
}

@inline export function destPtr(e: Insn): usize {
  return xmmPtr(e.reg);
}

/** Copies a 16-byte result into the destination register. */
@inline export function commit(dst: usize, result: usize): void {
  store<u64>(dst, load<u64>(result));
  store<u64>(dst, load<u64>(result, 8), 8);
}
