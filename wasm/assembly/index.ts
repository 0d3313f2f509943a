// The core's exported ABI (see src/engine/wasm-engine.ts for the host side). Every function
// returns status data; nothing here traps on guest input.

import { Cpu, Fault, GPR, XMM } from './state';
import { initOpcodeTable, Op } from './ops';
import { initDecodedCache, invalidateDecodedCode, clearBreakpoints as clearBp, addBreakpoint as addBp, removeBreakpoint as removeBp, setUntil as setUntilAddr } from './icache';
import { flushTlb, mapPages, unmapPages, protectPages, pagePerms, hostCopy, applyWriteWatch, setFrameLimit, frameCount, memoryLimitHit } from './mmu';
import { materialize, setRflags } from './flags';
import { Hooks, updateSlow, traceEnable, MEM_LOG, memLogCount, clearMemLog as clearLog, clearRanges, addRange, rangeCount, RANGE_CODE, RANGE_READ, RANGE_WRITE } from './hooks';
import { run as runLoop } from './cpu';
import { decode, DECODE_BUF } from './decoder';
import { takeSnapshot, restoreSnapshot, snapshotPages, writeWatchChanged } from './snapshot';
import { Insn, INSN_SIZE } from './insn';
import { FPU_STATE_SIZE, saveFpuState, loadFpuState, stMant, stSignExp, Fpu, statusWord, tagWord } from './x87';

const IO_SIZE: u32 = 65536;
const IO_BUF: usize = memory.data(65536, 16);
const PROBE_INSN: usize = memory.data(64, 16);
const FPU_IMAGE: usize = memory.data(144, 16);
const X87_VIEW: usize = memory.data(86, 16);

initOpcodeTable();
flushTlb();
const ready = initDecodedCache();

export function coreReady(): bool { return ready; }
export function ioBuffer(): usize { return IO_BUF; }
export function ioSize(): u32 { return IO_SIZE; }
export function gprBase(): usize { return GPR; }
export function xmmBase(): usize { return XMM; }

export function getRip(): u64 { return Cpu.rip; }
export function setRip(v: u64): void { Cpu.rip = v; }
export function getRflags(): u64 { return materialize(); }
export function putRflags(v: u64): void { setRflags(v); }
export function getFsBase(): u64 { return Cpu.fsBase; }
export function setFsBase(v: u64): void { Cpu.fsBase = v; }
export function getGsBase(): u64 { return Cpu.gsBase; }
export function setGsBase(v: u64): void { Cpu.gsBase = v; }
export function getMxcsr(): u32 { return Cpu.mxcsr; }
export function setMxcsr(v: u32): void { Cpu.mxcsr = v; }
export function getRetired(): u64 { return Cpu.retired; }
/** x87 registers, tags, control and status word as an image (FPU_STATE_SIZE bytes) at fpuStateBase(). */
export function fpuStateBase(): usize { return FPU_IMAGE; }
export function fpuStateSize(): u32 { return FPU_STATE_SIZE; }
export function fpuStateSave(): void { saveFpuState(FPU_IMAGE); }
export function fpuStateLoad(): void { loadFpuState(FPU_IMAGE); }
/** The architectural x87 view at the returned address (86 bytes): ST(0)..ST(7) as 10-byte extended values, then FCW, FSW, full FTW as u16. */
export function x87View(): usize {
  for (let i: u32 = 0; i < 8; i++) {
    store<u64>(X87_VIEW + i * 10, stMant(i));
    store<u16>(X87_VIEW + i * 10, <u16>stSignExp(i), 8);
  }
  store<u16>(X87_VIEW, <u16>Fpu.control, 80);
  store<u16>(X87_VIEW, <u16>statusWord(), 82);
  store<u16>(X87_VIEW, <u16>tagWord(), 84);
  return X87_VIEW;
}

export function faultKind(): u32 { return Fault.kind; }
export function faultAccess(): u32 { return Fault.access; }
export function faultAddress(): u64 { return Fault.address; }
export function faultSize(): u32 { return Fault.size; }
export function interruptNumber(): u32 { return Cpu.interrupt; }

