// Host-visible observation without a JS call per instruction: the retired-rip trace ring, the
// memory-access log drained by the host at hook exits, the hooks' address ranges evaluated here
// (code hooks are marked on the decoded instructions they cover, watched writes on the pages
// they hit), and the flags that route the dispatch loop into its slow path only for block and
// fetch hooks and tracing.

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
  static blockOn: bool = false;
  static blockLo: u64 = 0;
  static blockHi: u64 = 0;
  /** Set by the host when resuming after a code/block hook exit: skip the checks once. */
  static suppressOnce: bool = false;
  /** The retired count at which a code-hooked instruction runs without exiting (the host resumed after its hook), or -1. */
  static suppressCodeAt: u64 = <u64>-1;
  /** ...and the instruction it was set for. */
  static suppressCodeRip: u64 = 0;
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

// Hook ranges per kind, inclusive [lo, hi] pairs; the host merges beyond RANGE_MAX.
export const RANGE_CODE: u32 = 0, RANGE_READ: u32 = 1, RANGE_WRITE: u32 = 2;
const RANGE_KINDS: u32 = 3;
export const RANGE_MAX: u32 = 64;
const RANGES: usize = memory.data(3 * 64 * 16, 16);
const rangeCounts: StaticArray<u32> = new StaticArray<u32>(3);

export function clearRanges(kind: u32): void {
  if (kind < RANGE_KINDS) rangeCounts[kind] = 0;
}

export function addRange(kind: u32, lo: u64, hi: u64): bool {
  if (kind >= RANGE_KINDS) return false;
  const n = rangeCounts[kind];
  if (n >= RANGE_MAX) return false;
  const p = RANGES + ((<usize>(kind * RANGE_MAX + n)) << 4);
  store<u64>(p, lo);
  store<u64>(p, hi, 8);
  rangeCounts[kind] = n + 1;
  return true;
}

export function rangeCount(kind: u32): u32 {
  return rangeCounts[kind];
}

/** Whether `addr` lies in one of the kind's ranges. */
export function inRanges(kind: u32, addr: u64): bool {
  const n = rangeCounts[kind];
  let p = RANGES + ((<usize>(kind * RANGE_MAX)) << 4);
  for (let i: u32 = 0; i < n; i++, p += 16) {
    if (addr >= load<u64>(p) && addr <= load<u64>(p, 8)) return true;
  }
  return false;
}

/** Whether a range of the kind overlaps [lo, hi]. */
export function rangesOverlap(kind: u32, lo: u64, hi: u64): bool {
  const n = rangeCounts[kind];
  let p = RANGES + ((<usize>(kind * RANGE_MAX)) << 4);
  for (let i: u32 = 0; i < n; i++, p += 16) {
    if (lo <= load<u64>(p, 8) && hi >= load<u64>(p)) return true;
  }
  return false;
}

/**
 * Set when an access was logged: the dispatch loop leaves its block after the instruction and
 * exits to the host (as the icache's codeChanged does for code writes).
 */
export let memLogged: bool = false;

export function logMemAccess(access: u32, addr: u64, size: u32, value: u64): void {
  if (access == 0 && !(Hooks.memReadOn && inRanges(RANGE_READ, addr))) return;
  if (access == 1 && !(Hooks.memWriteOn && inRanges(RANGE_WRITE, addr))) return;
  if (access == 2 && !Hooks.memFetchOn) return;
  if (memLogCount >= MEM_LOG_MAX) return;
  memLogged = true;
  const p = MEM_LOG + (<usize>memLogCount) * 24;
  store<u32>(p, access);
  store<u32>(p, size, 4);
  store<u64>(p, addr, 8);
  store<u64>(p, value, 16);
  memLogCount++;
}

export function clearMemLog(): void {
  memLogCount = 0;
  memLogged = false;
}

@inline export function clearMemLogged(): void {
  memLogged = false;
}

// Code hooks need no slow path (their instructions are marked when decoded), nor do read and
// write hooks (the accessors filter by range and the loop exits after a logged access).
export function updateSlow(): void {
  Hooks.memOn = Hooks.memReadOn || Hooks.memWriteOn || Hooks.memFetchOn;
  Hooks.slow = Hooks.traceOn || Hooks.blockOn || Hooks.memFetchOn;
  Hooks.traceOnly = Hooks.traceOn && !(Hooks.blockOn || Hooks.memFetchOn);
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
