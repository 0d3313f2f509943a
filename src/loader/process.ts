/*
 * EmulatedProcess: an x86-64 Linux process on an Engine, with the executable mapped as the
 * kernel maps it, relocated as ld.so does, libc imports served by TypeScript stubs, a small
 * syscall layer, Linux signal delivery, and everything the verifier needs recorded as data.
 *
 * Public API (the verifier is built on it):
 *   EmulatedProcess.create(engine, { main, mainPath, libraries, argv, envp }): EmulatedProcess
 *   run({ maxInstructions, until?, stopAtCallOf?, signalAt? }): ProcessStop
 *       why it stopped: 'exited' | 'killed' (fault report) | 'budget' | 'until' | 'call'
 *       (rip at a stopAtCallOf address, before its first instruction) | 'error' (LoaderError:
 *       an import without stub, an unsupported relocation...). Call run() again to continue.
 *   deliverSignal(signo): makes a signal pending from "another process" (SI_USER) and
 *       delivers it now, at the current instruction boundary (the frame is built at once).
 *   dlopen(path, flags) / dlsym(handle, name) / dlvsym(handle, name, version) / dlclose(handle):
 *       the tool plays the patcher; initialisers and destructors run in the emulator.
 *   mprotect(addr, len, prot): Linux rules, recorded ('host').
 *   writeCode(address, bytes): a host write recorded as a code-write event.
 *   callFunction(address, args, maxInstructions): runs a guest function to its return.
 *   watchCalls(addresses): record a 'call' event each time execution reaches one of them.
 *   events, output, stdoutText, relocationBindings, instructions, objects, symbolAddress(name),
 *   regions(), snapshot()/restore(snapshot).
 *
 * Start-up is a documented subset of the real one: no ld.so is mapped; the loader maps and
 * relocates the executable itself, the libc image (host stubs at STUB_CODE_BASE, AT_BASE
 * points there) stands in for libc.so.6, libdl, libpthread, libm and libstdc++, and
 * __libc_start_main runs the executable's preinit/init/init_array, then main, then exit: atexit
 * handlers, then _dl_fini's DT_FINI_ARRAY/DT_FINI of every object still open. dlclose runs an
 * object's destructors (through __cxa_finalize, its __cxa_atexit handlers too) when its count
 * reaches 0 but keeps its mappings (a jump into a closed patch stays visible as a dangling
 * target). abort() raises SIGABRT: a handler runs first, and
 * if it returns the process dies of SIGABRT's default action, as glibc's abort does.
 * stdout/stderr are unbuffered: each call's bytes are captured with the instruction count.
 * A stub returns in rax (and rdx for 16-byte results) and, like a real callee, clobbers the
 * other caller-saved registers: rcx, rdx, rsi, rdi, r8-r11 get CALLER_SAVED_POISON | their
 * number, xmm0-15 XMM_POISON | their number in both lanes, and the status flags are cleared,
 * so code relying on them after a call fails loudly (and the last poisoning stub is kept).
 */

import { EmulationError, HookType, Perm, type Engine, type HookHandle, type MemFault, type RunResult, type Snapshot } from '../engine/engine.js';
import { SymbolType } from '../elf/index.js';
import { LoaderError, hex } from './error.js';
import type { OutputChunk, ProcessEvent } from './events.js';
import { GuestMemory } from './guest-memory.js';
import { GuestHeap, type HeapState } from './heap.js';
import { AddressSpace, type AddressSpaceState, type Mapping } from './kernel/address-space.js';
import { VirtualClock } from './kernel/clock.js';
import {
  FPE_INTDIV, ILL_ILLOPN, SA_RESTORER, SEGV_ACCERR, SEGV_MAPERR, SIGABRT, SIGFPE, SIGILL, SIGSEGV, SIGTRAP, SIG_DFL, SIG_IGN,
  SI_USER, SignalState, dispositionOf, restoreRtFrame, setupRtFrame, sigbit, type SignalAction, type SignalInfo,
} from './kernel/signals.js';
import { faultBytes, faultReportOf, killedStop } from './fault.js';
import { SYSCALL_NAMES, serviceSyscall } from './kernel/syscalls.js';
import { DynamicLinker, type GuestCall, type LibraryBytes, type LinkerState } from './dynamic/linker.js';
import { LoadedObject } from './dynamic/loaded-object.js';
import type { RelocationBinding } from './dynamic/bindings.js';
import {
  PIE_BASE, STACK_GROWTH, STACK_LIMIT, STACK_SIZE, STACK_TOP, STATIC_TLS_SIZE, STUB_CODE_BASE, STUB_CODE_SIZE, STUB_DATA_BASE, STUB_DATA_SIZE, TLS_BASE, TLS_SIZE, pageUp,
} from './layout.js';
import { buildInitialStack } from './startup-stack.js';
import { STUBS, LIBC_DATA_SYMBOLS } from './stubs/index.js';
import { type LibcServices, type StubCall, type StubDefinition, type StubOutcome } from './stubs/stub.js';
import type { VarArgSource } from './printf.js';
import { CapturedOutput, type CapturedOutputState } from './captured-output.js';
import {
  DEFAULT_MAX_MEMORY, DEFAULT_MAX_OUTPUT, FAILED_SYSCALLS_KEPT, MAX_EVENTS, RESERVATION_FACTOR, SYSCALL_COST, mib, workCost, type ResourceLimits,
} from './limits.js';

export interface ProcessOptions {
  main: Uint8Array;
  /** argv[0] and the executable's name in reports. */
  mainPath: string;
  /** Bytes the guest may dlopen (by exact path or by basename). */
  libraries?: LibraryBytes[];
  /** Arguments after argv[0]. */
  argv?: string[];
  envp?: string[];
  pid?: number;
  /** Touched memory, captured output and wall-clock limits (defaults: limits.ts). */
  limits?: Partial<ResourceLimits>;
}

export interface RunOptions {
  /** Budget for this call. */
  maxInstructions: number;
  /** Stop before executing this address. */
  until?: bigint;
  /** Stop (reason 'call') when execution reaches one of these addresses. */
  stopAtCallOf?: readonly bigint[];
  /** Deliver a signal when the process's total instruction count reaches `instruction`. */
  signalAt?: { instruction: number; signo: number };
}

export interface FaultReport {
  signo: number;
  signal: string;
  /** si_addr: the faulting data address, or rip for SIGILL/SIGFPE. */
  address: bigint;
  access?: 'read' | 'write' | 'fetch';
  kind?: 'unmapped' | 'protection';
  rip: bigint;
  /** Up to 15 bytes at rip (empty when rip itself is unmapped). */
  instructionBytes: Uint8Array;
  /** "main+0x1a" style location of rip. */
  location: string;
  /** Return addresses, innermost first, from the rbp chain or a stack scan. */
  backtrace: { address: bigint; location: string }[];
  /** The mapping at the fault address and its permissions. */
  mapping?: string;
  message: string;
  /** The general-purpose registers at the fault (a poison value there names its register). */
  registers?: Record<string, bigint>;
}

/** The last libc stub that clobbered the caller-saved registers with CALLER_SAVED_POISON. */
export interface Poisoning {
  stub: string;
  /** The return address of the stub's call. */
  caller: bigint;
  /** Instruction count at the stub's return. */
  at: number;
}

export type ProcessStop =
  | { reason: 'exited'; status: number; instructions: number }
  | { reason: 'killed'; signo: number; instructions: number; fault?: FaultReport; detail: string }
  | { reason: 'budget'; instructions: number }
  | { reason: 'until'; instructions: number }
  | { reason: 'call'; address: bigint; instructions: number }
  | { reason: 'error'; error: LoaderError; instructions: number };

/**
 * What a stub leaves in a caller-saved register it does not return in: 0xdead_0000_0000_00NN,
 * NN the register's number (rcx 1, rdx 2, rsi 6, rdi 7, r8-r11 8-11). Not canonical, so a
 * dereference faults (#GP) and the fault report's register dump names the register.
 */
export const CALLER_SAVED_POISON = 0xdead_0000_0000_0000n;
const GPR_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
const CALLER_SAVED_CLOBBERED = [['rcx', 1n], ['rdx', 2n], ['rsi', 6n], ['rdi', 7n], ['r8', 8n], ['r9', 9n], ['r10', 10n], ['r11', 11n]] as const;
/** CF, PF, AF, ZF, SF, OF: all clear after a stub, as glibc 2.36's printf leaves them (rflags 0x202). */
const STATUS_FLAGS = 0x8d5n;

