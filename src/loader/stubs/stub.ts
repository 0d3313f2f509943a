// The contract between the emulated process and its libc stubs. A stub is a TypeScript
// function standing in for an import: it reads its arguments per the SysV ABI through
// StubCall, acts on the process through LibcServices, and says how the call ends.
// Stubs that must run guest code (main, init arrays, atexit handlers) return a `call`
// outcome with a continuation instead of running it themselves.

import type { VarArgSource } from '../printf.js';
import type { GuestCall } from '../dynamic/linker.js';
import type { DynamicLinker } from '../dynamic/linker.js';
import type { AddressSpace } from '../kernel/address-space.js';
import type { SignalInfo, SignalState } from '../kernel/signals.js';
import type { VirtualClock } from '../kernel/clock.js';
import type { GuestHeap } from '../heap.js';
import type { ProcessEvent } from '../events.js';

export type StubOutcome =
  /** Back to the caller with `value` in rax; `rdx` carries the upper half of a 16-byte
   *  INTEGER-class result (std::pair<bool, size_t>, ldiv_t), as the ABI returns it in rax:rdx. */
  | { kind: 'return'; value: bigint; rdx?: bigint }
  | { kind: 'call'; call: GuestCall; then: (rax: bigint) => StubOutcome }
  | { kind: 'exit'; status: number }
  /**
   * A signal raised inside libc. SIGABRT (abort, __stack_chk_fail, __assert_fail) goes as glibc's
   * abort raises it: unblocked, a handler runs first, and the default action ends the process if
   * the handler returns. Any other signal ends the process whatever its disposition.
   */
  | { kind: 'kill'; info: SignalInfo; reason: string };

export type StubArea = 'stdio' | 'string' | 'stdlib' | 'unistd' | 'time' | 'signal' | 'mman' | 'dlfcn' | 'cxx' | 'startup' | 'errno';

export interface StubDefinition {
  /** The symbol name as imported (mangled for C++). */
  name: string;
  area: StubArea;
  /** One line for the README's list of covered imports. */
  summary: string;
  run(call: StubCall): StubOutcome;
}

/** Arguments of the current call, per the SysV x86-64 ABI. */
export interface StubCall {
  /** INTEGER-class argument n (rdi, rsi, rdx, rcx, r8, r9, then the stack). */
  arg(n: number): bigint;
  /** SSE-class argument n (xmm0..7) as raw bits. */
  doubleArg(n: number): bigint;
  /** The variadic arguments after `fixedInts` integer and `fixedDoubles` SSE named parameters. */
  varargs(fixedInts: number, fixedDoubles?: number): VarArgSource;
  /** Arguments from a va_list in guest memory. */
  vaList(address: bigint): VarArgSource;
  /** The return address (the caller's next instruction). */
  readonly returnAddress: bigint;
  readonly libc: LibcServices;
}

/** What stubs may do to the process. Memory access obeys page permissions (a fault becomes SIGSEGV). */
export interface LibcServices {
  read(address: bigint, size: number): Uint8Array;
  write(address: bigint, data: Uint8Array): void;
  cstring(address: bigint): Uint8Array;
  u64(address: bigint): bigint;
  writeU64(address: bigint, value: bigint): void;
  writeU32(address: bigint, value: number): void;
  /** Sets errno in the thread's errno slot (what __errno_location points at). */
  setErrno(errno: number): void;
  errno(): number;
  errnoAddress: bigint;
  output(fd: number, bytes: Uint8Array): boolean;
  /** write(fd, address, size) from guest memory: only the bytes the bounded capture keeps are read. */
  outputFromGuest(fd: number, address: bigint, size: number): boolean;
  /** memset: `size` bytes of `byte`, in bounded pieces, charged to the budget. */
  fill(address: bigint, byte: number, size: number): void;
  /** memmove: overlapping ranges handled, in bounded pieces, charged to the budget. */
  copy(dest: bigint, src: bigint, size: number): void;
  /** Charges host work (in instruction units) against the run's budget. */
  charge(units: number): void;
  /** FILE* of a guest-visible stream to its descriptor, or undefined. */
  streamFd(file: bigint): number | undefined;
  readonly heap: GuestHeap;
  readonly clock: VirtualClock;
  readonly signals: SignalState;
  readonly space: AddressSpace;
  readonly linker: DynamicLinker;
  readonly pid: number;
  readonly restorer: bigint;
  readonly atexit: { func: bigint; arg: bigint; dso: bigint; withArg: boolean }[];
  readonly envp: bigint;
  /** strerror()'s static buffer in the libc image's data. */
  readonly strerrorBuffer: bigint;
  /** dlerror()'s string buffer. */
  readonly dlerrorBuffer: bigint;
  /** fs_base: the TCB (static TLS blocks sit below it). */
  readonly threadPointer: bigint;
  record(event: ProcessEvent): void;
  /** Stub-visible mprotect that records the event (Linux rules). */
  mprotect(address: bigint, length: bigint, prot: number, via: 'libc' | 'syscall'): number;
  /** Guest calls for the executable's initialisers. */
  executableInitCalls(argc: bigint, argv: bigint, envp: bigint): GuestCall[];
  /** The exit sequence: atexit handlers (LIFO), then the process ends. */
  exitSequence(status: number): StubOutcome;
}

export function ret(value: bigint | number): StubOutcome {
  return { kind: 'return', value: BigInt(value) };
}

/** -1 with errno, the libc convention for failed system calls. */
export function fail(call: StubCall, errno: number): StubOutcome {
  call.libc.setErrno(errno);
  return ret(-1n);
}

/** A kernel result (value or -errno) turned into libc's (value, or -1 and errno). */
export function fromKernel(call: StubCall, result: bigint | number): StubOutcome {
  const r = BigInt(result);
  if (r < 0n && r > -4096n) return fail(call, Number(-r));
  return ret(r);
}

/** Runs guest calls one after another, then continues with `then`. */
export function callChain(calls: readonly GuestCall[], then: () => StubOutcome): StubOutcome {
  if (calls.length === 0) return then();
  const [first, ...rest] = calls;
  return {
    kind: 'call',
    call: first!,
    then: (rax) => {
      first!.onReturn?.(rax);
      return callChain(rest, then);
    },
  };
}

/**
 * A size_t argument as a byte count. Sizes beyond the 47-bit address space cannot name guest
 * memory: they are clamped there, so the access faults (as natively) instead of overflowing.
 */
export function byteCount(value: bigint): number {
  const n = BigInt.asUintN(64, value);
  return n > 1n << 47n ? 2 ** 47 : Number(n);
}

export function i32(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

export function i64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}
