// Where things live in the emulated address space. The values follow what Linux and glibc
// give an x86-64 process with ASLR disabled (as under gdb), so addresses in reports look
// like the ones a developer sees natively.

import { PAGE_SIZE } from '../engine/engine.js';

/** Load base of a PIE executable with ASLR off (ELF_ET_DYN_BASE as the kernel picks it). */
export const PIE_BASE = 0x555555554000n;

/** mmap/dlopen area, allocated top-down as the kernel does below the stack gap. */
export const MMAP_TOP = 0x7ffff7fc0000n;

/** The libc "image": host-stub entry points, the sigreturn restorer and stub data (FILE objects, errno...). */
export const STUB_CODE_BASE = 0x7ffff7c00000n;
export const STUB_CODE_SIZE = 0x10000;
export const STUB_DATA_BASE = STUB_CODE_BASE + BigInt(STUB_CODE_SIZE);
export const STUB_DATA_SIZE = 0x10000;

/** The thread control block and static TLS block (fs_base points at the TCB). */
export const TLS_BASE = 0x7ffff7d80000n;
export const TLS_SIZE = 0x4000;
/** Static TLS area below the TCB (TLS variant II: the block ends at fs_base). */
export const STATIC_TLS_SIZE = 0x2000;

/**
 * Main thread stack: top of user space. STACK_SIZE is mapped at start; like Linux it grows
 * on demand (a fault below it) up to STACK_LIMIT, the default `ulimit -s` of 8 MiB; the page
 * below the limit is never mapped (the guard page): touching it is a stack overflow.
 */
export const STACK_TOP = 0x7ffffffff000n;
export const STACK_SIZE = 0x100000;
export const STACK_LIMIT = 0x800000;
/** How far below the faulting page the stack grows at once (fewer faults for big frames). */
export const STACK_GROWTH = 0x10000;

/** Initial heap size (brk-like area right after the executable); grows on demand. */
export const HEAP_INITIAL_SIZE = 0x40000;

export const PAGE = BigInt(PAGE_SIZE);

export function pageDown(address: bigint): bigint {
  return address & ~(PAGE - 1n);
}

export function pageUp(address: bigint): bigint {
  return (address + PAGE - 1n) & ~(PAGE - 1n);
}