/** xmm<i> after a stub: both 64-bit lanes 0xfff8_dead_0000_00NN (a quiet NaN as a double), NN = i. */
export const XMM_POISON = 0xfff8_dead_0000_0000n;
export function xmmPoison(index: number): Uint8Array {
  const v = new Uint8Array(16);
  const view = new DataView(v.buffer);
  view.setBigUint64(0, XMM_POISON | BigInt(index), true);
  view.setBigUint64(8, XMM_POISON | BigInt(index), true);
  return v;
}
/** xmm0..xmm15's poison, made once: every stub return writes all sixteen. */
const XMM_POISONS: readonly Uint8Array[] = Array.from({ length: 16 }, (_, i) => xmmPoison(i));

/** Names the cause when a fault address derives from CALLER_SAVED_POISON. */
function poisonHint(address: bigint | undefined): string {
  if (address === undefined || address >> 32n !== CALLER_SAVED_POISON >> 32n) return '';
  return ` (the address derives from ${hex(CALLER_SAVED_POISON)}|n, what a libc call leaves in caller-saved registers: the code relies on a register the call may clobber)`;
}

/** A guest call in progress made on behalf of a stub (or the host): what to do when it returns. */
interface PendingReturn {
  then: (rax: bigint) => StubOutcome;
  /** rsp at the stub's entry (pointing at the stub's return address). */
  entryRsp: bigint;
  /** rsp expected when the callee returns to the continuation address. */
  expectRsp: bigint;
  host: boolean;
}

class GuestMemoryFault {
  constructor(readonly fault: MemFault) {}
}

const CODE = {
  restorer: STUB_CODE_BASE, // mov eax, 15; syscall  (glibc's __restore_rt)
  continuation: STUB_CODE_BASE + 0x10n,
  hostReturn: STUB_CODE_BASE + 0x20n,
  /** Where abort() resumes if its SIGABRT handler returns: SIGABRT's default action. */
  abortResume: STUB_CODE_BASE + 0x30n,
  firstStub: STUB_CODE_BASE + 0x100n,
  firstTrap: STUB_CODE_BASE + 0x8000n,
};
const DATA = {
  stdinFile: STUB_DATA_BASE,
  stdoutFile: STUB_DATA_BASE + 0x100n,
  stderrFile: STUB_DATA_BASE + 0x200n,
  variables: STUB_DATA_BASE + 0x300n,
  strerror: STUB_DATA_BASE + 0x400n,
  dlerror: STUB_DATA_BASE + 0x500n,
  libcHandle: STUB_DATA_BASE + 0x800n,
  handles: STUB_DATA_BASE + 0x810n,
};
const FILE_FILENO = 0x70n;
/** Host copies and fills on guest memory go in pieces of this size (bounded host memory, deadline checks). */
const HOST_CHUNK = 1 << 20;
/** The most a stub reads from guest memory in one piece (memcmp, hashing, string building). */
const HOST_READ_LIMIT = 64 << 20;
const TCB_OFFSET = BigInt(STATIC_TLS_SIZE);
const ERRNO_OFFSET = 0x100n;

export class EmulatedProcess {
  readonly model = 'stubs' as const;
  readonly events: ProcessEvent[] = [];
  /** stdout/stderr as written, bounded: the first and last maxOutput bytes per stream, the rest counted. */
  readonly captured: CapturedOutput;
  readonly limits: ResourceLimits;
  /** Instruction-budget units charged for host work (stub copies, formatting, system calls). */
  charged = 0;
  /** Failed (ENOSYS) system calls: how many, the first few being in `events`. */
  failedSyscalls = 0;
  readonly mem: GuestMemory;
  readonly space: AddressSpace;
  readonly signals = new SignalState();
  readonly clock = new VirtualClock();
  readonly linker: DynamicLinker;
  readonly executable: LoadedObject;
  readonly heap: GuestHeap;
  readonly pid: number;
  /** Instructions retired since the process started. */
  instructions = 0;
  /** Called as a libc stub is entered, before it runs (the argument registers as the caller set them). */
  onStubCall: ((name: string) => void) | undefined;
  /**
   * A fault that kills the process ends it with the signal's name only, without the fault report
   * (call chain, registers, bytes): for callers that look at the stop's reason alone, thousands
   * of times (exploration's patched runs).
   */
  briefFaults = false;
  private ended: ProcessStop | undefined;
  private readonly stubByAddress = new Map<bigint, StubDefinition>();
  private readonly trapByAddress = new Map<bigint, { symbol: string; requester: string; lazyUndefined: boolean }>();
  private nextTrap = CODE.firstTrap;
  private readonly pending: PendingReturn[] = [];
  private readonly watched = new Set<bigint>();
  private stepOver: bigint | undefined;
  /** The stopAtCallOf set of the run in progress: breakpoint updates during a run keep it. */
  private runStops: ReadonlySet<bigint> = new Set();
  private readonly codeHooks = new Map<string, HookHandle>();
  private readonly atexit: { func: bigint; arg: bigint; dso: bigint; withArg: boolean }[] = [];
  /** _dl_fini's destructor calls still to make, once exit has run the atexit handlers. */
  private finiQueue: GuestCall[] | undefined;
  private readonly tcb: bigint;
  private envp = 0n;
  private staticTlsUsed = 0n;
  private traceBase = 0;
  private traceOk = false;
  private hostCallResult: bigint | undefined;
  private readonly libc: LibcServices;
  /** The stub running now (for poison attribution) and the last one that poisoned registers. */
  private stubInProgress: { name: string; caller: bigint } | undefined;
  private poisoned: Poisoning | undefined;

  private constructor(readonly engine: Engine, options: ProcessOptions) {
    this.pid = options.pid ?? 4242;
    this.limits = { maxMemory: DEFAULT_MAX_MEMORY, maxOutput: DEFAULT_MAX_OUTPUT, ...options.limits };
    this.captured = new CapturedOutput(this.limits.maxOutput);
    engine.setMemoryLimit?.(this.limits.maxMemory);
    this.mem = new GuestMemory(engine);
    this.space = new AddressSpace(engine);
    this.space.reservationLimit = this.limits.maxMemory * RESERVATION_FACTOR;
    this.tcb = TLS_BASE + TCB_OFFSET;
    this.libc = this.makeLibcServices();

    const libcImage = this.mapLibcImage();
    this.space.mapFixed(TLS_BASE, BigInt(TLS_SIZE), Perm.RW, '[tls]');
    this.linker = new DynamicLinker(
      this.space,
      this.mem,
      libcImage,
      { trapFor: (symbol, requester, lazyUndefined) => this.trapFor(symbol, requester, lazyUndefined) },
      { allocate: (size, align, image) => this.allocateStaticTls(size, align, image), threadPointer: this.tcb },
      options.libraries ?? [],
      DATA.handles,
    );
    this.executable = this.linker.loadExecutable(options.main, options.mainPath, PIE_BASE);
    this.heap = new GuestHeap(this.space, this.mem, pageUp(this.executable.mapEnd));
    this.space.onPermissionsChanged = () => this.watchCodeMappings();

    const elf = this.executable.elf!;
    const random = Uint8Array.from({ length: 16 }, (_, i) => (i * 0x3b + 0x11) & 0xff);
    this.space.mapFixed(STACK_TOP - BigInt(STACK_SIZE), BigInt(STACK_SIZE), Perm.RW, '[stack]');
    const phdrSeg = elf.segments.find((s) => s.type === 6);
    const firstLoad = elf.segments.find((s) => s.type === 1)!;
    const phdr = this.executable.base + (phdrSeg ? phdrSeg.virtualAddress : firstLoad.virtualAddress - BigInt(firstLoad.offset) + BigInt(elf.header.programHeaderOffset));
    const entry = this.executable.base + elf.header.entry;
    const stack = buildInitialStack(this.mem, STACK_TOP, [options.mainPath, ...(options.argv ?? [])], options.envp ?? [], {
      phdr, phnum: elf.header.programHeaderCount, entry, interpreterBase: STUB_CODE_BASE, random,
    });
    this.envp = stack.envp;
    this.mem.writeU64(DATA.variables + 24n, stack.envp); // environ
    this.mem.writeU64(DATA.variables + 32n, this.mem.u64(stack.argv)); // __progname (full path: close enough)
    this.mem.writeU64(DATA.variables + 40n, this.mem.u64(stack.argv));
    this.mem.writeU64(DATA.variables + 48n, this.mem.u64(stack.argv));
    this.setupThread(random);

    for (const reg of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) engine.writeRegister(reg, 0n);
    engine.writeRegister('rsp', stack.rsp);
    engine.writeRegister('rip', entry);
    engine.writeRegister('fs_base', this.tcb);

    const irelative = this.linker.relocateExecutable();
    this.updateBreakpoints();
    this.watchCodeMappings();
    try {
      // An engine that counts retired instructions itself needs no trace ring (which costs per instruction).
      if (!engine.instructionsRetired) engine.enableTrace(4);
      this.traceOk = true;
      this.traceBase = this.lastTraceSeq();
    } catch {
      this.traceOk = false;
    }
    for (const call of irelative) {
      const rax = this.callFunction(call.target, call.args, 1_000_000);
      call.onReturn?.(rax);
    }
  }

