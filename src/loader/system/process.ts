/*
 * SystemProcess: the "system" process model. The kernel's exec maps main and ld.so from the
 * VFS; from then on everything in the guest is real code (ld.so, libc.so.6, libstdc++...) and
 * the sandbox provides only Linux system calls (syscalls/), signal frames (kernel/signals.ts)
 * and the virtual clock. Its public surface mirrors EmulatedProcess where the verifier needs
 * it: run(), deliverSignal(), mprotect(), writeCode(), callFunction(), dlopen()/dlsym()
 * through the guest's own libc, events, output, describe(), snapshot()/restore().
 */

import { EmulationError, HookType, Perm, type Engine, type MemFault, type RunResult, type Snapshot } from '../../engine/engine.js';
import type { CapturedOutputState } from '../captured-output.js';
import { DEFAULT_MAX_MEMORY, DEFAULT_MAX_OUTPUT, mib, RESERVATION_FACTOR, SYSCALL_COST, type ResourceLimits } from '../limits.js';
import { LoaderError, hex } from '../error.js';
import type { OutputChunk, ProcessEvent } from '../events.js';
import { encodeUtf8 } from '../guest-memory.js';
import type { AddressSpaceState, Mapping } from '../kernel/address-space.js';
import {
  FPE_INTDIV, ILL_ILLOPN, SA_ONSTACK, SEGV_ACCERR, SEGV_MAPERR, SIGFPE, SIGILL, SIGSEGV, SIGTRAP, SI_USER,
  dispositionOf, restoreRtFrame, setupRtFrame, type SignalAction, type SignalInfo,
} from '../kernel/signals.js';
import { faultBytes, faultReportOf, killedStop } from '../fault.js';
import type { FaultReport, ProcessStop, RunOptions } from '../process.js';
import type { RelocationBinding } from '../dynamic/bindings.js';
import type { GuestObject, GuestProcess } from '../guest-process.js';
import { STACK_SIZE, STACK_TOP } from '../layout.js';
import { exec, type ExecResult } from './exec.js';
import { LiveImage, type LinkMapEntry } from './live-image.js';
import { addProcFiles } from './proc-files.js';
import { Kernel, KernelErrno, KernelStop, KernelWouldBlock, UserFault, type KernelState } from './kernel.js';
import { SYSCALLS, syscallName } from './syscalls/table.js';
import { THREAD_SYSCALLS } from './syscalls/threads.js';
import { DEFAULT_QUANTUM, DEFAULT_SCHEDULE_SEED, Scheduler, type ThreadsState } from './threads.js';
import type { Vfs } from './vfs.js';

const SS_DISABLE = 2;
/** Calls after which a descriptor another thread waits on may be ready: write(v), sendto/msg/mmsg, connect, close, shutdown. */
const IO_WAKERS = new Set([1, 3, 20, 42, 44, 46, 48, 307]);

/** A page of the sandbox's own: host calls into the guest return here (an int3 the run loop stops before). */
export const HOST_RETURN = 0x7ffff7ffd000n;

export interface SystemProcessOptions {
  vfs: Vfs;
  /** The executable's path in the VFS, as execve got it (e.g. "./main"); argv[0] unless argv says otherwise. */
  executable: string;
  /** Arguments after argv[0]. */
  argv?: readonly string[];
  envp?: readonly string[];
  /** The working directory (canonical, inside the VFS). */
  cwd: string;
  stdin?: Uint8Array;
  pid?: number;
  /** Seed of getrandom, /dev/urandom and AT_RANDOM (fixed by default: reruns are identical). */
  randomSeed?: bigint;
  /** Touched memory, captured output and wall-clock limits (defaults: limits.ts). */
  limits?: Partial<ResourceLimits>;
  /** Seed of the thread scheduler (quantum jitter and the thread picked at each switch). */
  scheduleSeed?: bigint;
  /** Mean quantum in instructions (default threads.ts's DEFAULT_QUANTUM). */
  quantum?: number;
  /** stdout and stderr are a terminal (--tty); default: pipes, as under a service manager. */
  tty?: boolean;
  /**
   * Who switches threads at quantum ends: the engine itself when it can ('engine', the default;
   * the WasmEngine's ThreadSlots) or the host every quantum ('host'). The schedule is the same.
   */
  threadSwitch?: 'engine' | 'host';
}

