// Decoded-block cache: decode once per basic block. A direct-mapped table of block headers tagged
// by rip and by a global epoch points at runs of Insn records in an arena. Bumping the epoch drops
// everything; that happens exactly when code bytes change (a write to a page marked as holding
// decoded code, from the guest or the host), on unmap, on any permission change, and when
// code hooks change; a breakpoint or `until` set or cleared drops only the blocks holding its
// address (dropBlocksAt). A bump also sets `codeChanged`, so the dispatch loop leaves the block it is
// running after the current instruction (a write into the rest of that very block is seen).

import { reserve } from './layout';
import { Insn, INSN_SIZE, I_REP, I_REPNE } from './insn';
import { Op } from './ops';
import { Cpu, Exit } from './state';
import { decode, DECODE_BUF, DECODE_TRUNCATED } from './decoder';
import { fetchCode, clearCodePages } from './mmu';
import { fastForm, fusedForm } from './fast';
import { Hooks, inRanges, RANGE_CODE } from './hooks';

/**
 * Block header: rip u64, epoch u32, count u32, first Insn record u32, chained successor u32 (the
 * header execution went to last from this block: direct jumps, calls and fall-through keep going
 * to the same one; checked by rip and epoch on use, so an invalidation unchains everything),
 * compiled-code table index u32 (0 = none, jit.ts) and interpreted executions u32, both reset by a fill.
 */
const BLOCK_BITS: u32 = 13;
const BLOCK_MASK: u32 = (1 << BLOCK_BITS) - 1;
const HEADER_SIZE: usize = 32;
/** Longest block; also the arena space a fill reserves before decoding. */
export const BLOCK_MAX: u32 = 64;
const ARENA_INSNS: u32 = 1 << 15;
let headers: usize = 0;
let arena: usize = 0;
let arenaUsed: u32 = 0;
/** The epoch the arena's records belong to: a fill in a newer epoch starts the arena over. */
let arenaEpoch: u32 = 0;
let epoch: u32 = 1;
/** Set by every invalidation; the dispatch loop clears it when it enters a block. */
export let codeChanged: bool = false;

// Breakpoint set: open addressing over address+1 (0 = empty slot).
const BP_SLOTS: u32 = 8192;
const BP_TABLE: usize = memory.data(8192 * 8, 64);
let untilOn: bool = false;
let untilAddr: u64 = 0;

export function initDecodedCache(): bool {
  headers = reserve((<usize>1 << BLOCK_BITS) * HEADER_SIZE, 64);
  arena = reserve((<usize>ARENA_INSNS) * INSN_SIZE, 64);
  return headers != 0 && arena != 0;
}

export function invalidateDecodedCode(): void {
  epoch++;
  if (epoch == 0) {
    memory.fill(headers, 0, (<usize>1 << BLOCK_BITS) * HEADER_SIZE);
    epoch = 1;
  }
  codeChanged = true;
  clearCodePages();
}

@inline export function clearCodeChanged(): void {
  codeChanged = false;
}

@inline function bpHash(addr: u64): u32 {
  return <u32>((addr * 0x9e3779b97f4a7c15) >> 51) & (BP_SLOTS - 1);
}

export function clearBreakpoints(): void {
  memory.fill(BP_TABLE, 0, <usize>BP_SLOTS * 8);
  invalidateDecodedCode();
}

/** Adds a breakpoint; false when the table is too full. */
export function addBreakpoint(addr: u64): bool {
  let i = bpHash(addr);
  for (let n: u32 = 0; n < BP_SLOTS / 2; n++) {
    const v = load<u64>(BP_TABLE + ((<usize>i) << 3));
    if (v == addr + 1) return true;
    if (v == 0) {
      store<u64>(BP_TABLE + ((<usize>i) << 3), addr + 1);
      dropBlocksAt(addr);
      return true;
    }
    i = (i + 1) & (BP_SLOTS - 1);
  }
  return false;
}

/**
 * Removes one breakpoint (false when there was none at addr). Linear probing without tombstones:
 * the entries after the freed slot that probed past it move back into it.
 */
export function removeBreakpoint(addr: u64): bool {
  let i = bpHash(addr);
  for (;;) {
    const v = load<u64>(BP_TABLE + ((<usize>i) << 3));
    if (v == 0) return false;
    if (v == addr + 1) break;
    i = (i + 1) & (BP_SLOTS - 1);
  }
  let j = i;
  for (;;) {
    j = (j + 1) & (BP_SLOTS - 1);
    const v = load<u64>(BP_TABLE + ((<usize>j) << 3));
    if (v == 0) break;
    const home = bpHash(v - 1);
    // Stays when its home lies cyclically in (i, j]: its probe never passed the freed slot.
    if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
    store<u64>(BP_TABLE + ((<usize>i) << 3), v);
    i = j;
  }
  store<u64>(BP_TABLE + ((<usize>i) << 3), 0);
  dropBlocksAt(addr);
  return true;
}