  static create(engine: Engine, options: ProcessOptions): EmulatedProcess {
    return new EmulatedProcess(engine, options);
  }

  // ---- public API --------------------------------------------------------------------

  get relocationBindings(): readonly RelocationBinding[] {
    return this.linker.bindings;
  }

  get objects(): readonly LoadedObject[] {
    return this.linker.objects;
  }

  get exited(): ProcessStop | undefined {
    return this.ended;
  }

  /** The captured output chunks in order (an omission marker between a stream's first and last bytes when it was bounded). */
  get output(): readonly OutputChunk[] {
    return this.captured.chunks();
  }

  /** The last stub call that left CALLER_SAVED_POISON in the caller-saved registers. */
  get lastPoisoning(): Poisoning | undefined {
    return this.poisoned;
  }

  stdoutText(fd = 1): string {
    return this.output.filter((c) => c.fd === fd).map((c) => c.text).join('');
  }

  regions(): readonly Mapping[] {
    return this.space.list();
  }

  /** The run-time address of an exported (or, failing that, any) symbol of the executable or a loaded library. */
  symbolAddress(name: string, objectPath?: string): bigint | undefined {
    for (const o of this.linker.objects) {
      if (objectPath !== undefined && o.path !== objectPath) continue;
      const def = o.lookup({ name }, { newest: true });
      if (def) return def.address;
      const local = o.elf?.symbols.find((s) => s.name === name && s.sectionIndex !== 0);
      if (local) return o.base + local.value;
    }
    return undefined;
  }

  watchCalls(addresses: readonly bigint[]): void {
    for (const a of addresses) this.watched.add(a);
    this.breakpointVersion++;
    this.updateBreakpoints();
  }

  run(options: RunOptions): ProcessStop {
    try {
      return this.runLoop(options);
    } catch (e) {
      if (e instanceof EmulationError && e.code === 'MEMORY_LIMIT') {
        throw new LoaderError('limit', `the guest exceeded the memory limit: more than ${mib(this.limits.maxMemory)} of touched pages (--max-memory), after ${this.currentInstruction()} instructions`);
      }
      throw e;
    }
  }

  /** Throws LoaderError('limit') once the wall-clock deadline has passed (also from long host work). */
  checkDeadline(): void {
    if (this.limits.deadline !== undefined && Date.now() >= this.limits.deadline) {
      throw new LoaderError('limit', `the run exceeded the wall-clock limit of ${this.limits.timeoutSeconds ?? (this.limits.deadline - Date.now()) / 1000} s (--timeout), after ${this.currentInstruction()} instructions`);
    }
  }

  /** Charges host work against the instruction budget of the run in progress. */
  charge(units: number): void {
    this.charged += units;
  }

  private runLoop(options: RunOptions): ProcessStop {
    if (this.ended) return this.ended;
    const limit = this.instructions + this.charged + options.maxInstructions;
    const stopAt = new Set(options.stopAtCallOf ?? []);
    let signalAt = options.signalAt;
    this.runStops = stopAt;
    if (stopAt.size > 0) this.updateBreakpoints();
    try {
      for (;;) {
        if (this.ended) return this.ended;
        if (signalAt && this.instructions >= signalAt.instruction) {
          this.deliverSignal(signalAt.signo);
          signalAt = undefined;
          if (this.ended) return this.ended;
          continue;
        }
        this.checkDeadline();
        let budget = limit - this.instructions - this.charged;
        if (signalAt) budget = Math.min(budget, signalAt.instruction - this.instructions);
        if (budget <= 0) {
          if (signalAt) continue;
          return { reason: 'budget', instructions: this.instructions };
        }
        const rip = this.engine.readRegister('rip');
        if (this.stepOver === rip) {
          // Execute the one instruction under a breakpoint we already reported.
          this.stepOver = undefined;
          this.updateBreakpoints(rip);
          const r = this.engine.start(rip, { count: 1 });
          this.updateBreakpoints();
          this.instructions += r.instructions;
          if (r.reason !== 'count') {
            const stop = this.handle(r, stopAt, options.until);
            if (stop) return stop;
          }
          continue;
        }
        if (this.isBreakpoint(rip)) {
          // Engines do not report a breakpoint at the address a run starts from (Unicorn's rule),
          // so a step or a stub return that lands on one is handled here, before executing it.
          const stop = this.handle({ reason: 'breakpoint', instructions: 0, rip }, stopAt, options.until);
          if (stop) return stop;
          continue;
        }
        const startOptions: { count: number; until?: bigint; timeoutMs?: number } = { count: budget };
        if (options.until !== undefined) startOptions.until = options.until;
        if (this.limits.deadline !== undefined) startOptions.timeoutMs = Math.max(1, this.limits.deadline - Date.now());
        const result = this.engine.start(rip, startOptions);
        this.instructions += result.instructions;
        const stop = this.handle(result, stopAt, options.until);
        if (stop) return stop;
      }
    } finally {
      this.runStops = new Set();
      if (stopAt.size > 0) this.updateBreakpoints();
    }
  }

  /** Makes `signo` pending as if sent by another process, and delivers it at this boundary. */
  deliverSignal(signo: number): void {
    this.signals.raise({ signo, code: SI_USER, pid: 1, uid: 1000 });
    this.deliverPendingSignals();
  }

  /** Host-driven dlopen: initialisers run in the emulator. Returns the handle or the dlerror text. */
  dlopen(path: string, flags: number, maxInstructions = 10_000_000): { handle: bigint } | { error: string } {
    const r = this.linker.dlopen(path, flags);
    if (!r) {
      const error = this.linker.dlerror() ?? 'dlopen failed';
      this.record({ kind: 'dlopen', at: 0, path, flags, handle: 0n, error, caller: 0n });
      return { error };
    }
    this.record({ kind: 'dlopen', at: 0, path, flags, handle: r.handle, caller: 0n });
    for (const call of r.calls) {
      // Called for every call: `onReturn?.(callFunction(...))` would skip the initialisers.
      const rax = this.callFunction(call.target, call.args, maxInstructions);
      call.onReturn?.(rax);
    }
    this.updateBreakpoints();
    return { handle: r.handle };
  }

  dlsym(handle: bigint, name: string): { address: bigint } | { error: string } {
    const address = this.linker.dlsym(handle, name, this.executable.base);
    if (address === null) return { error: this.linker.dlerror() ?? 'dlsym failed' };
    return { address };
  }

  /** dlvsym(handle, name, version) as the executable would call it. */
  dlvsym(handle: bigint, name: string, version: string): { address: bigint } | { error: string } {
    const address = this.linker.dlvsym(handle, name, version, this.executable.base);
    if (address === null) return { error: this.linker.dlerror() ?? 'dlvsym failed' };
    return { address };
  }

  /** Host-driven dlclose: destructors run in the emulator when the count reaches 0; mappings stay. */
  dlclose(handle: bigint, maxInstructions = 10_000_000): { result: number; error?: string } {
    const r = this.linker.dlcloseCalls(handle);
    this.record({ kind: 'dlclose', at: 0, handle, result: r.result });
    if (r.result !== 0) return { result: r.result, error: this.linker.dlerror() ?? 'dlclose failed' };
    for (const call of r.calls) this.callFunction(call.target, call.args, maxInstructions);
    return { result: 0 };
  }

