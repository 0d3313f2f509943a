// The WasmEngine's ThreadSlots: threads' CPU states in the core's slots (wasm/assembly/threads.ts)
// and runs armed to switch threads inside the core at quantum ends. Arming and draining are a few
// calls and typed-array reads per start(), nothing per switch.

import { EmulationError, type CpuContext, type ScheduleReport, type SchedulePlan, type ThreadSlots } from './engine.js';
import type { CoreExports } from './wasm-core.js';
import type { WasmContext } from './wasm-engine.js';

// The slot layout of wasm/assembly/threads.ts (checked against the core's THREAD_SLOT_SIZE).
const SLOT_SIZE = 640;
const SLOT_XMM = 128, SLOT_RIP = 384, SLOT_RFLAGS = 392, SLOT_FS = 400, SLOT_GS = 408, SLOT_MXCSR = 416, SLOT_FPU = 432;

export class WasmThreadSlots implements ThreadSlots {
  private readonly queueMax: number;
  private readonly logMax: number;
  private capacity = 0;

  constructor(
    private readonly core: CoreExports,
    /** Whether hooks that call into the host are installed (an armed run must not switch under them). */
    private readonly observed: () => boolean,
  ) {
    if ((core.THREAD_SLOT_SIZE.value as number) !== SLOT_SIZE) throw new EmulationError('INTERNAL', 'the wasm core\'s thread slot layout differs from wasm-thread-slots.ts');
    this.queueMax = core.THREAD_QUEUE_MAX.value as number;
    this.logMax = core.THREAD_LOG_MAX.value as number;
  }

  reserve(count: number): boolean {
    if (count <= this.capacity) return true;
    if (!this.core.threadSlots(count)) return false;
    this.capacity = count;
    return true;
  }

  private base(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) throw new EmulationError('ARG', `thread slot ${slot} is not reserved (${this.capacity} are)`);
    return this.core.threadSlotBase(slot) >>> 0;
  }

  save(slot: number): void {
    this.base(slot);
    this.core.threadSlotSave(slot);
  }

  load(slot: number): void {
    this.base(slot);
    this.core.threadSlotLoad(slot);
  }

  read(slot: number): CpuContext {
    const p = this.base(slot);
    const mem = new Uint8Array(this.core.memory.buffer);
    const view = new DataView(this.core.memory.buffer, p, SLOT_SIZE);
    const context: WasmContext = {
      engine: 'wasm',
      gprs: mem.slice(p, p + 128),
      xmm: mem.slice(p + SLOT_XMM, p + SLOT_XMM + 256),
      rip: view.getBigUint64(SLOT_RIP, true),
      rflags: view.getBigUint64(SLOT_RFLAGS, true),
      fsBase: view.getBigUint64(SLOT_FS, true),
      gsBase: view.getBigUint64(SLOT_GS, true),
      mxcsr: view.getUint32(SLOT_MXCSR, true),
      x87: mem.slice(p + SLOT_FPU, p + SLOT_FPU + this.core.fpuStateSize()),
    };
    return context;
  }

  write(slot: number, context: CpuContext): void {
    if (context.engine !== 'wasm' || !('gprs' in context)) throw new EmulationError('ARG', 'thread slot: the context was not saved by a WasmEngine');
    const c = context as WasmContext;
    const p = this.base(slot);
    const mem = new Uint8Array(this.core.memory.buffer);
    const view = new DataView(this.core.memory.buffer, p, SLOT_SIZE);
    mem.set(c.gprs, p);
    mem.set(c.xmm, p + SLOT_XMM);
    view.setBigUint64(SLOT_RIP, c.rip, true);
    view.setBigUint64(SLOT_RFLAGS, c.rflags, true);
    view.setBigUint64(SLOT_FS, c.fsBase, true);
    view.setBigUint64(SLOT_GS, c.gsBase, true);
    view.setUint32(SLOT_MXCSR, c.mxcsr, true);
    mem.set(c.x87, p + SLOT_FPU);
  }

  arm(plan: SchedulePlan): boolean {
    if (this.observed() || plan.runnableCount > this.queueMax || plan.runnableCount === 0) return false;
    const queue = new Uint32Array(this.core.memory.buffer, this.core.threadQueue() >>> 0, plan.runnableCount);
    for (let i = 0; i < plan.runnableCount; i++) {
      const slot = plan.runnable[i]!;
      if (slot >= this.capacity) return false;
      queue[i] = slot;
    }
    if (plan.current >= this.capacity) return false;
    const left = Math.max(1, Math.min(plan.quantumLeft, 0xffff_ffff));
    return this.core.threadArm(plan.current, plan.runnableCount, left, plan.quantum, plan.randomHi, plan.randomLo, plan.wakeIn) !== 0;
  }

  drain(out: ScheduleReport): void {
    const n = this.core.threadDrain() >>> 0;
    const at = this.core.threadLog() >>> 0;
    const offsets = new Float64Array(this.core.memory.buffer, at, this.logMax * 2);
    const slots = new Uint32Array(this.core.memory.buffer, at, this.logMax * 4);
    out.count = n;
    for (let i = 0; i < n; i++) {
      out.offsets[i] = offsets[i * 2]!;
      out.slots[i] = slots[i * 4 + 2]!;
    }
    out.current = this.core.threadCurrent() >>> 0;
    out.quantumLeft = this.core.threadQuantumLeftNow() >>> 0;
    out.randomHi = this.core.threadRandomHi() >>> 0;
    out.randomLo = this.core.threadRandomLo() >>> 0;
  }
}