export interface SystemSnapshot {
  engine: Snapshot;
  instructions: number;
  events: number;
  output: CapturedOutputState;
  charged: number;
  kernel: KernelState;
  space: AddressSpaceState;
  signals: { actions: Map<number, SignalAction>; blocked: bigint; pending: SignalInfo[] };
  clock: { realtimeNs: bigint; monotonicNs: bigint };
  ended: ProcessStop | undefined;
  watched: Set<bigint>;
  probeReturns: { address: bigint; rsp: bigint; kind: 'dlopen' | 'dlsym' | 'dlvsym'; args: bigint[] }[];
  threads: ThreadsState;
  arrival: Arrival | undefined;
}

/** The last arrival at a watched call or a stop, reported once: the next run starts there without reporting it again. */
interface Arrival {
  rip: bigint;
  at: number;
  tid: number;
}

export class SystemProcess implements GuestProcess {
  readonly model = 'system' as const;
  readonly kernel: Kernel;
  readonly image: ExecResult;
  /** What the guest's ld.so has loaded, read from memory. */
  readonly loaded: LiveImage;
  /** The threads and their deterministic scheduler (threads.ts). */
  readonly threads: Scheduler;
  instructions = 0;
  /** Instruction-budget units charged for system calls (SYSCALL_COST each). */
  charged = 0;
  /** Unknown system calls stop the run on this model, so none fails quietly. */
  readonly failedSyscalls = 0;
  readonly limits: ResourceLimits;
  private ended: ProcessStop | undefined;
  private readonly watched = new Set<bigint>();
  private runStops: ReadonlySet<bigint> = new Set();
  private readonly codeHooks = new Set<string>();
  /** Entry points of the guest libc's dlopen/dlsym/dlvsym: calls are recorded as events (null until libc is loaded). */
  private probes: Map<bigint, 'dlopen' | 'dlsym' | 'dlvsym'> | null = null;
  /** Probed calls in progress: the return address to catch, with rsp just after the return. */
  private probeReturns: { address: bigint; rsp: bigint; kind: 'dlopen' | 'dlsym' | 'dlvsym'; args: bigint[] }[] = [];
  private arrival: Arrival | undefined;

  private constructor(readonly engine: Engine, options: SystemProcessOptions) {
    this.limits = { maxMemory: DEFAULT_MAX_MEMORY, maxOutput: DEFAULT_MAX_OUTPUT, ...options.limits };
    engine.setMemoryLimit?.(this.limits.maxMemory);
    this.kernel = new Kernel(engine, options.vfs, {
      maxOutput: this.limits.maxOutput,
      pid: options.pid ?? 4242,
      exePath: '',
      cwd: options.cwd,
      stdin: options.stdin ?? new Uint8Array(0),
      randomSeed: options.randomSeed ?? 0x5eed_0f_7a7c4_5a4dn,
      ...(options.tty ? { tty: true } : {}),
    });
    this.kernel.now = () => this.instructions;
    this.kernel.space.reservationLimit = this.limits.maxMemory * RESERVATION_FACTOR;
    const slots = options.threadSwitch === 'host' ? undefined : engine.threadSlots;
    this.threads = new Scheduler(this.kernel, options.scheduleSeed ?? DEFAULT_SCHEDULE_SEED, options.quantum || DEFAULT_QUANTUM, slots);
    const argv = [options.executable, ...(options.argv ?? [])];
    this.image = exec(this.kernel, { path: options.executable, argv, envp: options.envp ?? [] });
    addProcFiles(this.kernel, this.image.main.path, argv, () => this.threads.threads.filter((t) => t.state !== 'exited').length);
    this.loaded = new LiveImage(this.kernel, this.image.main);
    this.kernel.space.mapFixed(HOST_RETURN, 0x1000n, Perm.RW, '[sandbox]');
    this.kernel.mem.write(HOST_RETURN, new Uint8Array(0x1000).fill(0xcc));
    this.kernel.space.mprotectInternal(HOST_RETURN, 0x1000n, Perm.RX);
    for (const reg of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) engine.writeRegister(reg, 0n);
    engine.writeRegister('rsp', this.image.rsp);
    engine.writeRegister('rip', this.image.rip);
    engine.writeRegister('fs_base', 0n);
    this.space.onPermissionsChanged = (begin, end, perms) => this.watchCodeWrites(begin, end, perms);
  }