  /** Host mprotect with the kernel's rules; returns 0 or -errno. */
  mprotect(address: bigint, length: bigint, prot: number): number {
    return this.kernelMprotect(address, length, prot, 'host', 0n);
  }

  /** A host write into guest memory (the tool writing a trampoline), recorded when it hits code. */
  writeCode(address: bigint, bytes: Uint8Array): void {
    this.recordCodeWrite(address, bytes, 'host', 0n);
    this.mem.write(address, bytes);
  }

  /**
   * Runs the guest function at `address` with integer `args` until it returns; the CPU state
   * is restored afterwards. Throws LoaderError when it does not return within the budget.
   */
  callFunction(address: bigint, args: readonly bigint[], maxInstructions: number): bigint {
    const saved = this.engine.saveContext();
    const rsp = this.engine.readRegister('rsp');
    const entryRsp = ((rsp - 512n) & ~15n) - 8n;
    this.mem.writeU64(entryRsp, CODE.hostReturn);
    this.hostCallResult = undefined;
    this.applyOutcome({ kind: 'call', call: { target: address, args: [...args], purpose: 'host call' }, then: (rax) => ({ kind: 'return', value: rax }) }, entryRsp, true);
    const stop = this.run({ maxInstructions });
    this.engine.restoreContext(saved);
    if (this.hostCallResult === undefined) {
      throw new LoaderError('state', `guest function ${hex(address)} did not return to the host (${stop.reason}${stop.reason === 'error' ? `: ${stop.error.message}` : ''})`);
    }
    return this.hostCallResult;
  }

  /**
   * The whole process at this instruction boundary: engine (CPU, memory, map), link map,
   * heap, signal and exit state, captured output and events, virtual clock. restore() makes
   * a later run repeat this one exactly; the engine may keep only its latest snapshot.
   */
  snapshot(): ProcessSnapshot {
    return {
      engine: this.engine.snapshot(),
      instructions: this.instructions,
      traceCount: this.traceOk ? this.lastTraceSeq() - this.traceBase : 0,
      events: this.events.length,
      output: this.captured.saveState(),
      charged: this.charged,
      failedSyscalls: this.failedSyscalls,
      signals: { actions: new Map(this.signals.actions), blocked: this.signals.blocked, pending: [...this.signals.pending] },
      pending: [...this.pending],
      ended: this.ended,
      space: this.space.saveState(),
      linker: this.linker.saveState(),
      heap: this.heap.saveState(),
      clock: this.clock.saveState(),
      atexit: this.atexit.map((h) => ({ ...h })),
      finiQueue: this.finiQueue ? [...this.finiQueue] : undefined,
      staticTlsUsed: this.staticTlsUsed,
      traps: new Map(this.trapByAddress),
      nextTrap: this.nextTrap,
      watched: new Set(this.watched),
      stepOver: this.stepOver,
      poisoned: this.poisoned,
    };
  }

  restore(s: ProcessSnapshot): void {
    this.engine.restoreSnapshot(s.engine);
    this.instructions = s.instructions;
    // The engine's trace keeps counting across a restore: re-anchor event times to it.
    if (this.traceOk) this.traceBase = this.lastTraceSeq() - s.traceCount;
    this.events.length = s.events;
    this.captured.restoreState(s.output);
    this.charged = s.charged;
    this.failedSyscalls = s.failedSyscalls;
    this.signals.actions.clear();
    for (const [k, v] of s.signals.actions) this.signals.actions.set(k, v);
    this.signals.blocked = s.signals.blocked;
    this.signals.pending = [...s.signals.pending];
    this.pending.length = 0;
    this.pending.push(...s.pending);
    this.ended = s.ended;
    this.space.restoreState(s.space);
    this.linker.restoreState(s.linker);
    this.heap.restoreState(s.heap);
    this.clock.restoreState(s.clock);
    this.atexit.length = 0;
    this.atexit.push(...s.atexit.map((h) => ({ ...h })));
    this.finiQueue = s.finiQueue ? [...s.finiQueue] : undefined;
    this.staticTlsUsed = s.staticTlsUsed;
    const sameTraps = s.traps.size === this.trapByAddress.size && [...s.traps.keys()].every((k) => this.trapByAddress.has(k));
    const sameWatched = s.watched.size === this.watched.size && [...s.watched].every((a) => this.watched.has(a));
    if (!sameTraps || !sameWatched) this.breakpointVersion++;
    this.trapByAddress.clear();
    for (const [k, v] of s.traps) this.trapByAddress.set(k, v);
    this.nextTrap = s.nextTrap;
    this.watched.clear();
    for (const a of s.watched) this.watched.add(a);
    this.stepOver = s.stepOver;
    this.poisoned = s.poisoned;
    this.updateBreakpoints();
    this.watchCodeMappings();
  }

  // ---- the run loop's handlers --------------------------------------------------------

  private handle(r: RunResult, stopAt: ReadonlySet<bigint>, until: bigint | undefined): ProcessStop | undefined {
    switch (r.reason) {
      case 'count':
        return undefined; // the loop re-checks budget and signalAt
      case 'until':
        return { reason: 'until', instructions: this.instructions };
      case 'timeout':
        this.checkDeadline();
        return { reason: 'budget', instructions: this.instructions };
      case 'stopped':
        return { reason: 'budget', instructions: this.instructions };
      case 'breakpoint':
        return this.onBreakpoint(r.rip, stopAt);
      case 'syscall':
        return this.onSyscall();
      case 'fault':
        this.engine.writeRegister('rip', r.rip);
        if (this.growStack(r.fault!)) return undefined; // the instruction runs again on the grown stack
        return this.raiseFault(this.faultInfo(r.fault!), r);
      case 'invalid-instruction':
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault({ signo: SIGILL, code: ILL_ILLOPN, address: r.rip, trapno: 6 }, r);
      case 'divide-error':
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault({ signo: SIGFPE, code: FPE_INTDIV, address: r.rip, trapno: 0 }, r);
      case 'interrupt': {
        if (r.rip >= STUB_CODE_BASE && r.rip < STUB_CODE_BASE + BigInt(STUB_CODE_SIZE)) {
          return this.error(new LoaderError('unsupported', `execution reached the sandbox's libc image at ${hex(r.rip)} outside any stub entry (caller ${hex(this.mem.u64(this.engine.readRegister('rsp')))})`));
        }
        if (r.interrupt === 3) return this.raiseFault({ signo: SIGTRAP, code: 0x80, address: 0n, trapno: 3 }, r);
        if (r.interrupt === 6) {
          this.engine.writeRegister('rip', r.rip);
          return this.raiseFault({ signo: SIGILL, code: ILL_ILLOPN, address: r.rip, trapno: 6 }, r);
        }
        this.engine.writeRegister('rip', r.rip);
        return this.raiseFault({ signo: SIGSEGV, code: 0x80, address: 0n, trapno: 13 }, r);
      }
    }
    void until;
    return undefined;
  }

