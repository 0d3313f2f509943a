// The core's side of the block compiler (host side: src/engine/wasm-jit.ts): execution counts of
// decoded blocks, the list of hot blocks the host drains and compiles to WebAssembly functions in
// the exported table, and the helpers compiled blocks import (slow memory paths, flag records).
// Compiled code belongs to its block header: a refill or an invalidation makes it unreachable.

import { Cpu } from './state';
import { Flags, Lazy, ARITH, CF, OF, AF, setArith, setLogic, setResultFlags, getCF, condition } from './flags';
import { loadGuest, writeMem, checkWritable, PERM_R, tlbTagBase, tlbPteBase } from './mmu';
import { generalProtection } from './sse-operands';
import { blockJitIndex, blockJitCount, setBlockJitCount, setBlockJitIndex, blockValid, codeChanged } from './icache';
import { memLogged } from './hooks';
import { imulTrunc } from './divmul';

/** Hot blocks waiting for the host (header addresses); full means the rest wait for the next drain. */
export const JIT_HOT_MAX: u32 = 1024;
const JIT_HOT: usize = memory.data(1024 * 4, 16);
let hotCount: u32 = 0;
/** Executions after which a block is listed as hot; 0 turns counting (and so compiling) off. */
export let jitThreshold: u32 = 0;

export function setJitThreshold(n: u32): void {
  jitThreshold = n;
}

/** Counts one interpreted execution of a block; lists it once when it becomes hot. */
@inline export function countBlock(block: usize): void {
  const c = blockJitCount(block) + 1;
  if (c != jitThreshold) {
    setBlockJitCount(block, c);
  } else if (hotCount < JIT_HOT_MAX) {
    setBlockJitCount(block, c);
    store<u32>(JIT_HOT + ((<usize>hotCount) << 2), <u32>block);
    hotCount++;
  } // else the list is full: the count stays, and the block is listed at its next run after a drain
}

export function hotList(): usize { return JIT_HOT; }
/** The number of listed blocks; the host reads them, then calls hotClear. */
export function hotLength(): u32 { return hotCount; }
export function hotClear(): void { hotCount = 0; }

/** Installs compiled code for a block (table slot | entry block id << 16); false when the block is no longer current. */
export function install(block: usize, rip: u64, index: u32): bool {
  if (!blockValid(block, rip)) return false;
  setBlockJitIndex(block, index);
  return true;
}

// Helpers compiled blocks import. Loads and stores come here only off the inline TLB hit path.

export function slowLoad(addr: u64, size: u32): u64 {
  return loadGuest(addr, size, PERM_R);
}
/** 0: stored; 1: fault (Cpu.exit set); 2: stored, and the block must stop after this instruction (code changed, write logged). */
export function slowStore(addr: u64, size: u32, v: u64): u32 {
  if (!writeMem(addr, size, v)) return 1;
  return codeChanged || memLogged ? 2 : 0;
}
/** A read-modify-write's store: 1 when the page refuses it (flags untouched), 3 when it fails after (out of memory). */
export function slowRmwStore(addr: u64, size: u32, v: u64): u32 {
  if (!checkWritable(addr, size)) return 1;
  if (!writeMem(addr, size, v)) return 3;
  return codeChanged || memLogged ? 2 : 0;
}
/** A 16-byte SSE store as sse-move.ts movStore128 does it: both halves writable, then two 8-byte writes. */
export function slowStore128(addr: u64, lo: u64, hi: u64): u32 {
  if (!checkWritable(addr, 16)) return 1;
  writeMem(addr, 8, lo);
  writeMem(addr + 8, 8, hi);
  if (Cpu.exit) return 1;
  return codeChanged || memLogged ? 2 : 0;
}
export function exitStatus(): u32 { return Cpu.exit; }
export function segmentBase(seg: u32): u64 { return seg == 4 ? Cpu.fsBase : Cpu.gsBase; }
export function raiseGeneralProtection(): void { generalProtection(); }

/**
 * The exit record compiled code leaves: rip u64 at 0; flags mode u32 at 8 (0: the core's flags
 * are current; 1 arith, 2 logic, 3 inc/dec, 4 shift: the block's last producer), lazy kind u32 at
 * 12, d s r sign u64 at 16..47, extra u64 at 48 (inc/dec: CF kept, -1 = the current CF; shift:
 * concrete CF | OF << 11), the rip of a logged store's instruction at 56; 16 bytes of scratch at 64.
 */
export const JIT_OUT: usize = memory.data(128, 16);
export function exitRecord(): usize { return JIT_OUT; }

/** The instruction whose store was logged, when compiled code stopped after it (exit record at 56). */
export function compiledAccessRip(): u64 {
  return load<u64>(JIT_OUT, 56);
}

/** Applies a flags record (exit-record layout, from a region's canonical locals) to the core's flags. */
export function flagsTake(mode: u32, kind: u32, d: u64, s: u64, r: u64, sign: u64, extra: u64): void {
  if (mode == 1) setArith(kind, d, s, r, sign);
  else if (mode == 2) setLogic(r, sign);
  else if (mode == 3) flagsIncDec(kind == Lazy.Sub, d, r, sign, <i32>extra);
  else if (mode == 4) flagsShift(r, sign, extra);
}

/** Takes rip and the flags from the exit record after a compiled block ran. */
@inline export function takeCompiledState(): void {
  Cpu.rip = load<u64>(JIT_OUT);
  const mode = load<u32>(JIT_OUT, 8);
  if (mode != 0) takeFlags(mode);
}

function takeFlags(mode: u32): void {
  const kind = load<u32>(JIT_OUT, 12);
  const r = load<u64>(JIT_OUT, 32), sign = load<u64>(JIT_OUT, 40), extra = load<u64>(JIT_OUT, 48);
  if (mode == 1) setArith(kind, load<u64>(JIT_OUT, 16), load<u64>(JIT_OUT, 24), r, sign);
  else if (mode == 2) setLogic(r, sign);
  else if (mode == 3) flagsIncDec(kind == Lazy.Sub, load<u64>(JIT_OUT, 16), r, sign, <i32>extra);
  else flagsShift(r, sign, extra);
}
export function flagsArith(kind: u32, d: u64, s: u64, r: u64, sign: u64): void { setArith(kind, d, s, r, sign); }
export function flagsLogic(r: u64, sign: u64): void { setLogic(r, sign); }
/** inc/dec as incDecRegister: CF kept (cf < 0: from the current flags), the rest from the record. */
export function flagsIncDec(dec: bool, d: u64, r: u64, sign: u64, cf: i32): void {
  Flags.base = (Flags.base & ~CF) | (cf < 0 ? getCF() : <u64>cf);
  setArith(dec ? Lazy.Sub : Lazy.Add, d, 1, r, sign);
  Flags.mask = ARITH & ~CF;
}
/** Shifts: SF/ZF/PF from r, CF and OF concrete (bits 0 and 11 of `concrete`), AF 0. */
export function flagsShift(r: u64, sign: u64, concrete: u64): void { setResultFlags(r, sign, CF | OF | AF, concrete); }
export function conditionNow(cc: u32): u32 { return condition(cc) ? 1 : 0; }
export function imul(a: u64, b: u64, size: u32): u64 { return imulTrunc(a, b, size); }
export function tlbTag(): usize { return tlbTagBase(); }
export function tlbPte(): usize { return tlbPteBase(); }

/** Compiled code finished or left the block; used by the dispatch loop (cpu.ts). */
@inline export function compiledIndex(block: usize): u32 {
  return blockJitIndex(block);
}
