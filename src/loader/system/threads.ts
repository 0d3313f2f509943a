// Emulated threads for the system model: one CPU, threads interleaved by a deterministic
// scheduler. A thread runs until it blocks (futex wait, sleep) or its quantum ends; the
// quantum (instructions, with jitter) and the thread picked at each switch come from a seeded
// generator, so a schedule is a function of its seed and any run can be replayed exactly.
// A thread's CPU state (register file, fs_base, xmm, x87) lives in an Engine context while it
// is not running: switching is saveContext + restoreContext, memory is shared and never copied.
// The per-thread parts of the kernel state (signal mask, thread-directed pending signals,
// sigaltstack) are swapped in and out of the Kernel's with the CPU state.
// A store into code is a switch point too (drawn from a second seeded stream): on a real
// multi-core machine another thread runs while a patcher writes byte after byte, so the
// schedule may hand it the CPU between two stores. A read/accept/poll that would block parks
// the thread ('io') and re-runs the call when another thread changed a descriptor.
// With an engine that has ThreadSlots (the WasmEngine), the threads' CPU states live in the
// engine's slots and a run is armed to switch at quantum ends inside the engine (the same draws,
// logged, synced here when the run returns); whatever needs the host at a switch (a woken
// thread's result, a pending signal, a restarted call, a deadline passing, hooks) makes the
// engine leave the switch to switchThread.

import type { CpuContext, ScheduleReport, SchedulePlan, ThreadSlots } from '../../engine/engine.js';
import type { SignalInfo } from '../kernel/signals.js';
import { sigbit } from '../kernel/signals.js';
import { SeededRandom, type Kernel } from './kernel.js';

export const DEFAULT_SCHEDULE_SEED = 1n;
/** Mean quantum in instructions: a switch every few thousand instructions. */
export const DEFAULT_QUANTUM = 4000;

export type ThreadState = 'runnable' | 'futex' | 'sleep' | 'io' | 'exited';

/**
 * Virtual time a retired instruction takes while other threads exist (a slow CPU on purpose:
 * a thread sleeping while others compute wakes after 10^4 of their instructions per ms).
 */
export const NS_PER_INSTRUCTION = 100n;

/** One in PREEMPT_ODDS stores into code hands the CPU to another runnable thread. */
export const PREEMPT_ODDS = 4;

export interface GuestThread {
  tid: number;
  /** comm, as prctl(PR_SET_NAME) / pthread_setname_np set it (15 bytes at most). */
  name: string;
  state: ThreadState;
  /** The CPU state while not running (undefined for the running thread). */
  context: CpuContext | undefined;
  /** rax to deliver when the thread next runs (a blocked system call's result). */
  resumeValue: bigint | undefined;
  /** futex wait: the word's address and the bitset. */
  futex: { address: bigint; bitset: number } | undefined;
  /** A blocked call's deadline on CLOCK_MONOTONIC (ns), if any; the value rax gets when it passes. */
  deadline: { ns: bigint; value: bigint } | undefined;
  /** set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken when the thread exits. */
  clearChildTid: bigint;
  /** set_robust_list's head (recorded; glibc's non-robust mutexes leave it empty). */
  robustList: bigint;
  /** Signal mask, thread-directed pending signals, sigaltstack (live in the Kernel while running). */
  blocked: bigint;
  pending: SignalInfo[];
  altStack: { sp: bigint; flags: number; size: bigint };
  /** Instructions this thread has retired. */
  instructions: number;
  /** When the thread was created (the process's instruction count). */
  createdAt: number;
  exitStatus?: number;
  /** FIFO order of futex waits. */
  waitSeq?: number;
  /** An 'io' wait: the system call re-run when a descriptor changes (rip is put back on its `syscall`). */
  restartSyscall?: number;
  /** Set by an io wake: the next run re-executes restartSyscall. */
  restart?: boolean;
}

/** How many switches the run log keeps (the first ones): the page's thread lanes come from it. */
export const RUN_LOG_LIMIT = 1000;

export interface ThreadsState {
  ran: { at: number; tid: number }[];
  threads: GuestThread[];
  current: number;
  nextTid: number;
  quantumLeft: number;
  random: bigint;
  switches: number;
  /** The code-write preemption stream (absent in states saved before it existed). */
  preemptRandom?: bigint;
}