/** 0 = ok, 1 = out of memory. */
export function map(vpn: u64, count: u64, perms: u32): u32 { return mapPages(vpn, count, perms); }
export function unmap(vpn: u64, count: u64): void { unmapPages(vpn, count); }
export function protect(vpn: u64, count: u64, perms: u32): void { protectPages(vpn, count, perms); }
export function perms(vpn: u64): i32 { return pagePerms(vpn); }
export function setTouchedPageLimit(pages: u64): void { setFrameLimit(pages); }
export function touchedPages(): u64 { return frameCount(); }
export function touchedPageLimitHit(): bool { return memoryLimitHit; }
/** Copies len bytes of guest memory into the I/O buffer; false if any byte is unmapped. */
export function hostRead(addr: u64, len: u32): bool {
  if (len > IO_SIZE) return false;
  return hostCopy(addr, IO_BUF, len, false);
}
/** Copies len bytes from the I/O buffer into guest memory (invalidating decoded code it overwrites). */
export function hostWrite(addr: u64, len: u32): bool {
  if (len > IO_SIZE) return false;
  return hostCopy(addr, IO_BUF, len, true);
}
export function invalidateCode(): void { invalidateDecodedCode(); }

export function clearBreakpoints(): void { clearBp(); }
export function addBreakpoint(addr: u64): bool { return addBp(addr); }
/** Removes one breakpoint, keeping the decoded code that does not hold its address; false when none was set there. */
export function removeBreakpoint(addr: u64): bool { return removeBp(addr); }
export function setUntil(on: bool, addr: u64): void { setUntilAddr(on, addr); }

/** Replaces the ranges of one hook kind (RANGE_CODE/READ/WRITE); false when there are too many. */
export function hookRangesClear(kind: u32): void { clearRanges(kind); }
export function hookRangeAdd(kind: u32, lo: u64, hi: u64): bool { return addRange(kind, lo, hi); }

/** Commits the hook flags and ranges: code hooks re-mark decoded code, write ranges re-mark pages. */
export function setHooks(codeOn: bool, blockOn: bool, blockLo: u64, blockHi: u64, memRead: bool, memWrite: bool, memFetch: bool): void {
  Hooks.codeOn = codeOn && rangeCount(RANGE_CODE) > 0;
  Hooks.blockOn = blockOn;
  Hooks.blockLo = blockLo;
  Hooks.blockHi = blockHi;
  Hooks.memReadOn = memRead && rangeCount(RANGE_READ) > 0;
  Hooks.memWriteOn = memWrite && rangeCount(RANGE_WRITE) > 0;
  Hooks.memFetchOn = memFetch;
  updateSlow();
  writeWatchChanged();
  applyWriteWatch();
  invalidateDecodedCode();
}

export function suppressHooksOnce(): void { Hooks.suppressOnce = true; Hooks.suppressCodeAt = Cpu.retired; Hooks.suppressCodeRip = Cpu.rip; }
export function hookEvents(): u32 { return Hooks.events; }
export function hookInsnLength(): u32 { return Hooks.insnLength; }
export function memLog(): usize { return MEM_LOG; }
export function memLogLength(): u32 { return memLogCount; }
export function memAccessRip(): u64 { return Hooks.accessRip; }
export function clearMemLog(): void { clearLog(); }

export function enableTrace(capacity: u32): bool { return traceEnable(capacity); }
export function traceBuffer(): usize { return Hooks.traceBuf; }
export function traceHead(): u32 { return Hooks.traceHead; }
export function traceCount(): u64 { return Hooks.traceCount; }
export function traceCapacity(): u32 { return Hooks.traceCap; }

/** Copy-on-write snapshot of all guest memory (snapshot.ts); the host keeps registers and the region list. */
export function snapshotTake(): bool { return takeSnapshot(); }
export function snapshotRestore(): bool { return restoreSnapshot(); }
export function snapshotPageCount(): u32 { return snapshotPages(); }

export function run(budget: u64, skipFirstBreakpoint: bool): u32 { return runLoop(budget, skipFirstBreakpoint); }

/** Decodes the instruction in the I/O buffer (len bytes); returns length | supported << 8. */
export function probe(len: u32): u32 {
  const n = len > 15 ? 15 : len;
  memory.copy(DECODE_BUF, IO_BUF, n);
  const e = changetype<Insn>(PROBE_INSN);
  const truncated = decode(0, e, n) != 0;
  const ok = e.op != Op.Invalid && !truncated && (<u32>e.op < <u32>Op.MovupsLoad || sseImplemented(e.op));
  return <u32>e.len | (ok ? 0x100 : 0);
}

/** Op values whose SSE handlers exist (kept in sse.ts). */
import { sseSupported } from './sse';
function sseImplemented(op: u32): bool { return sseSupported(op); }

export const INSN_BYTES: u32 = <u32>INSN_SIZE;