  private onBreakpoint(rip: bigint, stopAt: ReadonlySet<bigint>): ProcessStop | undefined {
    this.engine.writeRegister('rip', rip);
    if (rip === CODE.continuation || rip === CODE.hostReturn) return this.onContinuation(rip);
    if (rip === CODE.abortResume) {
      this.ended = { reason: 'killed', signo: SIGABRT, instructions: this.instructions, detail: 'abort(): the SIGABRT handler returned; SIGABRT\'s default action ends the process' };
      return this.ended;
    }
    const stub = this.stubByAddress.get(rip);
    if (stub) return this.callStub(stub);
    const trap = this.trapByAddress.get(rip);
    if (trap) {
      const caller = this.mem.u64(this.engine.readRegister('rsp'));
      this.record({ kind: 'import-called', at: this.instructions, symbol: trap.symbol, caller });
      if (trap.lazyUndefined) {
        const target = this.linker.bindLazily(trap.requester, trap.symbol, rip);
        if (target !== undefined) {
          // Bound at its first call, as _dl_fixup does: the call continues into the definition.
          this.engine.writeRegister('rip', target);
          return undefined;
        }
        // ld.so's lazy binding failing in _dl_fixup: _dl_signal_error prints this (program name
        // from argv[0]) and the process exits with status 127.
        this.libc.output(2, new TextEncoder().encode(`${this.executable.path}: symbol lookup error: ${trap.requester}: undefined symbol: ${trap.symbol}\n`));
        this.ended = { reason: 'exited', status: 127, instructions: this.instructions };
        return this.ended;
      }
      const message = `the guest called ${trap.symbol}, an import the sandbox has no stub for (from ${this.describe(caller - 1n)}, ${trap.requester}); add a stub in src/loader/stubs/`;
      return this.error(new LoaderError('missing-stub', message));
    }
    if (this.watched.has(rip)) {
      const rsp = this.engine.readRegister('rsp');
      this.record({ kind: 'call', at: this.instructions, address: rip, returnAddress: this.mem.u64(rsp), rsp });
    }
    this.stepOver = rip;
    if (stopAt.has(rip)) return { reason: 'call', address: rip, instructions: this.instructions };
    return undefined;
  }

  private onContinuation(rip: bigint): ProcessStop | undefined {
    const frame = this.pending.pop();
    if (!frame) return this.error(new LoaderError('state', `a guest function returned to the sandbox's continuation at ${hex(rip)} with no call pending`));
    const rax = this.engine.readRegister('rax');
    if (frame.host) {
      this.hostCallResult = rax;
      return { reason: 'until', instructions: this.instructions };
    }
    return this.applyOutcomeSafely(() => frame.then(rax), frame.entryRsp);
  }

  private callStub(stub: StubDefinition): ProcessStop | undefined {
    const entryRsp = this.engine.readRegister('rsp');
    const call = this.makeStubCall(entryRsp);
    this.stubInProgress = { name: stub.name, caller: this.mem.u64(entryRsp) };
    this.onStubCall?.(stub.name);
    return this.applyOutcomeSafely(() => stub.run(call), entryRsp);
  }

  private applyOutcomeSafely(produce: () => StubOutcome, entryRsp: bigint): ProcessStop | undefined {
    let outcome: StubOutcome;
    try {
      outcome = produce();
    } catch (e) {
      if (e instanceof GuestMemoryFault) {
        // The fault happened inside libc: the interrupted context is the stub entry.
        return this.raiseFault(this.faultInfo(e.fault), undefined);
      }
      // A resource limit ends the whole verification (could not verify), not just this run.
      if (e instanceof LoaderError && e.problem !== 'limit') return this.error(e);
      throw e;
    }
    const stop = this.applyOutcome(outcome, entryRsp, false);
    if (stop) return stop;
    this.deliverPendingSignals();
    return this.ended;
  }

  private applyOutcome(outcome: StubOutcome, entryRsp: bigint, host: boolean): ProcessStop | undefined {
    switch (outcome.kind) {
      case 'return':
        this.clobberCallerSaved();
        this.engine.writeRegister('rax', BigInt.asUintN(64, outcome.value));
        if (outcome.rdx !== undefined) this.engine.writeRegister('rdx', BigInt.asUintN(64, outcome.rdx));
        this.engine.writeRegister('rip', this.mem.u64(entryRsp));
        this.engine.writeRegister('rsp', entryRsp + 8n);
        return undefined;
      case 'call': {
        const { call } = outcome;
        if (call.args.length > 6) throw new LoaderError('unsupported', `guest call with ${call.args.length} arguments (${call.purpose})`);
        // Below the caller's red zone, 16-byte aligned before the pushed return address.
        const sp = ((entryRsp - 256n) & ~15n) - 8n;
        this.mem.writeU64(sp, host ? CODE.hostReturn : CODE.continuation);
        const regs = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const;
        call.args.forEach((v, i) => this.engine.writeRegister(regs[i]!, BigInt.asUintN(64, v)));
        this.engine.writeRegister('rax', 0n);
        this.engine.writeRegister('rsp', sp);
        this.engine.writeRegister('rip', call.target);
        this.pending.push({ then: outcome.then, entryRsp, expectRsp: sp + 8n, host });
        return undefined;
      }
      case 'exit':
        this.ended = { reason: 'exited', status: outcome.status, instructions: this.instructions };
        return this.ended;
      case 'kill':
        if (outcome.info.signo === SIGABRT && this.abortToHandler(outcome.info)) return undefined;
        this.ended = { reason: 'killed', signo: outcome.info.signo, instructions: this.instructions, detail: outcome.reason };
        return this.ended;
    }
  }

  /**
   * A stub returns as a real libc function may: the caller-saved registers it does not return
   * in hold CALLER_SAVED_POISON (non-canonical, so a dereference faults) and the status flags
   * are clear. Code that relies on a value surviving a libc call then fails here as it may in
   * the field, instead of seeing what it put there itself.
   */
  private clobberCallerSaved(): void {
    for (const [register, number] of CALLER_SAVED_CLOBBERED) this.engine.writeRegister(register, CALLER_SAVED_POISON | number);
    // xmm0-15 are caller-saved too (libc's memcpy, strlen, printf use them); no stub returns in xmm0.
    for (let i = 0; i < 16; i++) this.engine.writeXmm(i, XMM_POISONS[i]!);
    if (this.stubInProgress) this.poisoned = { stub: this.stubInProgress.name, caller: this.stubInProgress.caller, at: this.instructions };
    this.engine.writeRegister('rflags', this.engine.readRegister('rflags') & ~STATUS_FLAGS);
  }

  /**
   * glibc's abort() (also behind __stack_chk_fail, assert and malloc's checks): SIGABRT is
   * unblocked and raised, so an installed handler runs; it resumes at abortResume, where the
   * default action ends the process, unless the handler never returns (longjmp). False when
   * there is no handler to run (SIG_DFL or SIG_IGN: the process dies at once).
   */
  private abortToHandler(info: SignalInfo): boolean {
    const action = this.signals.action(SIGABRT);
    if (action.handler === SIG_DFL || action.handler === SIG_IGN) return false;
    this.signals.blocked &= ~sigbit(SIGABRT);
    // The interrupted context is inside abort: rsp still holds abort's return address.
    this.engine.writeRegister('rip', CODE.abortResume);
    this.deliver(info, false);
    return true;
  }

