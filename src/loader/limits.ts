// What a guest may cost the host: touched memory, captured output, wall-clock time. A hostile
// or broken program hits one of these and the run ends with a LoaderError('limit') naming it,
// never with host memory growth or a hang. Defaults are the CLI's (--max-memory, --max-output,
// --timeout).

export interface ResourceLimits {
  /** Bytes of guest pages that may hold data (touched pages; untouched reservations are free). */
  maxMemory: number;
  /** Bytes of captured output kept per stream at each end (the first and the last); the rest is counted. */
  maxOutput: number;
  /** Date.now() after which the run stops, or undefined for no wall-clock limit. */
  deadline?: number;
  /** The wall-clock limit in seconds, for the message. */
  timeoutSeconds?: number;
}

export const MiB = 1024 * 1024;
export const DEFAULT_MAX_MEMORY = 1024 * MiB;
export const DEFAULT_MAX_OUTPUT = 64 * 1024;
export const DEFAULT_TIMEOUT_SECONDS = 60;
/** Address space the guest may reserve (mmap, heap, segments), as RLIMIT_AS: a multiple of --max-memory. */
export const RESERVATION_FACTOR = 4;
/** Recorded process events (mprotect, code writes, signals...) before the run is ended as runaway. */
export const MAX_EVENTS = 200_000;
/** Failed system calls recorded one by one; later ones are only counted. */
export const FAILED_SYSCALLS_KEPT = 16;

/** Instruction-budget cost of host work on `bytes` bytes (a stub's copy, fill, format or write). */
export function workCost(bytes: number): number {
  return Math.ceil(bytes / 64); // one instruction per 64-byte cache line, as rep movsb/stosb roughly go
}
/** Instruction-budget cost of one system call, whatever it does. */
export const SYSCALL_COST = 100;

export function mib(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}
