// Everything the verifier needs to know happened, recorded as data with the instruction
// count at which it happened (instructions retired since the process started).

import type { SignalFrame } from './kernel/signals.js';

export type ProcessEvent =
  | { kind: 'mprotect'; at: number; address: bigint; length: bigint; prot: number; result: number; via: 'libc' | 'syscall' | 'host'; caller: bigint }
  | { kind: 'mmap'; at: number; address: bigint; length: bigint; prot: number; flags: number; result: bigint }
  | { kind: 'munmap'; at: number; address: bigint; length: bigint; result: number }
  /** A write into a page that is or was executable (code modification), by guest instructions or a libc stub. */
  | { kind: 'code-write'; at: number; address: bigint; bytes: Uint8Array; rip: bigint; by: 'instruction' | 'libc' | 'host' }
  | { kind: 'dlopen'; at: number; path: string; flags: number; handle: bigint; error?: string; caller: bigint }
  | { kind: 'dlsym'; at: number; handle: bigint; symbol: string; /** dlvsym's version. */ version?: string; address: bigint; error?: string; caller: bigint }
  | { kind: 'dlclose'; at: number; handle: bigint; result: number }
  | { kind: 'signal-delivered'; at: number; signo: number; code: number; handler: bigint; frame: SignalFrame }
  | { kind: 'signal-return'; at: number; rip: bigint; rsp: bigint }
  | { kind: 'signal-ignored'; at: number; signo: number }
  | { kind: 'call'; at: number; address: bigint; returnAddress: bigint; rsp: bigint }
  | { kind: 'syscall'; at: number; number: number; name: string; result: bigint; args: bigint[] }
  | { kind: 'import-called'; at: number; symbol: string; caller: bigint };

/** One write(2)/printf's bytes on stdout (1) or stderr (2), in order. */
export interface OutputChunk {
  fd: number;
  bytes: Uint8Array;
  text: string;
  at: number;
  /** Set on the marker that stands for bytes the bounded capture did not keep (their count). */
  omitted?: number;
}