/**
 * Drops the decoded blocks whose bytes include addr (a breakpoint or `until` set or cleared
 * there changes only those), keeping the rest of the cache and the code-page marks. A block
 * starts at most BLOCK_MAX longest instructions before addr; each candidate start is looked up
 * in its header slot.
 */
function dropBlocksAt(addr: u64): void {
  codeChanged = true;
  dropCompiledAt(addr);
  if (arenaEpoch != epoch) return; // nothing decoded since the last invalidation
  const span = <u64>BLOCK_MAX * 15;
  const lo = addr >= span ? addr - span + 1 : 0;
  for (let rip = lo; rip <= addr; rip++) {
    const block = headers + ((<usize>((<u32>rip ^ <u32>(rip >> 13)) & BLOCK_MASK)) << 5);
    if (load<u64>(block) != rip || load<u32>(block, 8) != epoch) continue;
    const count = load<u32>(block, 12);
    if (count == 0) continue;
    const last = changetype<Insn>(<usize>load<u32>(block, 16) + (<usize>(count - 1)) * INSN_SIZE);
    if (addr < last.rip + <u64>last.len) store<u32>(block, 0, 8); // epoch 0 is never current
  }
}

export function isBreakpoint(addr: u64): bool {
  let i = bpHash(addr);
  for (;;) {
    const v = load<u64>(BP_TABLE + ((<usize>i) << 3));
    if (v == 0) return false;
    if (v == addr + 1) return true;
    i = (i + 1) & (BP_SLOTS - 1);
  }
  return false;
}

export function setUntil(on: bool, addr: u64): void {
  if (on == untilOn && addr == untilAddr) return;
  if (untilOn) dropBlocksAt(untilAddr);
  untilOn = on;
  untilAddr = addr;
  if (on) dropBlocksAt(addr);
}
@inline export function isUntil(addr: u64): bool {
  return untilOn && addr == untilAddr;
}

@inline export function blockJitIndex(block: usize): u32 {
  return load<u32>(block, 24);
}
@inline export function setBlockJitIndex(block: usize, index: u32): void {
  store<u32>(block, index, 24);
}
@inline export function blockJitCount(block: usize): u32 {
  return load<u32>(block, 28);
}
@inline export function setBlockJitCount(block: usize, n: u32): void {
  store<u32>(block, n, 28);
}
/** Whether a header still holds the current block for rip (the host compiles between runs). */
export function blockValid(block: usize, rip: u64): bool {
  return block >= headers && block < headers + ((<usize>1 << BLOCK_BITS) * HEADER_SIZE) && ((block - headers) & (HEADER_SIZE - 1)) == 0 &&
    load<u64>(block) == rip && load<u32>(block, 8) == epoch && load<u32>(block, 12) != 0;
}
/**
 * Compiled regions (jit.ts) hold copies of several blocks: per table slot, the byte ranges of the
 * blocks a region holds. Dropping the blocks at an address (a breakpoint or `until` set or cleared
 * there) also drops the compiled code of every region holding a block over it.
 */
const REGION_SLOTS: u32 = 4096;
const REGION_RANGES: u32 = 16;
let regionRanges: usize = 0; // [slot][REGION_RANGES] of (start u64, end u64)
let regionCounts: usize = 0; // u32 per slot: ranges recorded (0 = none), or REGION_DEAD
const REGION_DEAD: u32 = 0xffffffff;
let regionTop: u32 = 0;

/** Records range i of the region in table slot `slot` (the host, before installing it); false when out of bounds. */
export function setRegionRange(slot: u32, i: u32, start: u64, end: u64): bool {
  if (slot >= REGION_SLOTS || i >= REGION_RANGES) return false;
  if (regionRanges == 0) {
    regionRanges = reserve(<usize>REGION_SLOTS * REGION_RANGES * 16, 64);
    regionCounts = reserve(<usize>REGION_SLOTS * 4, 64);
    if (regionRanges == 0 || regionCounts == 0) { regionRanges = 0; return false; }
  }
  const p = regionRanges + ((<usize>slot * REGION_RANGES + i) << 4);
  store<u64>(p, start);
  store<u64>(p, end, 8);
  store<u32>(regionCounts + ((<usize>slot) << 2), i + 1);
  if (slot >= regionTop) regionTop = slot + 1;
  return true;
}

function dropCompiledAt(addr: u64): void {
  if (regionRanges == 0) return;
  let killed = false;
  for (let slot: u32 = 0; slot < regionTop; slot++) {
    const c = regionCounts + ((<usize>slot) << 2);
    const n = load<u32>(c);
    if (n > REGION_RANGES) continue; // dead already (REGION_DEAD)
    for (let i: u32 = 0; i < n; i++) {
      const p = regionRanges + ((<usize>slot * REGION_RANGES + i) << 4);
      if (addr >= load<u64>(p) && addr < load<u64>(p, 8)) {
        store<u32>(c, REGION_DEAD); // until the slot is recorded again
        killed = true;
        break;
      }
    }
  }
  if (!killed) return;
  // Unhook the dead regions' entries; their counts start over, so they are compiled again when hot.
  for (let i: usize = 0; i < (<usize>1 << BLOCK_BITS); i++) {
    const index = load<u32>(headers + (i << 5), 24);
    if (index != 0 && (index & 0xffff) < REGION_SLOTS && load<u32>(regionCounts + ((<usize>(index & 0xffff)) << 2)) == REGION_DEAD) {
      store<u64>(headers + (i << 5), 0, 24);
    }
  }
}
export function headerBase(): usize {
  return headers;
}

