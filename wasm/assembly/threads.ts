// Thread switches inside the core (issue 12): the system model's threads keep their CPU state in
// slots here, and a run the host has armed switches at a quantum's end itself, with the host's
// run queue and the scheduler's own seeded generator (src/loader/system/threads.ts, draw for
// draw), so a switch every few thousand instructions costs no exit to JavaScript. Whatever only
// the host can do (a deadline passing, a full switch log, a breakpoint where the next thread
// resumes) makes run() exit with Exit.Quantum; the host then finishes the switch its own way.

import { reserve } from './layout';
import { Cpu, GPR, XMM } from './state';
import { materialize, setRflags } from './flags';
import { saveFpuState, loadFpuState } from './x87';
import { isBreakpoint, isUntil } from './icache';

/** One thread's CPU state: GPRs, xmm, rip, rflags, fs/gs base, mxcsr, the x87 image (wasm-engine.ts reads the same layout). */
export const SLOT_SIZE: u32 = 640;
export const SLOT_XMM: u32 = 128, SLOT_RIP: u32 = 384, SLOT_RFLAGS: u32 = 392, SLOT_FS: u32 = 400, SLOT_GS: u32 = 408, SLOT_MXCSR: u32 = 416, SLOT_FPU: u32 = 432;

/** Runnable slots in the host's order (the threads the scheduler's pick chooses among). */
export const QUEUE_MAX: u32 = 1024;
const QUEUE: usize = memory.data(1024 * 4, 16);
/** The switch log: per in-core switch, instructions since the run was armed (f64) and the slot switched to (u32). */
export const LOG_MAX: u32 = 1024;
const LOG: usize = memory.data(1024 * 16, 16);

let slots: usize = 0;
let slotCapacity: u32 = 0;

export class Sched {
  /** Set by schedArm, cleared by schedDrain: while set, run() switches threads at quantum ends. */
  static armed: bool = false;
  /** The retired count at which the running thread's quantum ends. */
  static quantumEnd: u64 = 0;
  /** The retired count from which a blocked thread's deadline has passed (the host wakes it). */
  static wakeAt: u64 = <u64>-1;
  static armedAt: u64 = 0;
  /** Mean quantum (instructions). */
  static quantum: u32 = 4000;
  /** The scheduler's xorshift64* state. */
  static random: u64 = 0;
  static current: u32 = 0;
  static queueLength: u32 = 0;
  static logCount: u32 = 0;
}

/** Room for `count` slots; false when wasm memory cannot grow. */
export function ensureSlots(count: u32): bool {
  if (count <= slotCapacity) return true;
  let capacity = slotCapacity == 0 ? <u32>16 : slotCapacity;
  while (capacity < count) capacity <<= 1;
  const grown = reserve((<usize>capacity) * SLOT_SIZE, 64);
  if (grown == 0) return false;
  if (slotCapacity) memory.copy(grown, slots, (<usize>slotCapacity) * SLOT_SIZE);
  slots = grown;
  slotCapacity = capacity;
  return true;
}

/** The slot's address (0 when out of range). */
export function slotBase(slot: u32): usize {
  return slot < slotCapacity ? slots + (<usize>slot) * SLOT_SIZE : 0;
}

/** The live CPU state into the slot. */
export function saveSlot(slot: u32): void {
  const p = slotBase(slot);
  if (p == 0) return;
  memory.copy(p, GPR, 128);
  memory.copy(p + SLOT_XMM, XMM, 256);
  store<u64>(p + SLOT_RIP, Cpu.rip);
  store<u64>(p + SLOT_RFLAGS, materialize());
  store<u64>(p + SLOT_FS, Cpu.fsBase);
  store<u64>(p + SLOT_GS, Cpu.gsBase);
  store<u32>(p + SLOT_MXCSR, Cpu.mxcsr);
  saveFpuState(p + SLOT_FPU);
}