/** What a thread switch needs from the process: the engine through the kernel. */
export class Scheduler {
  readonly threads: GuestThread[] = [];
  private currentIndex = 0;
  private nextTid: number;
  private readonly random: ScheduleRandom;
  /** Per thread, the context it was last switched in from: saved into at its next switch-out. */
  private readonly spare = new WeakMap<GuestThread, CpuContext>();
  /** Contexts a saved state or a caller of contextOf holds: never saved into. */
  private readonly pinned = new WeakSet<CpuContext>();
  private readonly preemptRandom: SeededRandom;
  quantumLeft: number;
  /** Switches forced by a store into code (the write-race points of a schedule). */
  preemptions = 0;
  /** Context switches so far (for reports and the bench). */
  switches = 0;
  /** Of those, the ones the engine made inside an armed run (no return to the host). */
  engineSwitches = 0;
  /** While set (a host call into the guest, a stopped world), no switch happens. */
  frozen = false;
  /** Which thread ran from when (the process's instruction count), the first RUN_LOG_LIMIT switches. */
  readonly ran: { at: number; tid: number }[] = [];
  /** The engine's thread slots (slot = index in `threads`), or undefined: contexts on the host. */
  private slots: ThreadSlots | undefined;
  /** The engine runs armed (armRun) until consume() settles it. */
  private armed = false;
  private readonly plan: SchedulePlan = { current: 0, runnable: [], runnableCount: 0, quantumLeft: 0, quantum: 0, randomHi: 0, randomLo: 0, wakeIn: -1 };
  private readonly report: ScheduleReport = { count: 0, offsets: [], slots: [], current: 0, quantumLeft: 0, randomHi: 0, randomLo: 0 };

  constructor(
    readonly kernel: Kernel,
    readonly seed: bigint = DEFAULT_SCHEDULE_SEED,
    readonly quantum: number = DEFAULT_QUANTUM,
    /** In-engine switches (the engine's ThreadSlots); undefined: the host switches every quantum. */
    slots?: ThreadSlots,
  ) {
    this.random = new ScheduleRandom(seed ^ 0x7468726561647321n);
    this.preemptRandom = new SeededRandom(seed ^ 0x7772697465726163n);
    this.scheduleSeed = seed;
    this.nextTid = kernel.pid + 1;
    this.threads.push(this.blank(kernel.pid, 0));
    this.ran.push({ at: 0, tid: kernel.pid });
    this.quantumLeft = this.nextQuantum();
    this.slots = slots?.reserve(1) && Number.isInteger(quantum) && quantum > 0 && quantum <= 0xffff_ffff ? slots : undefined;
  }

  /** Whether threads are switched inside the engine when nothing needs the host. */
  get switchesInEngine(): boolean {
    return this.slots !== undefined;
  }

  private blank(tid: number, at: number): GuestThread {
    return {
      tid, name: 'main', state: 'runnable', context: undefined, resumeValue: undefined, futex: undefined, deadline: undefined,
      clearChildTid: 0n, robustList: 0n, blocked: 0n, pending: [], altStack: { sp: 0n, flags: 2, size: 0n }, instructions: 0, createdAt: at,
    };
  }

  get current(): GuestThread {
    return this.threads[this.currentIndex]!;
  }

  /** Threads that have not exited. */
  get live(): GuestThread[] {
    return this.threads.filter((t) => t.state !== 'exited');
  }

  byTid(tid: number): GuestThread | undefined {
    return this.threads.find((t) => t.tid === tid && t.state !== 'exited');
  }

  private nextQuantum(): number {
    const jitter = (this.random.next32() & 0xffffff) % this.quantum;
    return Math.max(1, (this.quantum >> 1) + jitter);
  }

  private pick(n: number): number {
    return (this.random.next32() & 0xffffff) % n;
  }

