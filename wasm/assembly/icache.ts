// Decoded-instruction cache: decode once per address. A direct-mapped table of Insn slots tagged
// by rip and by a global epoch. Bumping the epoch drops everything; that happens exactly when
// code bytes change (a write to a page marked as holding decoded code, from the guest or the
// host), on unmap, on any permission change, and when breakpoints change.

import { reserve } from './layout';
import { Insn, INSN_SIZE } from './insn';
import { Op } from './ops';
import { Cpu, Exit } from './state';
import { decode, DECODE_BUF, DECODE_TRUNCATED } from './decoder';
import { fetchCode, clearCodePages } from './mmu';

const CACHE_BITS: u32 = 15;
const CACHE_MASK: u32 = (1 << CACHE_BITS) - 1;
let cacheBase: usize = 0;
let epoch: u32 = 1;

// Breakpoint set: open addressing over address+1 (0 = empty slot).
const BP_SLOTS: u32 = 8192;
const BP_TABLE: usize = memory.data(8192 * 8, 64);
let untilOn: bool = false;
let untilAddr: u64 = 0;

export function initDecodedCache(): bool {
  cacheBase = reserve((<usize>1 << CACHE_BITS) * INSN_SIZE, 64);
  return cacheBase != 0;
}

export function invalidateDecodedCode(): void {
  epoch++;
  if (epoch == 0) {
    memory.fill(cacheBase, 0, (<usize>1 << CACHE_BITS) * INSN_SIZE);
    epoch = 1;
  }
  clearCodePages();
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
      invalidateDecodedCode();
      return true;
    }
    i = (i + 1) & (BP_SLOTS - 1);
  }
  return false;
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
  untilOn = on;
  untilAddr = addr;
  invalidateDecodedCode();
}
@inline export function isUntil(addr: u64): bool {
  return untilOn && addr == untilAddr;
}

/** The decoded instruction at rip, decoding on a miss; 0 with Cpu.exit = Fault on a fetch fault. */
@inline export function lookupInsn(rip: u64): usize {
  const slot = cacheBase + ((<usize>((<u32>rip ^ <u32>(rip >> 15)) & CACHE_MASK)) << 6);
  if (load<u64>(slot) == rip && load<u32>(slot, 32) == epoch) return slot;
  return fill(rip, slot);
}

function fill(rip: u64, slot: usize): usize {
  const avail = fetchCode(rip, DECODE_BUF);
  if (avail == 0) return 0;
  const e = changetype<Insn>(slot);
  if (decode(rip, e, avail) == DECODE_TRUNCATED) {
    Cpu.exit = Exit.Fault; // Fault.* was filled by fetchCode for the missing page
    e.epoch = 0;
    return 0;
  }
  if (isUntil(rip) || isBreakpoint(rip)) e.op = <u16>Op.Breakpoint;
  e.epoch = epoch;
  return slot;
}
