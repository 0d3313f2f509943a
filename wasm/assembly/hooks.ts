// Host-visible observation without a JS call per instruction: the retired-rip trace ring, the
// memory-access log drained by the host at hook exits, and the flags that route the dispatch
// loop into its slow path only when something is being observed.

import { reserve } from './layout';

export const HOOK_EVENT_BLOCK: u32 = 1, HOOK_EVENT_CODE: u32 = 2, HOOK_EVENT_MEM: u32 = 4;

export class Hooks {
  /** The one flag the dispatch loop tests per instruction. */
  static slow: bool = false;
  static memOn: bool = false;
  static memReadOn: bool = false;
  static memWriteOn: bool = false;
  static memFetchOn: bool = false;
  static codeOn: bool = false;
  static codeLo: u64 = 0;
  static codeHi: u64 = 0;
  static blockOn: bool = false;
  static blockLo: u64 = 0;
  static blockHi: u64 = 0;
  /** Set by the host when resuming after a code/block hook exit: skip the checks once. */
  static suppressOnce: bool = false;
  static expectedNext: u64 = <u64>-1;
  /** What the last Exit.Hook was for (HOOK_EVENT_* bits) and the instruction's length. */
  static events: u32 = 0;
  static insnLength: u32 = 0;
  /** The instruction the logged memory accesses belong to: what rip reads as in a memory hook (as in Unicorn). */
  static accessRip: u64 = 0;

  /** Tracing is the only observation: the dispatch loop writes the ring itself. */
  static traceOnly: bool = false;
  static traceOn: bool = false;
  static traceBuf: usize = 0;
  static traceCap: u32 = 0;
  static traceHead: u32 = 0;
  static traceCount: u64 = 0;
}

// Memory-access log entries: access u32, size u32, address u64, value u64 (24 bytes).
export const MEM_LOG_MAX: u32 = 256;
export const MEM_LOG: usize = memory.data(256 * 24, 64);
export let memLogCount: u32 = 0;

export function logMemAccess(access: u32, addr: u64, size: u32, value: u64): void {
  if (access == 0 && !Hooks.memReadOn) return;
  if (access == 1 && !Hooks.memWriteOn) return;
  if (access == 2 && !Hooks.memFetchOn) return;
  if (memLogCount >= MEM_LOG_MAX) return;
  const p = MEM_LOG + (<usize>memLogCount) * 24;
  store<u32>(p, access);
  store<u32>(p, size, 4);
  store<u64>(p, addr, 8);
  store<u64>(p, value, 16);
  memLogCount++;
}

export function clearMemLog(): void {
  memLogCount = 0;
}

export function updateSlow(): void {
  Hooks.memOn = Hooks.memReadOn || Hooks.memWriteOn || Hooks.memFetchOn;
  Hooks.slow = Hooks.traceOn || Hooks.codeOn || Hooks.blockOn || Hooks.memOn;
  Hooks.traceOnly = Hooks.traceOn && !(Hooks.codeOn || Hooks.blockOn || Hooks.memOn);
}

/** (Re)allocates the trace ring; returns false when wasm memory cannot grow. */
export function traceEnable(capacity: u32): bool {
  if (capacity > Hooks.traceCap) {
    const p = reserve((<usize>capacity) * 16, 16);
    if (p == 0) return false;
    Hooks.traceBuf = p;
  }
  Hooks.traceCap = capacity;
  Hooks.traceHead = 0;
  Hooks.traceCount = 0;
  Hooks.traceOn = capacity > 0;
  updateSlow();
  return true;
}

@inline export function traceRecord(seq: u64, rip: u64): void {
  const p = Hooks.traceBuf + ((<usize>Hooks.traceHead) << 4);
  store<u64>(p, seq);
  store<u64>(p, rip, 8);
  Hooks.traceHead = Hooks.traceHead + 1 == Hooks.traceCap ? 0 : Hooks.traceHead + 1;
  Hooks.traceCount++;
}

/** Drops the most recent trace entry (its instruction faulted and did not retire). */
export function traceUndo(): void {
  if (Hooks.traceCount == 0) return;
  Hooks.traceHead = Hooks.traceHead == 0 ? Hooks.traceCap - 1 : Hooks.traceHead - 1;
  Hooks.traceCount--;
}