  /**
   * Before a run: arms the engine to switch threads at quantum ends itself, when it has slots and
   * no switch needs the host (every runnable thread resumes as it was parked: no result to
   * deliver, no restarted call, no pending signal). True: the run needs no quantum bound.
   */
  armRun(): boolean {
    const slots = this.slots;
    if (!slots || this.frozen) return false;
    const cur = this.current;
    if (cur.state !== 'runnable' || this.kernel.signals.pending.length > 0) return false;
    const plan = this.plan;
    let n = 0;
    let earliest: bigint | undefined;
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i]!;
      if (t.state === 'runnable') {
        if (t !== cur && (t.resumeValue !== undefined || t.restart || t.restartSyscall !== undefined || t.pending.length > 0)) return false;
        plan.runnable[n++] = i;
      } else if (t.deadline !== undefined && t.state !== 'exited' && (earliest === undefined || t.deadline.ns < earliest)) earliest = t.deadline.ns;
    }
    plan.wakeIn = -1;
    if (earliest !== undefined && this.threads.length > 1) {
      // consume() wakes it once the clock, NS_PER_INSTRUCTION a retired instruction, reaches the deadline.
      const ns = earliest - this.kernel.clock.now(1);
      plan.wakeIn = ns <= 0n ? 0 : Number((ns + NS_PER_INSTRUCTION - 1n) / NS_PER_INSTRUCTION);
    }
    plan.current = this.currentIndex;
    plan.runnableCount = n;
    plan.quantumLeft = this.quantumLeft;
    plan.quantum = this.quantum;
    plan.randomHi = this.random.high;
    plan.randomLo = this.random.low;
    this.armed = slots.arm(plan);
    return this.armed;
  }

  /** An armed run threw (the engine's memory limit): takes over what the engine switched. */
  runFailed(): void {
    if (!this.armed) return;
    const r = this.report;
    this.slots!.drain(r);
    this.armed = false;
    this.applySwitches(r.count > 0 ? r.offsets[r.count - 1]! : 0);
  }

  /** Counts retired instructions against the running thread's quantum (after an armed run: takes over the engine's switches). */
  consume(instructions: number): void {
    if (this.armed) {
      this.slots!.drain(this.report);
      this.armed = false;
      this.applySwitches(instructions);
    } else {
      this.quantumLeft -= instructions;
      this.current.instructions += instructions;
    }
    // With threads, computing takes time: a sleeper's deadline comes while the others run.
    if (this.threads.length > 1) {
      this.kernel.clock.advance(BigInt(instructions) * NS_PER_INSTRUCTION);
      this.wakeExpired(); // runnable again; picked at the next switch
    }
  }

  /**
   * The bookkeeping of the switches an armed run made (the drained report): per-thread counts,
   * the run log, the running thread and its per-thread kernel state, the generator and quantum.
   */
  private applySwitches(instructions: number): void {
    const r = this.report;
    const before = this.kernel.now() - instructions;
    const first = this.current;
    let cur = first;
    let from = 0;
    for (let i = 0; i < r.count; i++) {
      const at = r.offsets[i]!;
      const next = this.threads[r.slots[i]!]!;
      cur.instructions += at - from;
      from = at;
      this.switches++;
      this.engineSwitches++;
      if (this.ran.length < RUN_LOG_LIMIT) this.ran.push({ at: before + at, tid: next.tid });
      cur = next;
    }
    cur.instructions += instructions - from;
    if (cur !== first) this.swapKernelState(first, cur, r.current);
    this.quantumLeft = r.quantumLeft;
    this.random.setHalves(r.randomHi, r.randomLo);
  }

  /** Wakes the timed waits whose deadline has passed; whether any was. */
  private wakeExpired(): boolean {
    const at = this.kernel.clock.now(1);
    let any = false;
    for (const t of this.threads) {
      if (t.deadline !== undefined && t.deadline.ns <= at && (t.state === 'futex' || t.state === 'sleep' || t.state === 'io')) {
        this.wake(t, t.deadline.value);
        any = true;
      }
    }
    return any;
  }

  /** Out of engine memory for slots: the parked threads' states move to host contexts for good. */
  private leaveSlots(): void {
    const slots = this.slots!;
    this.threads.forEach((t, i) => {
      if (i !== this.currentIndex && t.state !== 'exited') t.context = slots.read(i);
    });
    this.slots = undefined;
  }

  /** A new thread (clone with CLONE_THREAD): `context` is its CPU state, ready to run. */
  spawn(context: CpuContext, at: number): GuestThread {
    const parent = this.current;
    const t = this.blank(this.nextTid++, at);
    const slot = this.threads.length;
    if (this.slots && !this.slots.reserve(slot + 1)) this.leaveSlots();
    if (this.slots) this.slots.write(slot, context);
    else t.context = context;
    t.name = parent.name;
    t.blocked = this.kernel.signals.blocked; // the creator's mask, as clone copies it
    this.threads.push(t);
    return t;
  }

  /**
   * A guest store into code: whether the running thread gives up the CPU after it (a seeded
   * draw, one in PREEMPT_ODDS, only when another thread can run and the world is not frozen).
   */
  preemptAtCodeWrite(): boolean {
    if (this.frozen || !this.threads.some((t) => t !== this.current && t.state === 'runnable')) return false;
    const r = this.preemptRandom.bytes(1);
    if (r[0]! % PREEMPT_ODDS !== 0) return false;
    this.quantumLeft = 0;
    this.preemptions++;
    return true;
  }

  /**
   * The running thread waits in system call `nr` (read, accept, poll, epoll_wait... with nothing
   * ready): it re-runs the call when another thread changes a descriptor (ioChanged), or gets
   * `deadline.value` when the deadline passes on the virtual clock.
   */
  blockIo(nr: number, deadline?: { ns: bigint; value: bigint }): void {
    const t = this.current;
    t.state = 'io';
    t.futex = undefined;
    t.deadline = deadline;
    t.restartSyscall = nr;
  }

  /** Another thread wrote, connected or closed: every 'io' waiter re-runs its call. */
  ioChanged(): void {
    for (const t of this.threads) {
      if (t.state !== 'io' || t === this.current) continue;
      this.wake(t, 0n);
      t.restart = true;
    }
  }

  /** Blocks the running thread (a futex wait or a sleep): it runs again when woken. */
  block(state: 'futex' | 'sleep', futex?: { address: bigint; bitset: number }, deadline?: { ns: bigint; value: bigint }): void {
    const t = this.current;
    t.state = state;
    t.futex = futex;
    t.deadline = deadline;
  }

  wake(t: GuestThread, value: bigint): void {
    t.restart = false;
    t.state = 'runnable';
    t.futex = undefined;
    t.deadline = undefined;
    t.resumeValue = value;
  }

  /** FUTEX_WAKE: up to `count` waiters on `address` whose bitset meets `bitset`, in wait order. */
  futexWake(address: bigint, count: number, bitset = 0xffffffff): number {
    let woken = 0;
    for (const t of this.waitOrder()) {
      if (woken >= count) break;
      if (t.state === 'futex' && t.futex?.address === address && (t.futex.bitset & bitset) !== 0) {
        this.wake(t, 0n);
        woken++;
      }
    }
    return woken;
  }

  /** FUTEX_REQUEUE: wakes `wake` waiters, moves up to `move` of the rest to `to`. */
  futexRequeue(address: bigint, wake: number, move: number, to: bigint): number {
    let done = this.futexWake(address, wake);
    let moved = 0;
    for (const t of this.waitOrder()) {
      if (moved >= move) break;
      if (t.state === 'futex' && t.futex?.address === address) {
        t.futex = { address: to, bitset: t.futex.bitset };
        moved++;
      }
    }
    done += moved;
    return done;
  }

  /** Waiters in the order they started waiting (a sequence kept on the thread). */
  private waitOrder(): GuestThread[] {
    return this.threads.filter((t) => t.state === 'futex').sort((a, b) => (a.waitSeq ?? 0) - (b.waitSeq ?? 0));
  }

  private waitCounter = 0;
  /** Stamps the running thread's wait so wakes go in FIFO order. */
  stampWait(): void {
    this.current.waitSeq = ++this.waitCounter;
  }

  /**
   * A process-directed signal (kill, the tool's signal): queued on the running thread when it
   * does not block it, else on the first thread that does not (as Linux's complete_signal).
   */
  targetFor(signo: number): GuestThread {
    const cur = this.current;
    if (cur.state !== 'exited' && (this.kernel.signals.blocked & sigbit(signo)) === 0n) return cur;
    return this.live.find((t) => t !== cur && (t.blocked & sigbit(signo)) === 0n) ?? cur;
  }

  /** Queues a signal on a thread that is not running; a blocked wait is interrupted (EINTR). */
  queueSignal(t: GuestThread, info: SignalInfo): void {
    if (t === this.current) {
      this.kernel.signals.raise(info);
      return;
    }
    if (!t.pending.some((p) => p.signo === info.signo)) t.pending.push(info);
    if ((t.state === 'futex' || t.state === 'sleep' || t.state === 'io') && (t.blocked & sigbit(info.signo)) === 0n) this.wake(t, -4n /* EINTR */);
  }

  /** Whether the running thread should give up the CPU now. */
  shouldSwitch(): boolean {
    if (this.frozen) return false;
    return this.current.state !== 'runnable' || this.quantumLeft <= 0;
  }

  /**
   * Switches to the next thread: a seeded pick among the runnable ones. When none is runnable,
   * the virtual clock advances to the earliest deadline; with none, it returns a deadlock message.
   * `yieldCpu`: prefer another thread (sched_yield).
   */
  switchThread(yieldCpu = false): string | undefined {
    const threads = this.threads;
    for (;;) {
      // The runnable threads in order (without the yielding one when another can run), counted, not collected.
      let n = 0;
      for (let i = 0; i < threads.length; i++) if (threads[i]!.state === 'runnable') n++;
      const skip = yieldCpu && n > 1 && this.current.state === 'runnable' ? this.current : undefined;
      if (skip) n--;
      if (n > 0) {
        let k = n === 1 ? 0 : this.pick(n);
        let index = 0;
        for (; index < threads.length; index++) {
          const t = threads[index]!;
          if (t.state !== 'runnable' || t === skip) continue;
          if (k-- === 0) break;
        }
        this.switchTo(threads[index]!, index);
        this.quantumLeft = this.nextQuantum();
        return undefined;
      }
      const waiting = this.threads.filter((t) => t.deadline !== undefined && (t.state === 'futex' || t.state === 'sleep' || t.state === 'io'));
      if (waiting.length === 0) return this.deadlockMessage();
      const first = waiting.reduce((a, b) => (a.deadline!.ns <= b.deadline!.ns ? a : b));
      const now = this.kernel.clock.now(1);
      if (first.deadline!.ns > now) this.kernel.clock.advance(first.deadline!.ns - now);
      const at = this.kernel.clock.now(1);
      for (const t of waiting) if (t.deadline!.ns <= at) this.wake(t, t.deadline!.value);
    }
  }

  private deadlockMessage(): string {
    const what = (t: GuestThread): string =>
      t.state === 'futex' ? `waits on futex 0x${t.futex!.address.toString(16)}` : t.state === 'io' ? `waits in system call ${t.restartSyscall} for a descriptor nobody can make ready` : t.state;
    const waits = this.live.map((t) => `thread ${t.tid} (${t.name}) ${what(t)}`);
    return `every thread is blocked and nothing can wake them (a deadlock in the program): ${waits.join('; ')}`;
  }

  /** Makes `next` the running thread: saves the current CPU and per-thread kernel state, loads next's. */
  switchTo(next: GuestThread, index = this.threads.indexOf(next)): void {
    const cur = this.current;
    const engine = this.kernel.engine;
    if (next === cur) {
      this.applyResume(next);
      return;
    }
    if (this.slots) {
      if (cur.state !== 'exited') this.slots.save(this.currentIndex);
      this.slots.load(index);
    } else {
      if (cur.state !== 'exited') {
        cur.context = engine.saveContext(this.spare.get(cur));
        this.spare.delete(cur);
      }
      const context = next.context!;
      engine.restoreContext(context);
      if (!this.pinned.has(context)) this.spare.set(next, context);
      next.context = undefined;
    }
    this.swapKernelState(cur, next, index);
    this.switches++;
    if (this.ran.length < RUN_LOG_LIMIT) this.ran.push({ at: this.kernel.now(), tid: next.tid });
    this.applyResume(next);
  }

  /** The per-thread kernel state (signal mask and pending signals, altstack, tid address) goes from `from` to `to`. */
  private swapKernelState(from: GuestThread, to: GuestThread, index: number): void {
    from.blocked = this.kernel.signals.blocked;
    from.pending = this.kernel.signals.pending;
    from.altStack = this.kernel.altStack;
    this.kernel.signals.blocked = to.blocked;
    this.kernel.signals.pending = to.pending;
    this.kernel.altStack = to.altStack;
    this.kernel.tidAddress = to.clearChildTid;
    this.currentIndex = index;
  }

  private applyResume(t: GuestThread): void {
    if (t.restart && t.restartSyscall !== undefined) {
      // Back onto the `syscall` instruction (0f 05) with its number, as the kernel restarts a call.
      const engine = this.kernel.engine;
      engine.writeRegister('rip', engine.readRegister('rip') - 2n);
      engine.writeRegister('rax', BigInt(t.restartSyscall));
      t.restart = false;
      t.restartSyscall = undefined;
      t.resumeValue = undefined;
      return;
    }
    t.restartSyscall = undefined;
    if (t.resumeValue !== undefined) {
      this.kernel.engine.writeRegister('rax', BigInt.asUintN(64, t.resumeValue));
      t.resumeValue = undefined;
    }
  }

  /** The CPU context of any thread (the running one's is read live). */
  contextOf(t: GuestThread): CpuContext {
    if (t === this.current) return this.kernel.engine.saveContext();
    if (this.slots) return this.slots.read(this.threads.indexOf(t));
    this.pinned.add(t.context!);
    return t.context!;
  }

  saveState(): ThreadsState {
    // With slots, a parked thread's state is copied out of its slot (the engine's snapshot holds memory and the running thread's).
    const contextAt = (t: GuestThread, i: number): CpuContext | undefined => {
      const context = this.slots && i !== this.currentIndex && t.state !== 'exited' ? this.slots.read(i) : t.context;
      if (context) this.pinned.add(context); // never saved into, should the host switch from here on (leaveSlots)
      return context;
    };
    return {
      ran: this.ran.map((r) => ({ ...r })),
      threads: this.threads.map((t, i) => ({ ...t, context: contextAt(t, i), pending: [...t.pending], futex: t.futex && { ...t.futex }, deadline: t.deadline && { ...t.deadline }, altStack: { ...t.altStack } })),
      current: this.currentIndex,
      nextTid: this.nextTid,
      quantumLeft: this.quantumLeft,
      random: this.random.seed,
      switches: this.switches,
      preemptRandom: this.preemptRandom.seed,
    };
  }

  restoreState(s: ThreadsState): void {
    this.ran.length = 0;
    this.ran.push(...s.ran.map((r) => ({ ...r })));
    this.threads.length = 0;
    for (const t of s.threads) this.threads.push({ ...t, pending: [...t.pending], futex: t.futex && { ...t.futex }, deadline: t.deadline && { ...t.deadline }, altStack: { ...t.altStack } });
    if (this.slots && !this.slots.reserve(this.threads.length)) this.slots = undefined; // the contexts stay on the host
    if (this.slots) {
      this.threads.forEach((t, i) => {
        if (t.context) this.slots!.write(i, t.context);
        t.context = undefined;
      });
    }
    this.currentIndex = s.current;
    this.nextTid = s.nextTid;
    this.quantumLeft = s.quantumLeft;
    this.random.seed = s.random;
    this.switches = s.switches;
    if (s.preemptRandom !== undefined) this.preemptRandom.seed = s.preemptRandom;
  }

  /** The seed the schedule from here on follows (the constructor's, or the last reseed's). */
  scheduleSeed: bigint;

  /** Replays from here with another schedule: reseeds the generators (quantum, picks, preemptions at code writes). */
  reseed(seed: bigint): void {
    this.scheduleSeed = seed;
    this.random.seed = BigInt.asUintN(64, seed ^ 0x7468726561647321n) || 1n;
    this.preemptRandom.seed = BigInt.asUintN(64, seed ^ 0x7772697465726163n) || 1n;
    this.quantumLeft = this.nextQuantum();
  }
}