/** The slot into the live CPU state. */
export function loadSlot(slot: u32): void {
  const p = slotBase(slot);
  if (p == 0) return;
  memory.copy(GPR, p, 128);
  memory.copy(XMM, p + SLOT_XMM, 256);
  Cpu.rip = load<u64>(p + SLOT_RIP);
  setRflags(load<u64>(p + SLOT_RFLAGS));
  Cpu.fsBase = load<u64>(p + SLOT_FS);
  Cpu.gsBase = load<u64>(p + SLOT_GS);
  Cpu.mxcsr = load<u32>(p + SLOT_MXCSR);
  loadFpuState(p + SLOT_FPU);
}

export function queueBase(): usize {
  return QUEUE;
}

export function logBase(): usize {
  return LOG;
}

/**
 * Arms the next runs: `current` is the running thread's slot, the first `queueLength` words at
 * queueBase() the runnable slots, `quantumLeft` what the running thread has left, `wakeIn` the
 * instructions after which a deadline passes (negative: none). False when out of range.
 */
export function arm(current: u32, queueLength: u32, quantumLeft: u32, quantum: u32, randomHi: u32, randomLo: u32, wakeIn: f64): bool {
  if (queueLength == 0 || queueLength > QUEUE_MAX || quantum == 0 || current >= slotCapacity) return false;
  for (let i: u32 = 0; i < queueLength; i++) if (load<u32>(QUEUE + ((<usize>i) << 2)) >= slotCapacity) return false;
  Sched.current = current;
  Sched.queueLength = queueLength;
  Sched.quantum = quantum;
  Sched.random = ((<u64>randomHi) << 32) | <u64>randomLo;
  Sched.armedAt = Cpu.retired;
  Sched.quantumEnd = Cpu.retired + <u64>(quantumLeft == 0 ? 1 : quantumLeft);
  Sched.wakeAt = wakeIn < 0 ? <u64>-1 : Cpu.retired + <u64>wakeIn;
  Sched.logCount = 0;
  Sched.armed = true;
  return true;
}

/** Ends the armed state; returns how many switches the log holds (read before the next arm). */
export function drain(): u32 {
  Sched.armed = false;
  return Sched.logCount;
}

/** What the running thread has left of its quantum (0 when it ended and the host must switch). */
export function quantumLeft(): u32 {
  return Sched.quantumEnd > Cpu.retired ? <u32>(Sched.quantumEnd - Cpu.retired) : 0;
}

/** The limit run() stops at: the budget's, or the running thread's quantum end when armed. */
@inline export function quantumLimit(limit: u64): u64 {
  return Sched.armed && Sched.quantumEnd < limit ? Sched.quantumEnd : limit;
}

// kernel.ts's SeededRandom (xorshift64*): the low 32 bits of an output.
function next32(): u32 {
  let x = Sched.random;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  Sched.random = x;
  return <u32>(x * 0x2545f4914f6cdd1d);
}

/**
 * The running thread's quantum has ended (Cpu.retired == Sched.quantumEnd): picks the next thread
 * as Scheduler.switchThread does (a draw only when more than one is runnable, then the next
 * quantum's), saves and loads the slots, logs the switch. False: run() exits (Exit.Quantum) for
 * the host, before the draws when it must pick itself, after the switch when the thread resumes
 * on a breakpoint or the until address (the host reports arrivals there, as after its own switch).
 */
export function quantumEnd(): bool {
  if (Cpu.retired >= Sched.wakeAt || Sched.logCount == LOG_MAX) return false;
  const n = Sched.queueLength;
  let next = load<u32>(QUEUE);
  if (n > 1) next = load<u32>(QUEUE + ((<usize>((next32() & 0xffffff) % n)) << 2));
  const jitter = (next32() & 0xffffff) % Sched.quantum;
  let q = (Sched.quantum >> 1) + jitter;
  if (q == 0) q = 1;
  Sched.quantumEnd = Cpu.retired + <u64>q;
  if (next == Sched.current) return true;
  saveSlot(Sched.current);
  loadSlot(next);
  Sched.current = next;
  const e = LOG + ((<usize>Sched.logCount) << 4);
  store<f64>(e, <f64>(Cpu.retired - Sched.armedAt));
  store<u32>(e, next, 8);
  Sched.logCount++;
  return !isBreakpoint(Cpu.rip) && !isUntil(Cpu.rip);
}