/** The current epoch: compiled code of older epochs is unreachable (the host reuses its table slots). */
export function decodedEpoch(): u32 {
  return epoch;
}

@inline export function blockCount(block: usize): u32 {
  return load<u32>(block, 12);
}
@inline export function blockFirst(block: usize): usize {
  return <usize>load<u32>(block, 16);
}

/** The decoded block starting at rip, decoding on a miss; 0 with Cpu.exit = Fault on a fetch fault. */
@inline export function lookupBlock(rip: u64): usize {
  const block = headers + ((<usize>((<u32>rip ^ <u32>(rip >> 13)) & BLOCK_MASK)) << 5);
  if (load<u64>(block) == rip && load<u32>(block, 8) == epoch) return block;
  return fillBlock(rip, block);
}

/**
 * The block at rip after `previous`: its chained successor when that is still the block for rip
 * in this epoch (no hashing), else a lookup whose result becomes the new successor.
 */
@inline export function chainedBlock(previous: usize, rip: u64): usize {
  const next = <usize>load<u32>(previous, 20);
  if (next != 0 && load<u64>(next) == rip && load<u32>(next, 8) == epoch) return next;
  const block = lookupBlock(rip);
  store<u32>(previous, <u32>block, 20);
  return block;
}

/** Whether execution may continue anywhere but the next instruction after `e` (ends a block). */
function endsBlock(e: Insn): bool {
  const op = <u32>e.realOp;
  if (op >= <u32>Op.Jcc && op <= <u32>Op.Jrcxz) return true; // jcc jmp call ret loop*
  if (op == <u32>Op.Grp5) return e.ext >= 2; // indirect call/jmp (inc/dec/push continue)
  if (op >= <u32>Op.Movs && op <= <u32>Op.Scas) return (e.flags & (I_REP | I_REPNE)) != 0; // repeats itself
  if (op >= <u32>Op.Syscall && op <= <u32>Op.Ud2) return true; // always exit
  return op == <u32>Op.Invalid;
}

function fillBlock(rip: u64, block: usize): usize {
  // A full arena is started over; its blocks must go too.
  if (arenaEpoch == epoch && arenaUsed + BLOCK_MAX > ARENA_INSNS) invalidateDecodedCode();
  if (arenaEpoch != epoch) {
    arenaEpoch = epoch;
    arenaUsed = 0;
  }
  const fillEpoch = epoch;
  const first = arena + (<usize>arenaUsed) * INSN_SIZE;
  let count: u32 = 0;
  let at = rip;
  for (;;) {
    const avail = fetchCode(at, DECODE_BUF);
    const e = changetype<Insn>(first + (<usize>count) * INSN_SIZE);
    if (avail == 0 || decode(at, e, avail) == DECODE_TRUNCATED) {
      // The first instruction's fetch fault is the block's; a later one is reported only if
      // execution gets there (as the first instruction of its own block).
      if (count == 0) {
        Cpu.exit = Exit.Fault; // Fault.* was filled by fetchCode for the missing page
        return 0;
      }
      Cpu.exit = Exit.None;
      break;
    }
    const stopHere = isUntil(at) || isBreakpoint(at);
    const hooked = Hooks.codeOn && inRanges(RANGE_CODE, at);
    // Breakpoints, code hooks and rdtsc read the retired count, which is exact only at a block's start.
    if (count > 0 && (stopHere || hooked || e.op == <u16>Op.Rdtsc)) break;
    if (hooked) e.op = <u16>Op.CodeHook;
    else if (stopHere) e.op = <u16>Op.Breakpoint;
    else {
      e.op = <u16>fastForm(e);
      // A flags producer right before the jcc that ends the block runs the jcc with it (cpu.ts).
      if (e.op == <u16>Op.FJcc && count > 0) {
        const prev = changetype<Insn>(first + (<usize>(count - 1)) * INSN_SIZE);
        const fused = fusedForm(<u32>prev.op);
        if (fused != 0) prev.op = <u16>fused;
      }
    }
    count++;
    if (count == BLOCK_MAX || endsBlock(e)) break;
    at += <u64>e.len;
  }
  arenaUsed += count;
  store<u64>(block, rip);
  // A fill interrupted by an invalidation (the code-page list overflowing) runs once, then refills.
  store<u32>(block, fillEpoch, 8);
  store<u32>(block, count, 12);
  store<u32>(block, <u32>first, 16);
  store<u32>(block, 0, 24); // the compiled code (if any) was the previous block's
  store<u32>(block, 0, 28);
  return block;
}