/**
 * The scheduler's generator: kernel.ts's SeededRandom (xorshift64*) step for step, on two 32-bit
 * halves instead of BigInt (a switch draws twice). next32() is the low 32 bits of the output,
 * the first four bytes SeededRandom.bytes(4) would give.
 */
export class ScheduleRandom {
  private hi = 0;
  private lo = 0;

  constructor(seed: bigint) {
    this.seed = BigInt.asUintN(64, seed) || 0x9e3779b97f4a7c15n;
  }

  next32(): number {
    let hi = this.hi;
    let lo = this.lo;
    lo = (lo ^ ((lo >>> 12) | (hi << 20))) >>> 0; // x ^= x >> 12
    hi = (hi ^ (hi >>> 12)) >>> 0;
    hi = (hi ^ ((hi << 25) | (lo >>> 7))) >>> 0; // x ^= x << 25
    lo = (lo ^ (lo << 25)) >>> 0;
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0; // x ^= x >> 27
    hi = (hi ^ (hi >>> 27)) >>> 0;
    this.hi = hi;
    this.lo = lo;
    return Math.imul(lo, 0x4f6cdd1d) >>> 0; // the low half of x * 0x2545f4914f6cdd1d
  }

  get seed(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The state's halves (an engine's in-core scheduler carries it on). */
  get high(): number {
    return this.hi;
  }

  get low(): number {
    return this.lo;
  }

  setHalves(hi: number, lo: number): void {
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  set seed(value: bigint) {
    const v = BigInt.asUintN(64, value);
    this.hi = Number(v >> 32n);
    this.lo = Number(v & 0xffff_ffffn);
  }
}
