// The Engine contract: what the loader and the verifier may ask of a CPU, whichever one runs.
// Shaped like Unicorn's API (map/protect/read/write/start/stop/hooks/context) so the
// native oracle and the WebAssembly core are interchangeable. Implementations:
// WasmEngine (wasm/, the default everywhere) and UnicornEngine (libunicorn via koffi, Node only).

/** Page permission bits, numerically identical to Unicorn's UC_PROT_*. */
export enum Perm {
  None = 0,
  Read = 1,
  Write = 2,
  Exec = 4,
  RW = 3,
  RX = 5,
  All = 7,
}

export const PAGE_SIZE = 0x1000;

export type Gpr =
  | 'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'rbp' | 'rsp'
  | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15';

/** Registers readable and writable as 64-bit integers. */
export type Register = Gpr | 'rip' | 'rflags' | 'fs_base' | 'gs_base';

export const GPRS: readonly Gpr[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
]; // in x86 encoding order: GPRS[n] is register number n

export interface MemRegion {
  begin: bigint; // inclusive, page aligned
  end: bigint; // exclusive, page aligned
  perms: Perm;
}

export type Access = 'read' | 'write' | 'fetch';

/** A guest memory fault: data, not an exception (it becomes a finding or a SIGSEGV). */
export interface MemFault {
  kind: 'unmapped' | 'protection';
  access: Access;
  address: bigint;
  size: number;
}

/** Why a call to start() returned. */
export type StopReason =
  | 'until' // rip reached options.until
  | 'count' // options.count instructions executed, or an armed run's quantum ended where the host switches (ThreadSlots)
  | 'stopped' // stop() was called (from a hook)
  | 'timeout' // options.timeoutMs elapsed
  | 'fault' // memory fault not fixed by a hook: see RunResult.fault
  | 'invalid-instruction' // undecodable or unsupported bytes at rip: see RunResult.bytes
  | 'syscall' // a `syscall` instruction executed; rip is after it, the host services it
  | 'breakpoint' // rip reached an address registered with setBreakpoints (e.g. a library stub)
  | 'interrupt' // int3 / int n / ud2 / hlt: see RunResult.interrupt
  | 'divide-error'; // #DE from div/idiv

export interface RunResult {
  reason: StopReason;
  /** Instructions retired during this start() call. */
  instructions: number;
  /** rip when the run stopped (for 'fault'/'invalid-instruction'/'divide-error': the faulting instruction). */
  rip: bigint;
  fault?: MemFault;
  /** For 'invalid-instruction': up to 15 bytes at rip, for the error message. */
  bytes?: Uint8Array;
  /** For 'interrupt': 3 = int3, 6 = ud2 (#UD), 0xf4 = hlt, n = int n. */
  interrupt?: number;
}

export interface StartOptions {
  /** Stop before executing the instruction at this address. */
  until?: bigint;
  /** Stop after this many instructions. */
  count?: number;
  /** Stop after this much wall time. */
  timeoutMs?: number;
}

/** Hook kinds, as bit flags combinable into masks (cf. UC_HOOK_*). */
export enum HookType {
  Code = 1 << 0, // before each instruction whose address is within [begin, end]
  Block = 1 << 1, // at the start of each basic block within [begin, end]
  MemRead = 1 << 2,
  MemWrite = 1 << 3,
  MemFetch = 1 << 4,
  MemInvalid = 1 << 5, // unmapped or protection fault; the callback may map/protect and return true to retry
  Syscall = 1 << 6, // a `syscall` instruction; the callback services it and execution continues
  Interrupt = 1 << 7, // int3/int n/hlt/ud2; the callback may handle it and return true to continue
  InvalidInstruction = 1 << 8, // return true if the callback fixed things (e.g. wrote new bytes) to retry
}

export type CodeHook = (address: bigint, size: number) => void;
/**
 * Called for each access in [begin, end]. Inside the callback readRegister('rip') is the address
 * of the instruction making the access (as in Unicorn). MemFetch fires once per instruction with
 * its full length. `value` is the value written (MemWrite) or read (MemRead), little-endian.
 */
