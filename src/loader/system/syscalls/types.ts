// The shape of one system call in the table: its Linux name and a handler that returns the
// value for rax (a -errno for failures) or an action the process carries out (exit,
// rt_sigreturn, or a stop naming what the sandbox does not emulate).

import type { Kernel } from '../kernel.js';

export type SyscallAction =
  | { kind: 'exit'; status: number }
  | { kind: 'sigreturn' }
  /** The sandbox cannot emulate this call (threads, other processes...): the run stops with `message`. */
  | { kind: 'unsupported'; message: string; wouldBlock?: WouldBlock };

/**
 * A call that waits for a descriptor: with other threads the caller blocks and re-runs it when
 * one of them changes a descriptor (or gets 0 when `timeoutNs` passes); alone, a finite timeout
 * passes on the virtual clock and an infinite one stops the run (nobody can wake it).
 */
export interface WouldBlock {
  timeoutNs?: bigint;
  /** Alone, fail with this errno instead of stopping (a pipe read: glibc sees EAGAIN). */
  aloneErrno?: number;
}

export type SyscallResult = bigint | number | SyscallAction;

export interface SyscallDefinition {
  name: string;
  /** Arguments: rdi, rsi, rdx, r10, r8, r9. */
  run(k: Kernel, a: readonly bigint[]): SyscallResult;
}

export type SyscallTable = Readonly<Record<number, SyscallDefinition>>;

export const i32 = (x: bigint | undefined): number => Number(BigInt.asIntN(32, x ?? 0n));
export const i64 = (x: bigint | undefined): bigint => BigInt.asIntN(64, x ?? 0n);