  /**
   * Code can only be written where a page is writable, so a write hook is added when a page
   * that is or was executable becomes writable (a patcher's mprotect RWX): every guest store
   * there is then a recorded code write, as the verifier needs.
   */
  private watchCodeWrites(begin: bigint, end: bigint, perms: Perm): void {
    if ((perms & Perm.Write) === 0) return;
    for (const m of this.space.list()) {
      if (!m.everExecutable || m.end <= begin || m.begin >= end) continue;
      const key = `${m.begin}-${m.end}`;
      if (this.codeHooks.has(key)) continue;
      this.codeHooks.add(key);
      this.engine.addHook({
        type: HookType.MemWrite,
        begin: m.begin,
        end: m.end - 1n,
        callback: (_access, address, size, value) => {
          const bytes = new Uint8Array(size);
          for (let i = 0; i < size; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
          this.kernel.record({ kind: 'code-write', at: this.instructions, address, bytes, rip: this.engine.readRegister('rip'), by: 'instruction' });
          // Another CPU may run between two stores into code: a seeded switch point (threads.ts).
          if (this.threads.preemptAtCodeWrite()) {
            this.preempting = true;
            this.engine.stop();
          }
        },
      });
    }
  }

  static create(engine: Engine, options: SystemProcessOptions): SystemProcess {
    return new SystemProcess(engine, options);
  }

  get mem() {
    return this.kernel.mem;
  }

  get space() {
    return this.kernel.space;
  }

  get events(): ProcessEvent[] {
    return this.kernel.events;
  }

  /** The captured output chunks in order (an omission marker between a stream's first and last bytes when it was bounded). */
  get output(): OutputChunk[] {
    return this.kernel.captured.chunks();
  }

  get exited(): ProcessStop | undefined {
    return this.ended;
  }

  stdoutText(fd = 1): string {
    return this.output.filter((c) => c.fd === fd).map((c) => c.text).join('');
  }

  regions(): readonly Mapping[] {
    return this.kernel.space.list();
  }

  watchCalls(addresses: readonly bigint[]): void {
    for (const a of addresses) this.watched.add(a);
    this.updateBreakpoints();
  }

  private updateBreakpoints(): void {
    this.engine.setBreakpoints([...new Set([...this.watched, ...this.runStops, ...(this.probes?.keys() ?? []), ...this.probeReturns.map((p) => p.address)])]);
  }

  /** Once libc.so.6 is in the link map: breakpoints on its dlopen/dlsym/dlvsym (every version). */
  private installProbes(): void {
    if (this.probes) return;
    const libc = this.linkMap().find((l) => /(^|\/)libc\.so\.6$/.test(l.name));
    if (!libc) return;
    const elf = this.loaded.elfOf(this.loaded.canonical(libc.name));
    if (!elf) return;
    const probes = new Map<bigint, 'dlopen' | 'dlsym' | 'dlvsym'>();
    // Through the hash table, as ld.so looks them up: not all of libc's 3,000 symbols parsed.
    for (const name of ['dlopen', 'dlsym', 'dlvsym'] as const) {
      for (const sym of elf.exportedSymbols(name)) probes.set(libc.base + sym.value, name);
    }
    this.probes = probes;
  }

  /** A probed libc call's entry or return: record it, never stop for it. */
  private onProbe(rip: bigint): boolean {
    const kind = this.probes?.get(rip);
    const rsp = this.engine.readRegister('rsp');
    if (kind) {
      const args = (['rdi', 'rsi', 'rdx'] as const).map((r) => this.engine.readRegister(r));
      this.probeReturns.push({ address: this.mem.u64(rsp), rsp: rsp + 8n, kind, args });
      this.updateBreakpoints();
      return true;
    }
    const i = this.probeReturns.findIndex((p) => p.address === rip && p.rsp === rsp);
    if (i < 0) return false;
    const p = this.probeReturns.splice(i, 1)[0]!;
    this.updateBreakpoints();
    const rax = this.engine.readRegister('rax');
    const text = (a: bigint): string => {
      try {
        return this.mem.cstring(a);
      } catch {
        return '?';
      }
    };
    const caller = p.address;
    if (p.kind === 'dlopen') {
      const path = p.args[0] === 0n ? '' : text(p.args[0]!);
      this.kernel.record({ kind: 'dlopen', at: this.instructions, path, flags: Number(p.args[1]! & 0xffffffffn), handle: rax, caller, ...(rax === 0n ? { error: `dlopen("${path}") returned NULL` } : {}) });
    } else {
      const symbol = text(p.args[1]!);
      const version = p.kind === 'dlvsym' ? { version: text(p.args[2]!) } : {};
      this.kernel.record({ kind: 'dlsym', at: this.instructions, handle: p.args[0]!, symbol, ...version, address: rax, caller, ...(rax === 0n ? { error: `undefined symbol: ${symbol}` } : {}) });
    }
    return true;
  }

  // ---- running ------------------------------------------------------------------------

  run(options: RunOptions): ProcessStop {
    try {
      return this.runLoop(options);
    } catch (e) {
      if (e instanceof EmulationError && e.code === 'MEMORY_LIMIT') {
        throw new LoaderError('limit', `the guest exceeded the memory limit: more than ${mib(this.limits.maxMemory)} of touched pages (--max-memory), after ${this.instructions} instructions`);
      }
      throw e;
    }
  }

  /** Throws LoaderError('limit') once the wall-clock deadline has passed. */
  checkDeadline(): void {
    if (this.limits.deadline !== undefined && Date.now() >= this.limits.deadline) {
      throw new LoaderError('limit', `the run exceeded the wall-clock limit of ${this.limits.timeoutSeconds ?? 0} s (--timeout), after ${this.instructions} instructions`);
    }
  }

  private runLoop(options: RunOptions): ProcessStop {
    if (this.ended) return this.ended;
    const limit = this.instructions + this.charged + options.maxInstructions;
    let signalAt = options.signalAt;
    this.runStops = new Set(options.stopAtCallOf ?? []);
    this.installProbes();
    this.updateBreakpoints();
    try {
      for (;;) {
        if (this.ended) return this.ended;
        if (signalAt && this.instructions >= signalAt.instruction) {
          this.deliverSignal(signalAt.signo);
          signalAt = undefined;
          continue;
        }
        this.checkDeadline();
        const blocked = this.schedule();
        if (blocked) return blocked;
        let budget = limit - this.instructions - this.charged;
        if (signalAt) budget = Math.min(budget, signalAt.instruction - this.instructions);
        const unbounded = budget;
        if (!this.threads.frozen) budget = Math.min(budget, Math.max(1, this.threads.quantumLeft));
        if (budget <= 0) {
          if (signalAt) continue;
          return { reason: 'budget', instructions: this.instructions };
        }
        const rip = this.engine.readRegister('rip');
        // Engines do not report a breakpoint at the address a run starts from (Unicorn's rule): a
        // step or a return that lands on a watched call or a stop is reported here, once, as the
        // stubs model does (the page's replay single-steps into the replacement).
        if ((this.watched.has(rip) || this.runStops.has(rip)) && !this.alreadyArrived(rip)) {
          const stop = this.arrive(rip);
          if (stop) return stop;
        }
        // An engine that switches threads itself at quantum ends runs to the budget (threads.ts armRun).
        if (this.threads.armRun()) budget = unbounded;
        const start: { count: number; until?: bigint; timeoutMs?: number } = { count: budget };
        if (options.until !== undefined) start.until = options.until;
        if (this.limits.deadline !== undefined) start.timeoutMs = Math.max(1, this.limits.deadline - Date.now());
        let r: RunResult;
        try {
          r = this.engine.start(rip, start);
        } catch (e) {
          this.threads.runFailed();
          throw e;
        }
        this.instructions += r.instructions;
        this.threads.consume(r.instructions);
        const stop = this.handle(r);
        if (stop) return stop;
      }
    } finally {
      this.runStops = new Set();
      this.updateBreakpoints();
    }
  }

  /**
   * Gives the CPU to another thread when the running one blocked, exited, yielded or used up its
   * quantum. A stop when every thread is blocked for good, or when the world is frozen (a host
   * call) and the running thread blocks.
   */
  private schedule(): ProcessStop | undefined {
    const t = this.threads;
    if (t.frozen) {
      if (t.current.state === 'runnable') return undefined;
      return this.stopWith(new LoaderError('unsupported', `thread ${t.current.tid} blocked (${t.current.state}) while the other threads are stopped by the tool (a host call into the guest waits for another thread)`));
    }
    if (!t.shouldSwitch() && !this.yielding) return undefined;
    const message = t.switchThread(this.yielding);
    this.yielding = false;
    if (message) return this.stopWith(new LoaderError('unsupported', message));
    this.deliverPendingSignals();
    return this.ended;
  }

  private yielding = false;
  /** A store into code handed the CPU on (the engine was stopped for the switch, not for the caller). */
  private preempting = false;
  /** The caller asked for a stop (stopSoon): the run returns after the current instruction. */
  private stopRequested = false;

  /**
   * Callable from a hook: the current run() returns ('budget') after this instruction, with the
   * world as it is (the other threads where the schedule left them).
   */
  stopSoon(): void {
    this.stopRequested = true;
    this.engine.stop();
  }

  private alreadyArrived(rip: bigint): boolean {
    const a = this.arrival;
    return a !== undefined && a.rip === rip && a.at === this.instructions && a.tid === this.threads.current.tid;
  }

  /** Execution is about to run the instruction at a breakpoint: record a watched call, stop at a stop. */
  private arrive(rip: bigint): ProcessStop | undefined {
    if (!this.watched.has(rip) && !this.runStops.has(rip)) return undefined;
    this.arrival = { rip, at: this.instructions, tid: this.threads.current.tid };
    if (this.watched.has(rip)) {
      const rsp = this.engine.readRegister('rsp');
      this.kernel.record({ kind: 'call', at: this.instructions, address: rip, returnAddress: this.mem.u64(rsp), rsp });
    }
    if (this.runStops.has(rip)) return { reason: 'call', address: rip, instructions: this.instructions };
    return undefined;
  }

  private handle(r: RunResult): ProcessStop | undefined {
    switch (r.reason) {
      case 'count':
        return undefined;
      case 'until':
        return { reason: 'until', instructions: this.instructions };
      case 'timeout':
        // The engine stops at the wall-clock deadline it was given: that is --timeout, not the budget.
        this.checkDeadline();
        return undefined;
      case 'stopped': {
        const preempted = this.preempting;
        this.preempting = false;
        if (this.stopRequested) {
          this.stopRequested = false;
          return { reason: 'budget', instructions: this.instructions };
        }
        // A preemption at a code write: the loop switches threads (the quantum is spent).
        if (preempted) return undefined;
        return { reason: 'budget', instructions: this.instructions };
      }
      case 'breakpoint': {
        this.engine.writeRegister('rip', r.rip);
        this.onProbe(r.rip);
        return this.arrive(r.rip);
      }
      case 'syscall':
        return this.onSyscall();
      case 'fault':
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault(faultInfo(r.fault!), r);
      case 'invalid-instruction':
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault({ signo: SIGILL, code: ILL_ILLOPN, address: r.rip, trapno: 6 }, r);
      case 'divide-error':
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault({ signo: SIGFPE, code: FPE_INTDIV, address: r.rip, trapno: 0 }, r);
      case 'interrupt':
        if (r.interrupt === 3) {
          if (r.rip === HOST_RETURN + 1n) return { reason: 'until', instructions: this.instructions };
          return this.raiseFault({ signo: SIGTRAP, code: 0x80, address: 0n, trapno: 3 }, r);
        }
        this.engine.writeRegister('rip', r.rip);
        if (r.interrupt === 6) return this.raiseFault({ signo: SIGILL, code: ILL_ILLOPN, address: r.rip, trapno: 6 }, r);
        return this.raiseFault({ signo: SIGSEGV, code: 0x80, address: 0n, trapno: 13 }, r);
    }
  }

  private onSyscall(): ProcessStop | undefined {
    this.charged += SYSCALL_COST;
    const nr = Number(this.engine.readRegister('rax'));
    const args = (['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const).map((r) => this.engine.readRegister(r));
    const threadDef = THREAD_SYSCALLS[nr];
    const def = threadDef ?? SYSCALLS[nr];
    const caller = this.engine.readRegister('rip') - 2n;
    if (!def) {
      const name = syscallName(nr);
      this.kernel.record({ kind: 'syscall', at: this.instructions, number: nr, name, result: -38n, args });
      return this.stopWith(new LoaderError('unsupported', `system call ${nr} (${name}) is not emulated by the system model: ${name}(${args.map((a) => hex(a)).join(', ')}) from ${this.describe(caller)}`));
    }
    let value: bigint;
    try {
      const out = threadDef ? threadDef.run(this.kernel, this.threads, args) : SYSCALLS[nr]!.run(this.kernel, args);
      if (typeof out === 'object') {
        if (out.kind === 'blocked') return this.ended; // rax is set when the thread is woken
        if (out.kind === 'yield') {
          this.engine.writeRegister('rax', 0n);
          this.yielding = true;
          return this.ended;
        }
        if (out.kind === 'exit') {
          this.ended = { reason: 'exited', status: out.status, instructions: this.instructions };
          return this.ended;
        }
        if (out.kind === 'sigreturn') {
          const rip = restoreRtFrame(this.engine, this.mem, this.kernel.signals);
          this.kernel.record({ kind: 'signal-return', at: this.instructions, rip, rsp: this.engine.readRegister('rsp') });
          this.deliverPendingSignals();
          return this.ended;
        }
        if (out.wouldBlock) {
          const waited = this.waitForDescriptor(nr, out.wouldBlock.timeoutNs, out.wouldBlock.aloneErrno);
          if (waited === 'blocked') return this.ended;
          if (waited !== undefined) {
            this.engine.writeRegister('rax', BigInt.asUintN(64, waited));
            return this.ended;
          }
        }
        this.kernel.record({ kind: 'syscall', at: this.instructions, number: nr, name: def.name, result: -38n, args });
        return this.stopWith(new LoaderError('unsupported', `${out.message} (system call ${nr}, ${def.name}(${args.map((a) => hex(a)).join(', ')}) from ${this.describe(caller)})`));
      }
      value = BigInt(out);
      if (IO_WAKERS.has(nr) && value >= 0n) this.threads.ioChanged();
    } catch (e) {
      if (e instanceof KernelWouldBlock) {
        const waited = this.waitForDescriptor(nr, e.timeoutNs, e.aloneErrno);
        if (waited === 'blocked') return this.ended;
        if (waited === undefined) return this.stopWith(new LoaderError('unsupported', `${e.message} (system call ${nr}, ${def.name} from ${this.describe(caller)})`));
        value = waited;
      } else if (e instanceof KernelErrno) value = -BigInt(e.errno);
      else if (e instanceof UserFault) value = -14n;
      else if (e instanceof KernelStop) return this.stopWith(new LoaderError('unsupported', `${e.message} (system call ${nr}, ${def.name} from ${this.describe(caller)})`));
      else throw e;
    }
    this.engine.writeRegister('rax', BigInt.asUintN(64, value));
    this.deliverPendingSignals();
    return this.ended;
  }

  /**
   * A call waiting for a descriptor: with other threads alive the caller blocks ('io') and
   * re-runs it when one of them writes, connects or closes, or gets 0 at its timeout; alone, a
   * finite timeout passes on the virtual clock (0), `aloneErrno` fails it, else undefined (stop).
   */
  private waitForDescriptor(nr: number, timeoutNs: bigint | undefined, aloneErrno: number | undefined): 'blocked' | bigint | undefined {
    if (this.threads.live.length > 1 && !this.threads.frozen) {
      this.threads.blockIo(nr, timeoutNs === undefined ? undefined : { ns: this.kernel.clock.now(1) + timeoutNs, value: 0n });
      return 'blocked';
    }
    if (timeoutNs !== undefined) {
      this.kernel.clock.advance(timeoutNs);
      return 0n;
    }
    return aloneErrno !== undefined ? -BigInt(aloneErrno) : undefined;
  }

  private stopWith(error: LoaderError): ProcessStop {
    return { reason: 'error', error, instructions: this.instructions };
  }

  // ---- signals and faults -------------------------------------------------------------

  /** A process-directed signal: it goes to a thread that does not block it (the running one first). */
  deliverSignal(signo: number): void {
    const info = { signo, code: SI_USER, pid: 1, uid: 1000 };
    const target = this.threads.targetFor(signo);
    if (target === this.threads.current && target.state !== 'runnable' && target.state !== 'exited') {
      this.threads.wake(target, -4n); // EINTR for the interrupted wait
      this.threads.switchTo(target);
    }
    this.threads.queueSignal(target, info);
    this.deliverPendingSignals();
  }

  private deliverPendingSignals(): void {
    for (;;) {
      if (this.ended) return;
      const info = this.kernel.signals.takeDeliverable();
      if (!info) return;
      this.deliver(info, false);
    }
  }

  private deliver(info: SignalInfo, forced: boolean, fault?: RunResult): void {
    const signals = this.kernel.signals;
    const disposition = dispositionOf(signals, info.signo, forced);
    if (disposition.kind === 'ignore') {
      this.kernel.record({ kind: 'signal-ignored', at: this.instructions, signo: info.signo });
      return;
    }
    if (disposition.kind === 'terminate') {
      this.ended = this.killedBy(info, forced, fault);
      return;
    }
    const action = disposition.action;
    // x86-64 has no kernel-provided restorer: glibc's sigaction always passes SA_RESTORER with __restore_rt.
    const alt = this.kernel.altStack;
    const rsp = this.engine.readRegister('rsp');
    const onAltStack = rsp > alt.sp && rsp <= alt.sp + alt.size;
    const altTop = (action.flags & SA_ONSTACK) !== 0n && alt.flags !== SS_DISABLE && alt.size > 0n && !onAltStack ? alt.sp + alt.size : undefined;
    const frame = setupRtFrame(this.engine, this.mem, signals, info, action, action.restorer, altTop);
    this.kernel.record({ kind: 'signal-delivered', at: this.instructions, signo: info.signo, code: info.code, handler: action.handler, frame });
  }

  private raiseFault(info: SignalInfo, r: RunResult | undefined): ProcessStop | undefined {
    this.deliver(info, true, r);
    return this.ended;
  }

  private faultReport(info: SignalInfo, r: RunResult | undefined): FaultReport {
    const rip = this.engine.readRegister('rip');
    const mapping = info.address !== undefined ? this.space.find(info.address) : undefined;
    return faultReportOf({
      info, rip,
      bytes: faultBytes(() => r?.bytes ?? this.mem.read(rip, 15)),
      ...(r?.fault ? { access: r.fault.access, kind: r.fault.kind } : {}),
      ...(mapping ? { mapping } : {}),
      describe: (a) => this.describe(a),
      backtrace: this.backtrace(),
    });
  }

  private killedBy(info: SignalInfo, forced: boolean, fault: RunResult | undefined): ProcessStop {
    return killedStop(info.signo, this.instructions, forced ? this.faultReport(info, fault) : undefined);
  }

  private backtrace(): { address: bigint; location: string }[] {
    const out: { address: bigint; location: string }[] = [];
    const isCode = (a: bigint): boolean => ((this.space.find(a)?.perms ?? 0) & Perm.Exec) !== 0;
    const onStack = (a: bigint): boolean => a >= STACK_TOP - BigInt(STACK_SIZE) && a < STACK_TOP;
    try {
      let rbp = this.engine.readRegister('rbp');
      while (onStack(rbp) && out.length < 32) {
        const ret = this.mem.u64(rbp + 8n);
        if (!isCode(ret)) break;
        out.push({ address: ret, location: this.describe(ret) });
        const next = this.mem.u64(rbp);
        if (next <= rbp) break;
        rbp = next;
      }
    } catch {
      // a broken frame chain ends the backtrace
    }
    return out;
  }

  // ---- the tool's own actions (as a ptrace-based patcher does them) ---------------------

  /** Host mprotect with the kernel's rules; returns 0 or -errno. */
  mprotect(address: bigint, length: bigint, prot: number): number {
    const result = this.space.mprotect(address, length, prot);
    this.kernel.record({ kind: 'mprotect', at: this.instructions, address, length, prot, result, via: 'host', caller: 0n });
    return result;
  }

  /** A host write into guest memory (the tool writing a trampoline), recorded when it hits code. */
  writeCode(address: bigint, bytes: Uint8Array): void {
    const m = this.space.find(address);
    if (m?.everExecutable) this.kernel.record({ kind: 'code-write', at: this.instructions, address, bytes: bytes.slice(), rip: 0n, by: 'host' });
    this.mem.write(address, bytes);
  }

  /**
   * Runs the guest function at `address` with integer `args` until it returns (to the
   * sandbox's return page); the CPU state is restored afterwards. Throws LoaderError when it
   * does not return within the budget.
   */
  callFunction(address: bigint, args: readonly bigint[], maxInstructions: number): bigint {
    if (args.length > 6) throw new LoaderError('unsupported', `a host call with ${args.length} arguments`);
    const saved = this.engine.saveContext();
    const wasFrozen = this.threads.frozen;
    this.threads.frozen = true;
    const rsp = this.engine.readRegister('rsp');
    // Below the red zone, aligned as at a call: (rsp + 8) % 16 == 0 at the callee's entry.
    const entryRsp = ((rsp - 1024n) & ~15n) - 8n;
    this.mem.writeU64(entryRsp, HOST_RETURN);
    (['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const).forEach((r, i) => {
      if (i < args.length) this.engine.writeRegister(r, BigInt.asUintN(64, args[i]!));
    });
    this.engine.writeRegister('rax', 0n);
    this.engine.writeRegister('rsp', entryRsp);
    this.engine.writeRegister('rip', address);
    let stop: ProcessStop;
    try {
      stop = this.run({ maxInstructions, until: HOST_RETURN });
    } finally {
      this.threads.frozen = wasFrozen;
    }
    const rax = this.engine.readRegister('rax');
    const returned = stop.reason === 'until' && this.engine.readRegister('rip') === HOST_RETURN;
    if (!this.ended) this.engine.restoreContext(saved);
    if (!returned) throw new LoaderError('state', `guest function ${this.describe(address)} did not return to the host (${stop.reason}${stop.reason === 'error' ? `: ${stop.error.message}` : stop.reason === 'killed' ? `: ${stop.detail}` : ''})`);
    return rax;
  }

  /** Guest memory for a host call's string argument, below the stack's current use. */
  private scratchString(text: string, below: bigint): bigint {
    const bytes = encodeUtf8(text);
    const at = (below - BigInt(bytes.length + 1) - 4096n) & ~15n;
    this.mem.writeCString(at, bytes);
    return at;
  }

  /** The guest libc's own exported function (dlopen, dlsym, dlerror...). */
  libcFunction(name: string): bigint {
    for (const entry of this.linkMap()) {
      if (!/\/libc\.so\.6$|^libc\.so\.6$/.test(entry.name)) continue;
      const elf = this.loaded.elfOf(entry.name);
      const sym = elf?.exportedSymbols(name).find((s) => !s.version?.hidden);
      if (sym) return entry.base + sym.value;
    }
    throw new LoaderError('state', `the guest's libc.so.6 does not export ${name} (is libc loaded yet? the patch point must be after start-up)`);
  }

  /** dlopen(path, flags) called in the guest by its own libc (as a ptrace-based patcher injects it). */
  dlopen(path: string, flags: number, maxInstructions = 50_000_000): { handle: bigint } | { error: string } {
    const dlopen = this.libcFunction('dlopen');
    const str = this.scratchString(path, this.engine.readRegister('rsp') - 2048n);
    const handle = this.callFunction(dlopen, [str, BigInt(flags)], maxInstructions);
    // The call itself is recorded by the dlopen probe, as the program's own calls are.
    if (handle === 0n) return { error: this.dlerror(maxInstructions) ?? 'dlopen failed' };
    return { handle };
  }

  dlsym(handle: bigint, name: string, maxInstructions = 10_000_000): { address: bigint } | { error: string } {
    const dlsym = this.libcFunction('dlsym');
    const str = this.scratchString(name, this.engine.readRegister('rsp') - 2048n);
    const address = this.callFunction(dlsym, [handle, str], maxInstructions);
    if (address === 0n) return { error: this.dlerror(maxInstructions) ?? `${name}: undefined symbol` };
    return { address };
  }

  private dlerror(maxInstructions: number): string | undefined {
    const at = this.callFunction(this.libcFunction('dlerror'), [], maxInstructions);
    return at === 0n ? undefined : this.mem.cstring(at);
  }

  // ---- what is loaded, read from the live image (live-image.ts) ----------------------------

  linkMap(): LinkMapEntry[] {
    return this.loaded.linkMap();
  }

  get executable(): GuestObject {
    return this.loaded.executable;
  }

  get objects(): GuestObject[] {
    return this.loaded.objects;
  }

  get relocationBindings(): RelocationBinding[] {
    return this.loaded.relocationBindings;
  }

  describe(address: bigint): string {
    return this.loaded.describe(address);
  }

  libcVersion(): string | undefined {
    return this.loaded.libcVersion();
  }

  // ---- state ----------------------------------------------------------------------------

  snapshot(): SystemSnapshot {
    const s = this.kernel.signals;
    return {
      engine: this.engine.snapshot(),
      instructions: this.instructions,
      events: this.events.length,
      output: this.kernel.captured.saveState(),
      charged: this.charged,
      kernel: this.kernel.saveState(),
      space: this.space.saveState(),
      signals: { actions: new Map(s.actions), blocked: s.blocked, pending: [...s.pending] },
      clock: this.kernel.clock.saveState(),
      ended: this.ended,
      watched: new Set(this.watched),
      probeReturns: [...this.probeReturns],
      threads: this.threads.saveState(),
      arrival: this.arrival,
    };
  }

  restore(s: SystemSnapshot): void {
    this.engine.restoreSnapshot(s.engine);
    this.instructions = s.instructions;
    this.events.length = s.events;
    this.kernel.captured.restoreState(s.output);
    this.charged = s.charged;
    this.kernel.restoreState(s.kernel);
    this.space.restoreState(s.space);
    const signals = this.kernel.signals;
    signals.actions.clear();
    for (const [k, v] of s.signals.actions) signals.actions.set(k, v);
    signals.blocked = s.signals.blocked;
    signals.pending = [...s.signals.pending];
    this.kernel.clock.restoreState(s.clock);
    this.ended = s.ended;
    this.watched.clear();
    for (const a of s.watched) this.watched.add(a);
    this.probeReturns = [...s.probeReturns];
    this.threads.restoreState(s.threads);
    this.arrival = s.arrival;
    this.updateBreakpoints();
  }

}

function faultInfo(fault: MemFault): SignalInfo {
  const write = fault.access === 'write' ? 2 : 0;
  const fetch = fault.access === 'fetch' ? 16 : 0;
  return {
    signo: SIGSEGV,
    code: fault.kind === 'unmapped' ? SEGV_MAPERR : SEGV_ACCERR,
    address: fault.address,
    trapno: 14,
    err: 4 | write | fetch | (fault.kind === 'protection' ? 1 : 0),
  };
}