export type MemHook = (access: Access, address: bigint, size: number, value: bigint) => void;
/** Return true when the fault was fixed (memory mapped or permissions changed) and the access should be retried. */
export type MemInvalidHook = (fault: MemFault) => boolean;
export type SyscallHook = () => void;
/** Return true when handled and execution should continue after the instruction. */
export type InterruptHook = (interrupt: number) => boolean;
export type InvalidInstructionHook = (address: bigint, bytes: Uint8Array) => boolean;

export type HookSpec =
  | { type: HookType.Code | HookType.Block; callback: CodeHook; begin?: bigint; end?: bigint }
  | { type: HookType.MemRead | HookType.MemWrite | HookType.MemFetch; callback: MemHook; begin?: bigint; end?: bigint }
  | { type: HookType.MemInvalid; callback: MemInvalidHook }
  | { type: HookType.Syscall; callback: SyscallHook }
  | { type: HookType.Interrupt; callback: InterruptHook }
  | { type: HookType.InvalidInstruction; callback: InvalidInstructionHook };

/**
 * Watches a long run from outside without a hook per instruction: called from inside start()
 * at least every `everyInstructions` retired instructions (between chunks of the core's work)
 * with the engine's total retired count. Returning false ends that start() with reason
 * 'timeout': a wall-clock deadline costs one clock read per call.
 */
export interface RunMonitor {
  everyInstructions: number;
  callback: (instructionsRetired: number) => boolean | void;
}

export interface HookHandle {
  readonly id: number;
}

/** Opaque CPU register state (GPRs, rip, rflags, fs/gs base, xmm, mxcsr). */
export interface CpuContext {
  readonly engine: string;
}

/** Opaque whole-process state: CPU context plus memory map and contents. */
export interface Snapshot {
  readonly engine: string;
}

/** One retired instruction in the trace ring buffer. */
export interface TraceEntry {
  /** Index of the instruction since the engine was created (monotonic). */
  seq: number;
  rip: bigint;
}

/** Error codes for programmer/host errors (guest faults are RunResult data, not errors). */
export type EngineErrorCode =
  | 'ARG' // bad argument: size 0, wrap-around, misalignment, bad permission bits
  | 'MAP' // mapping overlaps an existing one
  | 'NOMEM' // region not mapped (unmap/protect/read/write outside mappings)
  | 'READ_UNMAPPED'
  | 'WRITE_UNMAPPED'
  | 'HOOK'
  | 'UNAVAILABLE' // the engine cannot be created here (e.g. libunicorn missing)
  | 'MEMORY_LIMIT' // the guest touched more pages than setMemoryLimit allows
  | 'INTERNAL';

export class EmulationError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'EmulationError';
  }
}

/** The architectural x87 state, as the guest sees it (fxsave would store the same values). */
export interface X87State {
  /** ST(0)..ST(7), ST(0) first: 10 bytes each, the 80-bit extended encoding (significand, then sign and exponent), little-endian. Empty registers show their stale contents. */
  st: Uint8Array[];
  /** Control word. */
  fcw: number;
  /** Status word, TOP (bits 11..13) included. */
  fsw: number;
  /** Full tag word, two bits per physical register R0..R7: 00 valid, 01 zero, 10 special, 11 empty. */
  ftw: number;
}

/**
 * Thread switches inside the engine (optional; the WasmEngine has it): each thread's CPU state
 * lives in a numbered slot of the engine, and a start() the host has armed with its run queue and
 * its scheduler's generator switches threads at quantum ends itself, logging each switch, instead
 * of returning to the host for every quantum. The pick and the quantum are the host scheduler's
 * (src/loader/system/threads.ts) draw for draw, so the schedule does not depend on who switches.
 */
export interface ThreadSlots {
  /** Room for slots 0..count-1; false when the engine is out of memory. */
  reserve(count: number): boolean;
  /** The running CPU state into a slot. */
  save(slot: number): void;
  /** A slot into the running CPU state. */
  load(slot: number): void;
  /** A copy of a slot's state, as saveContext() would give it. */
  read(slot: number): CpuContext;
  /** A context (saved by this engine) into a slot. */
  write(slot: number, context: CpuContext): void;
  /**
   * Arms the next start(): it runs across quantum ends, switching among `runnable` (slots, in the
   * host's order) as SchedulePlan says. False when the engine cannot (hooks that call into the
   * host are installed: they must see the host's current thread); the host then switches itself.
   */
  arm(plan: SchedulePlan): boolean;
  /**
   * After an armed start() returned (or threw): disarms and fills `out` with what the engine did;
   * a run that stops at a quantum end the host must finish returns reason 'count' with
   * `out.quantumLeft` 0.
   */
  drain(out: ScheduleReport): void;
}