  private onSyscall(): ProcessStop | undefined {
    const nr = Number(this.engine.readRegister('rax'));
    const args = (['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const).map((r) => this.engine.readRegister(r));
    this.charge(SYSCALL_COST);
    let outcome;
    try {
      outcome = serviceSyscall(this.engine, this.libc);
    } catch (e) {
      if (e instanceof GuestMemoryFault) {
        this.engine.writeRegister('rax', BigInt.asUintN(64, -14n)); // EFAULT, as the kernel returns
        return undefined;
      }
      throw e;
    }
    const name = SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
    if (outcome.kind === 'exit') {
      this.ended = { reason: 'exited', status: outcome.status, instructions: this.instructions };
      return this.ended;
    }
    if (outcome.kind === 'sigreturn') {
      const rip = restoreRtFrame(this.engine, this.mem, this.signals);
      this.record({ kind: 'signal-return', at: this.instructions, rip, rsp: this.engine.readRegister('rsp') });
      this.deliverPendingSignals();
      return this.ended;
    }
    this.engine.writeRegister('rax', BigInt.asUintN(64, outcome.value));
    if (outcome.value === -38n || nr === 2 || nr === 257 || nr === 41 || nr === 59 || nr === 57) {
      // Counted always, recorded for the first few: a loop of unknown system calls stays small.
      if (this.failedSyscalls++ < FAILED_SYSCALLS_KEPT) this.record({ kind: 'syscall', at: this.instructions, number: nr, name, result: outcome.value, args });
    }
    this.deliverPendingSignals();
    return this.ended;
  }

  // ---- signals and faults -------------------------------------------------------------

  private deliverPendingSignals(): void {
    for (;;) {
      if (this.ended) return;
      const info = this.signals.takeDeliverable();
      if (!info) return;
      this.deliver(info, false);
    }
  }

  /** Delivers one signal; `forced` (a synchronous fault) overrides SIG_IGN and the mask, as force_sig does. */
  private deliver(info: SignalInfo, forced: boolean, fault?: RunResult): void {
    const disposition = dispositionOf(this.signals, info.signo, forced);
    if (disposition.kind === 'ignore') {
      this.record({ kind: 'signal-ignored', at: this.instructions, signo: info.signo });
      return;
    }
    if (disposition.kind === 'terminate') {
      this.ended = this.killedBy(info, forced, fault);
      return;
    }
    const action = disposition.action;
    const restorer = action.flags & SA_RESTORER && action.restorer !== 0n ? action.restorer : CODE.restorer;
    const frame = setupRtFrame(this.engine, this.mem, this.signals, info, action, restorer);
    this.record({ kind: 'signal-delivered', at: this.instructions, signo: info.signo, code: info.code, handler: action.handler, frame });
  }

  private raiseFault(info: SignalInfo, r: RunResult | undefined): ProcessStop | undefined {
    this.deliver(info, true, r);
    return this.ended;
  }

  /**
   * The kernel's stack growth: a read or write of an unmapped address below the stack but
   * within STACK_LIMIT of its top maps the pages down to it (and STACK_GROWTH more, not past
   * the limit). The page below the limit stays unmapped: a fault there is a SIGSEGV.
   */
  private growStack(fault: MemFault): boolean {
    if (fault.kind !== 'unmapped' || fault.access === 'fetch') return false;
    const limit = STACK_TOP - BigInt(STACK_LIMIT);
    let bottom = STACK_TOP;
    for (const m of this.space.list()) if (m.name === '[stack]' && m.begin < bottom) bottom = m.begin;
    if (fault.address < limit || fault.address >= bottom) return false;
    const wanted = (fault.address & ~0xfffn) - BigInt(STACK_GROWTH);
    const begin = wanted < limit ? limit : wanted;
    if (this.space.list().some((m) => m.begin < bottom && m.end > begin)) return false; // something else lives there
    this.space.mapFixed(begin, bottom - begin, Perm.RW, '[stack]');
    return true;
  }

  private faultInfo(fault: MemFault): SignalInfo {
    const write = fault.access === 'write' ? 2 : 0;
    const fetch = fault.access === 'fetch' ? 16 : 0;
    return {
      signo: SIGSEGV,
      code: fault.kind === 'unmapped' ? SEGV_MAPERR : SEGV_ACCERR,
      address: fault.address,
      trapno: 14,
      err: 4 | write | fetch | (fault.kind === 'protection' ? 1 : 0),
      ...({ access: fault.access, kind: fault.kind } as object),
    } as SignalInfo;
  }

  private faultReport(info: SignalInfo, r: RunResult | undefined): FaultReport {
    const rip = this.engine.readRegister('rip');
    const extra = info as SignalInfo & { access?: 'read' | 'write' | 'fetch'; kind?: 'unmapped' | 'protection' };
    const mapping = info.address !== undefined ? this.space.find(info.address) : undefined;
    return faultReportOf({
      info, rip,
      bytes: faultBytes(() => r?.bytes ?? this.mem.read(rip, 15)),
      ...(extra.access ? { access: extra.access } : {}),
      ...(extra.kind ? { kind: extra.kind } : {}),
      ...(mapping ? { mapping } : {}),
      describe: (a) => this.describe(a),
      backtrace: this.backtrace(),
      registers: Object.fromEntries(GPR_NAMES.map((g) => [g, this.engine.readRegister(g)])),
      hint: poisonHint(info.address),
    });
  }

  private killedBy(info: SignalInfo, forced: boolean, fault: RunResult | undefined): ProcessStop {
    return killedStop(info.signo, this.instructions, forced && !this.briefFaults ? this.faultReport(info, fault) : undefined);
  }

  /** Return addresses: the rbp chain while it stays on the stack, else a scan for code addresses. */
  private backtrace(): { address: bigint; location: string }[] {
    const out: { address: bigint; location: string }[] = [];
    const isCode = (a: bigint): boolean => (this.space.find(a)?.perms ?? 0) & Perm.Exec ? true : false;
    const onStack = (a: bigint): boolean => a >= STACK_TOP - BigInt(STACK_LIMIT) && a < STACK_TOP;
    let rbp = this.engine.readRegister('rbp');
    const inLibcImage = (a: bigint): boolean => a >= STUB_CODE_BASE && a < STUB_CODE_BASE + BigInt(STUB_CODE_SIZE);
    try {
      // A leaf function (no frame of its own) faulting: its return address is at [rsp].
      const top = this.mem.u64(this.engine.readRegister('rsp'));
      if (isCode(top) && !inLibcImage(top) && this.mem.u64(rbp + 8n) !== top) out.push({ address: top, location: this.describe(top) });
      while (onStack(rbp) && out.length < 32) {
        const ret = this.mem.u64(rbp + 8n);
        if (!isCode(ret) || inLibcImage(ret)) break;
        out.push({ address: ret, location: this.describe(ret) });
        const next = this.mem.u64(rbp);
        if (next <= rbp) break;
        rbp = next;
      }
      if (out.length <= 1) {
        const rsp = this.engine.readRegister('rsp');
        for (let a = rsp; a < rsp + 512n && onStack(a) && out.length < 16; a += 8n) {
          const v = this.mem.u64(a);
          if (isCode(v) && !inLibcImage(v) && !out.some((f) => f.address === v)) out.push({ address: v, location: this.describe(v) });
        }
      }
    } catch {
      // a broken stack ends the backtrace
    }
    return out;
  }

  /** "main+0x1a (main)" for an address. */
  describe(address: bigint): string {
    const stub = this.stubByAddress.get(address);
    if (stub) return `${stub.name} (libc stub)`;
    const obj = this.linker.objectContaining(address);
    if (!obj) return hex(address);
    const fn = obj.elf?.functionContaining(address - obj.base);
    if (fn) return `${fn.name}+${hex(address - obj.base - fn.value)} (${obj.path})`;
    return `${hex(address)} (${obj.path}+${hex(address - obj.base)})`;
  }

  private error(error: LoaderError): ProcessStop {
    return { reason: 'error', error, instructions: this.instructions };
  }

  // ---- set-up ---------------------------------------------------------------------------

  private mapLibcImage(): LoadedObject {
    this.space.mapFixed(STUB_CODE_BASE, BigInt(STUB_CODE_SIZE), Perm.RW, '[libc stubs]');
    // int3 everywhere, so a jump into the image that misses a breakpoint still traps.
    this.mem.write(STUB_CODE_BASE, new Uint8Array(STUB_CODE_SIZE).fill(0xcc));
    this.mem.write(CODE.restorer, Uint8Array.of(0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05)); // mov eax, 15; syscall
    this.space.mprotectInternal(STUB_CODE_BASE, BigInt(STUB_CODE_SIZE), Perm.RX);
    this.space.mapFixed(STUB_DATA_BASE, BigInt(STUB_DATA_SIZE), Perm.RW, '[libc data]');
    const image = new LoadedObject('libc-image', 'libc.so.6', STUB_CODE_BASE, undefined, DATA.libcHandle);
    image.mapStart = STUB_CODE_BASE;
    image.mapEnd = STUB_DATA_BASE + BigInt(STUB_DATA_SIZE);
    let at = CODE.firstStub;
    for (const stub of STUBS) {
      this.stubByAddress.set(at, stub);
      this.breakpointVersion++;
      image.defineSynthetic(stub.name, at, SymbolType.Func, 16n);
      at += 16n;
    }
    image.defineSynthetic('__restore_rt', CODE.restorer, SymbolType.Func, 7n);
    [DATA.stdinFile, DATA.stdoutFile, DATA.stderrFile].forEach((file, fd) => {
      this.mem.writeU32(file, 0xfbad2084); // _flags magic
      this.mem.writeU32(file + FILE_FILENO, fd);
    });
    this.mem.writeU64(DATA.variables, DATA.stdinFile);
    this.mem.writeU64(DATA.variables + 8n, DATA.stdoutFile);
    this.mem.writeU64(DATA.variables + 16n, DATA.stderrFile);
    LIBC_DATA_SYMBOLS.forEach((name) => {
      const slot = { stdin: 0n, stdout: 8n, stderr: 16n, environ: 24n, __environ: 24n, __progname: 32n, program_invocation_name: 40n, program_invocation_short_name: 48n }[name];
      image.defineSynthetic(name, DATA.variables + slot, SymbolType.Object, 8n);
    });
    image.defineSynthetic('_IO_2_1_stdin_', DATA.stdinFile, SymbolType.Object, 216n);
    image.defineSynthetic('_IO_2_1_stdout_', DATA.stdoutFile, SymbolType.Object, 216n);
    image.defineSynthetic('_IO_2_1_stderr_', DATA.stderrFile, SymbolType.Object, 216n);
    return image;
  }

  private setupThread(random: Uint8Array): void {
    const tcb = this.tcb;
    this.mem.writeU64(tcb, tcb); // tcbhead_t.tcb
    this.mem.writeU64(tcb + 0x10n, tcb); // tcbhead_t.self
    // The stack-protector canary, from AT_RANDOM with its low byte zeroed as glibc does.
    const canary = new DataView(random.buffer, random.byteOffset, 8).getBigUint64(0, true) & ~0xffn;
    this.mem.writeU64(tcb + 0x28n, canary);
    this.mem.writeU64(tcb + 0x30n, new DataView(random.buffer, random.byteOffset + 8, 8).getBigUint64(0, true)); // pointer_guard
  }

  private allocateStaticTls(size: bigint, align: bigint, image: Uint8Array): bigint {
    let offset = this.staticTlsUsed + size;
    offset = (offset + align - 1n) & ~(align - 1n);
    if (offset > BigInt(STATIC_TLS_SIZE)) throw new LoaderError('unsupported', `static TLS exhausted (${offset} bytes needed, ${STATIC_TLS_SIZE} available)`);
    this.staticTlsUsed = offset;
    const block = this.tcb - offset;
    this.mem.write(block, new Uint8Array(Number(size)));
    this.mem.write(block, image);
    return -offset;
  }

  private trapFor(symbol: string, requester: string, lazyUndefined: boolean): bigint {
    // A lazily undefined function's trap names its requester in ld.so's message: one per requester.
    for (const [address, t] of this.trapByAddress) if (t.symbol === symbol && t.lazyUndefined === lazyUndefined && (!lazyUndefined || t.requester === requester)) return address;
    if (this.nextTrap >= STUB_CODE_BASE + BigInt(STUB_CODE_SIZE)) throw new LoaderError('unsupported', 'too many imports without stubs');
    const address = this.nextTrap;
    this.nextTrap += 16n;
    this.trapByAddress.set(address, { symbol, requester, lazyUndefined });
    this.breakpointVersion++;
    this.updateBreakpoints();
    return address;
  }

  /** Bumped when the stubs, traps or watched calls change (what updateBreakpoints reads besides the run's stops). */
  private breakpointVersion = 0;
  /** The stubs', traps' and watched calls' breakpoints, as of breakpointVersion. */
  private breakpointBase: { version: number; set: ReadonlySet<bigint> } | null = null;
  /** What the engine holds: the set, the base version, the run's stops and the address left out. */
  private held: { set: Set<bigint>; version: number; stops: ReadonlySet<bigint>; except: bigint | undefined } | null = null;

  /** Whether the engine stops at `address` (the step-over address included). */
  private isBreakpoint(address: bigint): boolean {
    return this.runStops.has(address) || (this.breakpointBase?.set.has(address) ?? false);
  }

  /**
   * Sends the engine the base set plus the run's stops, without `except`. A change of the run's
   * stops or of the step-over address alone is sent address by address (a call stop added and
   * removed around each run keeps the rest of the engine's set and decoded code).
   */
  private updateBreakpoints(except?: bigint): void {
    if (this.breakpointBase?.version !== this.breakpointVersion) {
      this.breakpointBase = { version: this.breakpointVersion, set: new Set([CODE.continuation, CODE.hostReturn, CODE.abortResume, ...this.stubByAddress.keys(), ...this.trapByAddress.keys(), ...this.watched]) };
    }
    const base = this.breakpointBase.set;
    const stops = this.runStops;
    const held = this.held;
    if (held === null || held.version !== this.breakpointVersion) {
      const all = new Set(base);
      for (const a of stops) all.add(a);
      if (except !== undefined) all.delete(except);
      this.held = null; // until the engine holds the whole set
      this.engine.setBreakpoints([...all]);
      this.held = { set: all, version: this.breakpointVersion, stops, except };
      return;
    }
    if (held.stops === stops && held.except === except) return;
    const sync = (a: bigint): void => {
      const wanted = a !== except && (base.has(a) || stops.has(a));
      if (wanted === held.set.has(a)) return;
      if (wanted) {
        this.engine.addBreakpoint(a);
        held.set.add(a);
      } else {
        this.engine.removeBreakpoint(a);
        held.set.delete(a);
      }
    };
    for (const a of held.stops) sync(a);
    if (held.except !== undefined) sync(held.except);
    for (const a of stops) sync(a);
    if (except !== undefined) sync(except);
    held.stops = stops;
    held.except = except;
  }

  /** MemWrite hooks over every mapping that is or was executable (outside the libc image). */
  private watchCodeMappings(): void {
    for (const m of this.space.list()) {
      if (!m.everExecutable || m.name === '[libc stubs]') continue;
      const key = `${m.begin}-${m.end}`;
      if (this.codeHooks.has(key)) continue;
      const handle = this.engine.addHook({
        type: HookType.MemWrite,
        begin: m.begin,
        end: m.end - 1n,
        callback: (_access, address, size, value) => {
          const bytes = new Uint8Array(size);
          for (let i = 0; i < size; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
          this.recordCodeWrite(address, bytes, 'instruction', this.engine.readRegister('rip'));
        },
      });
      this.codeHooks.set(key, handle);
    }
  }

  private recordCodeWrite(address: bigint, bytes: Uint8Array, by: 'instruction' | 'libc' | 'host', rip: bigint): void {
    const m = this.space.find(address);
    if (!m?.everExecutable || m.name === '[libc stubs]') return;
    this.record({ kind: 'code-write', at: this.currentInstruction(), address, bytes: bytes.slice(), rip, by });
  }

  private currentInstruction(): number {
    if (!this.traceOk) return this.instructions;
    // Inside engine.start() the process count lags; the trace's sequence number does not.
    return Math.max(this.instructions, this.lastTraceSeq() - this.traceBase);
  }

  private lastTraceSeq(): number {
    if (this.engine.instructionsRetired) return this.engine.instructionsRetired();
    const t = this.engine.readTrace();
    return t.length > 0 ? t[t.length - 1]!.seq + 1 : 0;
  }

  record(event: ProcessEvent): void {
    if (event.at === 0) event.at = this.currentInstruction();
    if (this.events.length >= MAX_EVENTS) {
      throw new LoaderError('limit', `the guest caused more than ${MAX_EVENTS} recorded events (mprotect, code writes, signals, dlopen...): a runaway loop, stopped after ${this.currentInstruction()} instructions`);
    }
    this.events.push(event);
  }

  private kernelMprotect(address: bigint, length: bigint, prot: number, via: 'libc' | 'syscall' | 'host', caller: bigint): number {
    const result = this.space.mprotect(address, length, prot);
    this.record({ kind: 'mprotect', at: this.currentInstruction(), address, length, prot, result, via, caller });
    return result;
  }

  /** User-space access by a stub: checks the pages' permissions as the CPU would. */
  private checkAccess(address: bigint, size: number, access: 'read' | 'write'): void {
    if (size <= 0) return;
    const end = address + BigInt(size);
    let at = address;
    while (at < end) {
      const m = this.space.find(at);
      if (!m) throw new GuestMemoryFault({ kind: 'unmapped', access, address: at, size: 1 });
      const need = access === 'read' ? Perm.Read : Perm.Write;
      if ((m.perms & need) === 0) throw new GuestMemoryFault({ kind: 'protection', access, address: at, size: 1 });
      at = m.end;
    }
  }

  private makeLibcServices(): LibcServices {
    const self = this;
    let callerRip = 0n;
    const services: LibcServices = {
      read: (address, size) => {
        self.checkAccess(address, size, 'read');
        if (size > HOST_READ_LIMIT) {
          throw new LoaderError('limit', `a libc call by ${self.describe(callerRip - 1n)} reads ${size} bytes at once; the sandbox's stubs read at most ${mib(HOST_READ_LIMIT)} in one call`);
        }
        self.charge(workCost(size));
        return self.mem.read(address, size);
      },
      write: (address, data) => {
        self.checkAccess(address, data.length, 'write');
        self.recordCodeWrite(address, data, 'libc', callerRip);
        self.mem.write(address, data);
      },
      cstring: (address) => {
        self.checkAccess(address, 1, 'read');
        const bytes = self.mem.cstringBytes(address);
        self.charge(workCost(bytes.length));
        return bytes;
      },
      u64: (address) => {
        self.checkAccess(address, 8, 'read');
        return self.mem.u64(address);
      },
      writeU64: (address, value) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
        services.write(address, b);
      },
      writeU32: (address, value) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, value >>> 0, true);
        services.write(address, b);
      },
      setErrno: (errno) => self.mem.writeU32(self.tcb + ERRNO_OFFSET, errno),
      errno: () => self.mem.u32(self.tcb + ERRNO_OFFSET),
      get errnoAddress() {
        return self.tcb + ERRNO_OFFSET;
      },
      output: (fd, bytes) => {
        if (fd !== 1 && fd !== 2) return false;
        self.charge(workCost(bytes.length));
        self.captured.append(fd, bytes, self.currentInstruction());
        return true;
      },
      outputFromGuest: (fd, address, size) => {
        if (fd !== 1 && fd !== 2) return false;
        self.checkAccess(address, size, 'read');
        self.charge(workCost(size));
        // Only the bytes the capture keeps are read: a 1 GiB write costs no host memory.
        const at = self.currentInstruction();
        self.captured.appendRange(fd, size, at, (offset, length) => self.mem.read(address + BigInt(offset), length));
        return true;
      },
      fill: (address, byte, size) => {
        self.checkAccess(address, size, 'write');
        self.charge(workCost(size));
        const chunk = new Uint8Array(Math.min(size, HOST_CHUNK)).fill(byte);
        for (let done = 0; done < size; done += HOST_CHUNK) {
          const n = Math.min(HOST_CHUNK, size - done);
          const part = n === chunk.length ? chunk : chunk.subarray(0, n);
          self.recordCodeWrite(address + BigInt(done), part, 'libc', callerRip);
          self.mem.write(address + BigInt(done), part);
          self.checkDeadline();
        }
      },
      copy: (dest, src, size) => {
        self.checkAccess(src, size, 'read');
        self.checkAccess(dest, size, 'write');
        self.charge(workCost(size));
        // memmove semantics, in bounded pieces: backwards when the destination is above the source.
        const backwards = dest > src && dest < src + BigInt(size);
        for (let k = 0; k < size; k += HOST_CHUNK) {
          const n = Math.min(HOST_CHUNK, size - k);
          const offset = backwards ? size - k - n : k;
          const part = self.mem.read(src + BigInt(offset), n);
          self.recordCodeWrite(dest + BigInt(offset), part, 'libc', callerRip);
          self.mem.write(dest + BigInt(offset), part);
          self.checkDeadline();
        }
      },
      charge: (units) => self.charge(units),
      streamFd: (file) => {
        if (file === DATA.stdinFile) return 0;
        if (file === DATA.stdoutFile) return 1;
        if (file === DATA.stderrFile) return 2;
        return undefined;
      },
      get heap() {
        return self.heap;
      },
      clock: self.clock,
      signals: self.signals,
      space: self.space,
      get linker() {
        return self.linker;
      },
      pid: self.pid,
      restorer: CODE.restorer,
      atexit: self.atexit,
      get envp() {
        return self.envp;
      },
      strerrorBuffer: DATA.strerror,
      dlerrorBuffer: DATA.dlerror,
      threadPointer: self.tcb,
      record: (event) => self.record(event),
      mprotect: (address, length, prot, via) => self.kernelMprotect(address, length, prot, via, callerRip),
      executableInitCalls: (argc, argv, envp) => self.linker.executableInitCalls(argc, argv, envp),
      exitSequence: (status) => self.exitSequence(status),
    };
    this.setCaller = (rip: bigint) => {
      callerRip = rip;
    };
    return services;
  }