// Thread slots and in-core switches (threads.ts; host side: src/engine/wasm-thread-slots.ts).
import {
  ensureSlots, slotBase, saveSlot, loadSlot, queueBase, logBase, arm as armThreads, drain as drainThreads, quantumLeft as threadQuantumLeft, Sched,
  SLOT_SIZE, QUEUE_MAX, LOG_MAX,
} from './threads';
export function threadSlots(count: u32): bool { return ensureSlots(count); }
export function threadSlotBase(slot: u32): usize { return slotBase(slot); }
export function threadSlotSave(slot: u32): void { saveSlot(slot); }
export function threadSlotLoad(slot: u32): void { loadSlot(slot); }
export function threadQueue(): usize { return queueBase(); }
export function threadLog(): usize { return logBase(); }
export function threadArm(current: u32, queueLength: u32, quantumLeft: u32, quantum: u32, randomHi: u32, randomLo: u32, wakeIn: f64): bool {
  return armThreads(current, queueLength, quantumLeft, quantum, randomHi, randomLo, wakeIn);
}
export function threadDrain(): u32 { return drainThreads(); }
export function threadQuantumLeftNow(): u32 { return threadQuantumLeft(); }
export function threadCurrent(): u32 { return Sched.current; }
export function threadRandomHi(): u32 { return <u32>(Sched.random >> 32); }
export function threadRandomLo(): u32 { return <u32>Sched.random; }
export const THREAD_SLOT_SIZE: u32 = SLOT_SIZE;
export const THREAD_QUEUE_MAX: u32 = QUEUE_MAX;
export const THREAD_LOG_MAX: u32 = LOG_MAX;

// Block compiler (jit.ts; host side: src/engine/wasm-jit.ts). Compiled blocks import the helpers below.
import {
  setJitThreshold, hotList, hotLength, hotClear, install, slowLoad, slowStore, exitStatus, flagsArith, flagsLogic, flagsIncDec, flagsShift,
  conditionNow, imul, tlbTag, tlbPte, JIT_HOT_MAX, slowRmwStore, segmentBase, raiseGeneralProtection, exitRecord, flagsTake, slowStore128,
} from './jit';
import { decodedEpoch, headerBase, setRegionRange } from './icache';
/** Range i of the compiled region in table slot `slot` (the blocks it holds copies of); before installing it. */
export function jitRegionRange(slot: u32, i: u32, start: u64, end: u64): bool { return setRegionRange(slot, i, start, end); }
export function jitHeaders(): usize { return headerBase(); }
import { jitRetired } from './cpu';
export function jitRetiredCount(): u64 { return jitRetired; }
export function jitThreshold(n: u32): void { setJitThreshold(n); }
export function jitHotList(): usize { return hotList(); }
export function jitHotLength(): u32 { return hotLength(); }
export function jitHotClear(): void { hotClear(); }
export function jitInstall(block: usize, rip: u64, index: u32): bool { return install(block, rip, index); }
export function jitEpoch(): u32 { return decodedEpoch(); }
export function jitLoad(addr: u64, size: u32): u64 { return slowLoad(addr, size); }
export function jitStore(addr: u64, size: u32, v: u64): u32 { return slowStore(addr, size, v); }
export function jitExit(): u32 { return exitStatus(); }
export function jitRmwStore(addr: u64, size: u32, v: u64): u32 { return slowRmwStore(addr, size, v); }
export function jitSegBase(seg: u32): u64 { return segmentBase(seg); }
export function jitGeneralProtection(): void { raiseGeneralProtection(); }
export function jitExitRecord(): usize { return exitRecord(); }
export function jitStore128(addr: u64, lo: u64, hi: u64): u32 { return slowStore128(addr, lo, hi); }
export function jitFlagsTake(mode: u32, kind: u32, d: u64, s: u64, r: u64, sign: u64, extra: u64): void { flagsTake(mode, kind, d, s, r, sign, extra); }
export function jitFlagsArith(kind: u32, d: u64, s: u64, r: u64, sign: u64): void { flagsArith(kind, d, s, r, sign); }
export function jitFlagsLogic(r: u64, sign: u64): void { flagsLogic(r, sign); }
export function jitFlagsIncDec(dec: bool, d: u64, r: u64, sign: u64, cf: i32): void { flagsIncDec(dec, d, r, sign, cf); }
export function jitFlagsShift(r: u64, sign: u64, concrete: u64): void { flagsShift(r, sign, concrete); }
export function jitCondition(cc: u32): u32 { return conditionNow(cc); }
export function jitImul(a: u64, b: u64, size: u32): u64 { return imul(a, b, size); }
export function jitTlbTag(): usize { return tlbTag(); }
export function jitTlbPte(): usize { return tlbPte(); }
export const JIT_HOT_CAPACITY: u32 = JIT_HOT_MAX;