/** What an armed run needs: reused by the scheduler from run to run (arm() copies it). */
export interface SchedulePlan {
  current: number;
  runnable: number[];
  runnableCount: number;
  quantumLeft: number;
  /** The mean quantum: the next one is quantum/2 + a draw modulo quantum. */
  quantum: number;
  /** The scheduler's xorshift64* state, high and low halves. */
  randomHi: number;
  randomLo: number;
  /** Instructions after which a blocked thread's deadline passes (the host must wake it); -1: none. */
  wakeIn: number;
}

export interface ScheduleReport {
  /** Switches the engine made: instructions since arm() at each, and the slot switched to. */
  count: number;
  offsets: number[];
  slots: number[];
  /** The running thread's slot and what it has left of its quantum. */
  current: number;
  quantumLeft: number;
  randomHi: number;
  randomLo: number;
}

export interface Engine {
  readonly name: 'wasm' | 'unicorn';
  /** In-engine thread switches (WasmEngine); absent: the host switches with saveContext/restoreContext. */
  readonly threadSlots?: ThreadSlots;

  // Memory. address and size must be page aligned, size > 0.
  map(address: bigint, size: number, perms: Perm): void;
  unmap(address: bigint, size: number): void;
  protect(address: bigint, size: number, perms: Perm): void;
  regions(): MemRegion[];
  /** Host access: ignores page permissions, fails with EmulationError on unmapped bytes. */
  readMemory(address: bigint, size: number): Uint8Array;
  writeMemory(address: bigint, data: Uint8Array): void;
  /**
   * Bounds the guest's touched memory: mapping is lazy (an untouched page costs no host memory),
   * and a write that would give the guest more than `bytes` of pages makes start() or
   * writeMemory throw EmulationError('MEMORY_LIMIT'). 0 lifts the limit.
   */
  setMemoryLimit?(bytes: number): void;

  // Registers.
  readRegister(reg: Register): bigint;
  writeRegister(reg: Register, value: bigint): void;
  /** xmm0..xmm15 as 16 little-endian bytes. */
  readXmm(index: number): Uint8Array;
  writeXmm(index: number, value: Uint8Array): void;
  /** The x87 registers, control, status and tag word; optional (engines may not expose x87 state). */
  readX87?(): X87State;

  // Execution.
  start(begin: bigint, options?: StartOptions): RunResult;
  /**
   * Callable from inside a hook: the current start() returns with reason 'stopped'. From a code
   * hook it takes effect before the hooked instruction executes; from any other hook, after the
   * current instruction completes (rip is then the next instruction).
   */
  stop(): void;
  /**
   * Stop before executing any of these addresses (reason 'breakpoint'). Replaces the previous set.
   * A breakpoint at start()'s `begin` does not fire (so a run can resume from one it reported,
   * as with Unicorn); `until` always applies.
   */
  setBreakpoints(addresses: readonly bigint[]): void;

  // Hooks.
  addHook(spec: HookSpec): HookHandle;
  removeHook(handle: HookHandle): void;

  // State.
  /**
   * The CPU state. With `reuse` (a context this engine saved earlier that nobody needs any more,
   * e.g. the one a thread was switched in from), saves into it and returns it: a thread switch
   * allocates nothing.
   */
  saveContext(reuse?: CpuContext): CpuContext;
  restoreContext(context: CpuContext): void;
  snapshot(): Snapshot;
  restoreSnapshot(snapshot: Snapshot): void;

  // Tracing: a ring buffer of retired instruction addresses, filled without calling into JS per instruction.
  enableTrace(capacity: number): void;
  disableTrace(): void;
  /** The retained entries, oldest first. */
  readTrace(): TraceEntry[];
  /**
   * Instructions retired since the engine was created (the trace's `seq` of the next one), exact
   * inside hooks; optional: without it, callers keep a small trace ring to learn the count.
   */
  instructionsRetired?(): number;
  /** Installs (or, with null, removes) the run monitor; optional. */
  setMonitor?(monitor: RunMonitor | null): void;

  /** Release native or wasm resources. The engine is unusable afterwards. */
  close(): void;
}