  private setCaller: (rip: bigint) => void = () => undefined;

  /** exit(): atexit/__cxa_atexit handlers (last registered first), then _dl_fini's destructors, then the end. */
  private exitSequence(status: number): StubOutcome {
    const handler = this.atexit.pop();
    if (handler) {
      return {
        kind: 'call',
        call: { target: handler.func, args: handler.withArg ? [handler.arg] : [], purpose: 'atexit handler' },
        then: () => this.exitSequence(status),
      };
    }
    // __libc_start_main registers _dl_fini before any constructor can call atexit: it runs last.
    this.finiQueue ??= this.linker.finiCalls();
    const fini = this.finiQueue.shift();
    if (!fini) return { kind: 'exit', status: status & 0xff };
    return { kind: 'call', call: fini, then: () => this.exitSequence(status) };
  }

  private makeStubCall(entryRsp: bigint): StubCall {
    const engine = this.engine;
    const mem = this.mem;
    const intRegs = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const;
    const returnAddress = mem.u64(entryRsp);
    this.setCaller(returnAddress);
    const arg = (n: number): bigint => (n < 6 ? engine.readRegister(intRegs[n]!) : mem.u64(entryRsp + 8n + BigInt(n - 6) * 8n));
    const xmmBits = (n: number): bigint => {
      const b = engine.readXmm(n);
      return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    };
    return {
      arg,
      doubleArg: xmmBits,
      returnAddress,
      libc: this.libc,
      varargs: (fixedInts: number, fixedDoubles = 0): VarArgSource => {
        // Registers first, then one shared overflow area on the stack, in argument order.
        let gp = fixedInts;
        let fp = fixedDoubles;
        const vectorCount = Number(engine.readRegister('rax') & 0xffn);
        let stack = entryRsp + 8n + BigInt(Math.max(0, fixedInts - 6)) * 8n;
        const fromStack = (): bigint => {
          const v = mem.u64(stack);
          stack += 8n;
          return v;
        };
        return {
          int: () => (gp < 6 ? engine.readRegister(intRegs[gp++]!) : fromStack()),
          doubleBits: () => (fp < 8 && fp < Math.max(vectorCount, 8) ? xmmBits(fp++) : fromStack()),
        };
      },
      vaList: (address: bigint): VarArgSource => {
        // struct __va_list_tag { unsigned gp_offset, fp_offset; void *overflow_arg_area, *reg_save_area; }
        let gpOffset = mem.u32(address);
        let fpOffset = mem.u32(address + 4n);
        let overflow = mem.u64(address + 8n);
        const save = mem.u64(address + 16n);
        const next = (): bigint => {
          const v = mem.u64(overflow);
          overflow += 8n;
          return v;
        };
        return {
          int: () => {
            if (gpOffset < 48) {
              const v = mem.u64(save + BigInt(gpOffset));
              gpOffset += 8;
              return v;
            }
            return next();
          },
          doubleBits: () => {
            if (fpOffset < 176) {
              const v = mem.u64(save + BigInt(fpOffset));
              fpOffset += 16;
              return v;
            }
            return next();
          },
        };
      },
    };
  }
}

export interface ProcessSnapshot {
  engine: Snapshot;
  instructions: number;
  /** Instructions the engine's trace had counted for this process (event times derive from it). */
  traceCount: number;
  events: number;
  output: CapturedOutputState;
  charged: number;
  failedSyscalls: number;
  signals: { actions: Map<number, SignalAction>; blocked: bigint; pending: SignalInfo[] };
  pending: PendingReturn[];
  ended: ProcessStop | undefined;
  space: AddressSpaceState;
  linker: LinkerState;
  heap: HeapState;
  clock: { realtimeNs: bigint; monotonicNs: bigint };
  atexit: { func: bigint; arg: bigint; dso: bigint; withArg: boolean }[];
  finiQueue: GuestCall[] | undefined;
  staticTlsUsed: bigint;
  traps: Map<bigint, { symbol: string; requester: string; lazyUndefined: boolean }>;
  nextTrap: bigint;
  watched: Set<bigint>;
  stepOver: bigint | undefined;
  poisoned: Poisoning | undefined;
}

export type { GuestCall };
