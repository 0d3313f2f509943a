// WasmEngine: the Engine contract on the AssemblyScript x86-64 core (wasm/). The core runs until
// an exit status; hooks are core exits that this class turns into callbacks before resuming, so
// the core never calls into JS per instruction.

import {
  type Access,
  type CodeHook,
  type CpuContext,
  type Engine,
  type HookHandle,
  type HookSpec,
  type InterruptHook,
  type InvalidInstructionHook,
  type MemFault,
  type MemHook,
  type MemInvalidHook,
  type MemRegion,
  type Register,
  type RunMonitor,
  type RunResult,
  type Snapshot,
  type StartOptions,
  type SyscallHook,
  type TraceEntry,
  type X87State,
  EmulationError,
  GPRS,
  HookType,
  PAGE_SIZE,
  Perm,
} from './engine.js';
import { type CoreExports, CoreExit, HOOK_EVENT_BLOCK, HOOK_EVENT_CODE, RANGE_CODE, RANGE_MAX, RANGE_READ, RANGE_WRITE, instantiateCore } from './wasm-core.js';
import { MappedRegions } from './wasm-regions.js';
import { WasmThreadSlots } from './wasm-thread-slots.js';
import { BlockJit, type JitStats } from './wasm-jit.js';

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const PAGE = BigInt(PAGE_SIZE);
const ADDRESS_LIMIT = 1n << 48n;
const ACCESS_NAMES: readonly Access[] = ['read', 'write', 'fetch'];
// Runs are split into chunks: to check the clock, and because V8 only swaps in its optimized
// code for a wasm function on the next call (no on-stack replacement), so one endless call
// would stay on the baseline tier.
const RUN_CHUNK = 1n << 20n;
const MAX_BUDGET = (1n << 62n);

export interface WasmContext extends CpuContext {
  readonly engine: 'wasm';
  readonly gprs: Uint8Array;
  readonly xmm: Uint8Array;
  rip: bigint;
  rflags: bigint;
  fsBase: bigint;
  gsBase: bigint;
  mxcsr: number;
  /** x87 registers, tags, control and status word (the core's image, wasm/assembly/x87.ts). */
  readonly x87: Uint8Array;
}

/** Memory stays in the core (copy-on-write pages); the snapshot names which one it is. */
interface WasmSnapshot extends Snapshot {
  readonly engine: 'wasm';
  readonly context: WasmContext;
  readonly regions: MemRegion[];
  readonly generation: number;
}

interface RangeHook<C> {
  callback: C;
  begin: bigint;
  end: bigint;
}

/** Decoding one instruction without executing it (for the decoder differential and coverage). */
export interface ProbeResult {
  length: number;
  supported: boolean;
}

export interface WasmEngineOptions {
  /**
   * Compile hot blocks to WebAssembly (wasm-jit.ts). Default on; PATCHSANDBOX_JIT=0 in the
   * environment turns the default off.
   */
  jit?: boolean;
  /** Interpreted executions before a block is compiled (default 200; tests use 1). PATCHSANDBOX_JIT_THRESHOLD sets the default. */
  jitThreshold?: number;
  /**
   * Instructions the engine runs before it starts counting blocks (default 1M: short runs such as a
   * cold start's would only pay for compiling; tests use 0). PATCHSANDBOX_JIT_WARMUP sets the default.
   */
  jitWarmup?: number;
}

const DEFAULT_JIT_THRESHOLD = 200;
const DEFAULT_JIT_WARMUP = 1_000_000;

function environment(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: { [key: string]: string | undefined } } }).process?.env;
  return env?.[name];
}

export class WasmEngine implements Engine {
  readonly name = 'wasm' as const;
  private readonly regionList = new MappedRegions();
  private readonly hooks = new Map<number, HookSpec>();
  private nextHookId = 1;
  private stopRequested = false;
  private closed = false;
  /** The core's breakpoint set, or null when unknown (nothing sent yet, or a failed update). */
  private breakpointSet: Set<bigint> | null = null;
  private snapshotGeneration = 0;
  private memoryLimit = 0;
  private monitor: RunMonitor | null = null;
  /** The retired count at which the monitor is called next. */
  private monitorAt = 0n;
  /** Set while memory hooks run: the address of the instruction whose accesses they see. */
  private accessRip: bigint | undefined;

  /** Threads' CPU states in the core and switches at quantum ends without leaving it (wasm-thread-slots.ts). */
  readonly threadSlots: WasmThreadSlots;

  /** The block compiler, when on. */
  private readonly jit: BlockJit | null;

  private constructor(private readonly core: CoreExports, options: WasmEngineOptions) {
    this.threadSlots = new WasmThreadSlots(core, () => this.hooks.size > 0);
    const on = options.jit ?? environment('PATCHSANDBOX_JIT') !== '0';
    const threshold = options.jitThreshold ?? (Number(environment('PATCHSANDBOX_JIT_THRESHOLD')) || DEFAULT_JIT_THRESHOLD);
    const warmupSetting = environment('PATCHSANDBOX_JIT_WARMUP');
    const warmup = options.jitWarmup ?? (warmupSetting !== undefined && warmupSetting !== '' && Number.isFinite(Number(warmupSetting)) ? Number(warmupSetting) : DEFAULT_JIT_WARMUP);
    this.jit = on ? new BlockJit(core, { threshold, warmup }) : null;
  }

  static async create(bytes?: Uint8Array, options: WasmEngineOptions = {}): Promise<WasmEngine> {
    return new WasmEngine(await instantiateCore(bytes), options);
  }

  /** What the block compiler did (null when it is off). */
  jitStats(): JitStats | null {
    return this.jit ? this.jit.stats() : null;
  }

  // ---- memory -------------------------------------------------------------------------------

  private bytes(): Uint8Array {
    // One view until the memory grows (growing replaces the buffer).
    const buffer = this.core.memory.buffer;
    if (this.memoryView?.buffer !== buffer) this.memoryView = new Uint8Array(buffer);
    return this.memoryView;
  }

  private memoryView: Uint8Array | undefined;

  private checkRange(address: bigint, size: number, what: string): bigint {
    this.checkOpen();
    if (!Number.isInteger(size) || size <= 0) throw new EmulationError('ARG', `${what}: size ${size} must be a positive integer`);
    if (address < 0n || address % PAGE !== 0n) throw new EmulationError('ARG', `${what}: address 0x${address.toString(16)} is not page aligned`);
    if (size % PAGE_SIZE !== 0) throw new EmulationError('ARG', `${what}: size 0x${size.toString(16)} is not a multiple of the page size`);
    const end = address + BigInt(size);
    if (end > 1n << 64n) throw new EmulationError('ARG', `${what}: range wraps around the address space`);
    if (end > ADDRESS_LIMIT) throw new EmulationError('ARG', `${what}: range ends beyond the 48-bit address space this engine emulates`);
    return end;
  }

  private checkPerms(perms: Perm, what: string): void {
    if (!Number.isInteger(perms) || (perms & ~Perm.All) !== 0) throw new EmulationError('ARG', `${what}: bad permission bits ${perms}`);
  }

  map(address: bigint, size: number, perms: Perm): void {
    const end = this.checkRange(address, size, 'map');
    this.checkPerms(perms, 'map');
    if (this.regionList.overlaps(address, end)) throw new EmulationError('MAP', `map: 0x${address.toString(16)}..0x${end.toString(16)} overlaps an existing mapping`);
    if (this.core.map(address / PAGE, BigInt(size) / PAGE, perms) !== 0) {
      this.core.unmap(address / PAGE, BigInt(size) / PAGE);
      throw new EmulationError('NOMEM', `map: out of WebAssembly memory mapping 0x${size.toString(16)} bytes`);
    }
    this.regionList.add(address, end, perms);
  }

  unmap(address: bigint, size: number): void {
    const end = this.checkRange(address, size, 'unmap');
    if (!this.regionList.covers(address, end)) throw new EmulationError('NOMEM', `unmap: 0x${address.toString(16)}..0x${end.toString(16)} is not entirely mapped`);
    this.core.unmap(address / PAGE, BigInt(size) / PAGE);
    this.regionList.remove(address, end);
  }

  protect(address: bigint, size: number, perms: Perm): void {
    const end = this.checkRange(address, size, 'protect');
    this.checkPerms(perms, 'protect');
    if (!this.regionList.covers(address, end)) throw new EmulationError('NOMEM', `protect: 0x${address.toString(16)}..0x${end.toString(16)} is not entirely mapped`);
    this.core.protect(address / PAGE, BigInt(size) / PAGE, perms);
    this.regionList.protect(address, end, perms);
  }

  regions(): MemRegion[] {
    this.checkOpen();
    return this.regionList.all();
  }

  setMemoryLimit(bytes: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new EmulationError('ARG', `setMemoryLimit: bad size ${bytes}`);
    this.memoryLimit = bytes;
    this.core.setTouchedPageLimit(BigInt(Math.ceil(bytes / PAGE_SIZE)));
  }

  private checkMemoryLimit(): void {
    if (this.core.touchedPageLimitHit()) {
      throw new EmulationError('MEMORY_LIMIT', `the guest exceeded the memory limit of ${this.memoryLimit} bytes of touched pages`);
    }
  }

  readMemory(address: bigint, size: number): Uint8Array {
    this.checkOpen();
    if (!Number.isInteger(size) || size < 0) throw new EmulationError('ARG', `readMemory: bad size ${size}`);
    const out = new Uint8Array(size);
    const chunk = this.core.ioSize();
    for (let done = 0; done < size; done += chunk) {
      const n = Math.min(chunk, size - done);
      if (!this.core.hostRead(address + BigInt(done), n)) {
        throw new EmulationError('READ_UNMAPPED', `readMemory: 0x${(address + BigInt(done)).toString(16)} (+${n}) is not mapped`);
      }
      const io = this.core.ioBuffer() >>> 0;
      out.set(this.bytes().subarray(io, io + n), done);
    }
    return out;
  }

  writeMemory(address: bigint, data: Uint8Array): void {
    this.checkOpen();
    const chunk = this.core.ioSize();
    if (!this.regionList.covers(address, address + BigInt(data.length)) && data.length > 0) {
      throw new EmulationError('WRITE_UNMAPPED', `writeMemory: 0x${address.toString(16)} (+${data.length}) is not mapped`);
    }
    for (let done = 0; done < data.length; done += chunk) {
      const n = Math.min(chunk, data.length - done);
      const io = this.core.ioBuffer() >>> 0;
      this.bytes().set(data.subarray(done, done + n), io);
      if (!this.core.hostWrite(address + BigInt(done), n)) {
        this.checkMemoryLimit();
        throw new EmulationError('WRITE_UNMAPPED', `writeMemory: 0x${(address + BigInt(done)).toString(16)} (+${n}) is not mapped`);
      }
    }
  }

  // ---- registers ----------------------------------------------------------------------------

  private gprView(): DataView {
    // One view until the memory grows (every register read goes through it).
    const buffer = this.core.memory.buffer;
    if (this.gprDataView?.buffer !== buffer) this.gprDataView = new DataView(buffer, this.core.gprBase() >>> 0, 16 * 8);
    return this.gprDataView;
  }

  private gprDataView: DataView | undefined;

  readRegister(reg: Register): bigint {
    this.checkOpen();
    switch (reg) {
      case 'rip': return this.accessRip ?? U64(this.core.getRip());
      case 'rflags': return U64(this.core.getRflags());
      case 'fs_base': return U64(this.core.getFsBase());
      case 'gs_base': return U64(this.core.getGsBase());
      default: {
        const n = GPRS.indexOf(reg);
        if (n < 0) throw new EmulationError('ARG', `readRegister: unknown register ${String(reg)}`);
        return this.gprView().getBigUint64(n * 8, true);
      }
    }
  }

  writeRegister(reg: Register, value: bigint): void {
    this.checkOpen();
    const v = U64(value);
    switch (reg) {
      case 'rip': this.core.setRip(v); return;
      case 'rflags': this.core.putRflags(v); return;
      case 'fs_base': this.core.setFsBase(v); return;
      case 'gs_base': this.core.setGsBase(v); return;
      default: {
        const n = GPRS.indexOf(reg);
        if (n < 0) throw new EmulationError('ARG', `writeRegister: unknown register ${String(reg)}`);
        this.gprView().setBigUint64(n * 8, v, true);
      }
    }
  }

  readXmm(index: number): Uint8Array {
    this.checkOpen();
    this.checkXmm(index);
    const base = (this.core.xmmBase() >>> 0) + index * 16;
    return this.bytes().slice(base, base + 16);
  }

  readX87(): X87State {
    this.checkOpen();
    const base = this.core.x87View() >>> 0;
    const view = this.bytes().slice(base, base + 86);
    const words = new DataView(view.buffer, 80, 6);
    return {
      st: Array.from({ length: 8 }, (_, i) => view.slice(i * 10, i * 10 + 10)),
      fcw: words.getUint16(0, true),
      fsw: words.getUint16(2, true),
      ftw: words.getUint16(4, true),
    };
  }

  writeXmm(index: number, value: Uint8Array): void {
    this.checkOpen();
    this.checkXmm(index);
    if (value.length !== 16) throw new EmulationError('ARG', `writeXmm: expected 16 bytes, got ${value.length}`);
    this.bytes().set(value, (this.core.xmmBase() >>> 0) + index * 16);
  }

  private checkXmm(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index > 15) throw new EmulationError('ARG', `xmm${index} does not exist`);
  }

  /** mxcsr is not in the Register union; exposed for tests and the loader. */
  readMxcsr(): number {
    return this.core.getMxcsr() >>> 0;
  }

  // ---- execution ----------------------------------------------------------------------------

  start(begin: bigint, options: StartOptions = {}): RunResult {
    this.checkOpen();
    const core = this.core;
    core.setRip(U64(begin));
    core.setUntil(options.until !== undefined ? 1 : 0, options.until !== undefined ? U64(options.until) : 0n);
    core.clearMemLog();
    this.stopRequested = false;
    // No closures here: start() runs once per thread quantum, so allocations show in the scheduler's bench.
    const firstRetired = U64(core.getRetired());
    const budget = options.count !== undefined && options.count > 0 ? BigInt(options.count) : MAX_BUDGET;
    const deadline = options.timeoutMs !== undefined && options.timeoutMs > 0 ? Date.now() + options.timeoutMs : undefined;

    for (;;) {
      if (this.monitor && U64(core.getRetired()) >= this.monitorAt && !this.callMonitor()) return this.runResult(firstRetired, 'timeout');
      let chunk = budget - BigInt(this.retiredSince(firstRetired));
      if (chunk <= 0n) return this.runResult(firstRetired, 'count');
      // Every exit, not only Count: memory-hook exits can come faster than chunks end.
      if (deadline !== undefined && Date.now() >= deadline) return this.runResult(firstRetired, 'timeout');
      if (chunk > RUN_CHUNK) chunk = RUN_CHUNK;
      if (this.monitor) {
        const toMonitor = this.monitorAt - U64(core.getRetired());
        if (toMonitor > 0n && chunk > toMonitor) chunk = toMonitor;
      }
      // A breakpoint at `begin` is not reported when resuming there (the host already handled it).
      const skip = this.retiredSince(firstRetired) === 0 && U64(core.getRip()) === U64(begin) ? 1 : 0;
      const exit = core.run(chunk, skip) as CoreExit;
      this.jit?.drain();
      this.deliverMemHooks();
      if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
      switch (exit) {
        case CoreExit.Count:
          if (deadline !== undefined && Date.now() >= deadline) return this.runResult(firstRetired, 'timeout');
          continue;
        case CoreExit.Until:
          return this.runResult(firstRetired, 'until');
        case CoreExit.Quantum:
          // An armed run (threadSlots) reached a quantum end the host finishes.
          return this.runResult(firstRetired, 'count');
        case CoreExit.Breakpoint:
          return this.runResult(firstRetired, 'breakpoint');
        case CoreExit.Fault: {
          this.checkMemoryLimit();
          const fault = this.currentFault();
          if (this.callMemInvalid(fault)) continue;
          if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
          return this.runResult(firstRetired, 'fault', { fault });
        }
        case CoreExit.Invalid: {
          const rip = U64(core.getRip());
          const bytes = this.instructionBytes(rip);
          if (this.callInvalidInstruction(rip, bytes)) continue;
          if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
          return this.runResult(firstRetired, 'invalid-instruction', { bytes });
        }
        case CoreExit.Syscall: {
          const hooks = this.hooksOf<SyscallHook>(HookType.Syscall);
          if (hooks.length === 0) return this.runResult(firstRetired, 'syscall');
          for (const h of hooks) h();
          if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
          continue;
        }
        case CoreExit.Interrupt: {
          const n = core.interruptNumber();
          let handled = false;
          for (const h of this.hooksOf<InterruptHook>(HookType.Interrupt)) handled = h(n) || handled;
          if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
          if (handled) continue;
          return this.runResult(firstRetired, 'interrupt', { interrupt: n });
        }
        case CoreExit.Divide:
          return this.runResult(firstRetired, 'divide-error');
        case CoreExit.Hook: {
          const events = core.hookEvents();
          if (events & (HOOK_EVENT_BLOCK | HOOK_EVENT_CODE)) {
            const rip = U64(core.getRip());
            const size = core.hookInsnLength();
            if (events & HOOK_EVENT_BLOCK) this.callCodeHooks(HookType.Block, rip, size);
            if (events & HOOK_EVENT_CODE) this.callCodeHooks(HookType.Code, rip, size);
            if (this.stopRequested) return this.runResult(firstRetired, 'stopped');
            // The hook may have moved rip; only suppress the checks when resuming at the same instruction.
            if (U64(core.getRip()) === rip) core.suppressHooksOnce();
          }
          continue;
        }
        default:
          throw new EmulationError('INTERNAL', `wasm core returned unknown exit ${exit}`);
      }
    }
  }

  stop(): void {
    this.stopRequested = true;
  }

  /** Instructions retired since the retired count was `first` (a start() began). */
  private retiredSince(first: bigint): number {
    return Number(U64(this.core.getRetired()) - first);
  }

  private runResult(first: bigint, reason: RunResult['reason'], extra?: Partial<RunResult>): RunResult {
    const r: RunResult = { reason, instructions: this.retiredSince(first), rip: U64(this.core.getRip()) };
    return extra ? Object.assign(r, extra) : r;
  }

  setMonitor(monitor: RunMonitor | null): void {
    this.checkOpen();
    if (monitor && (!Number.isInteger(monitor.everyInstructions) || monitor.everyInstructions <= 0)) {
      throw new EmulationError('ARG', `setMonitor: everyInstructions must be a positive integer, not ${monitor.everyInstructions}`);
    }
    this.monitor = monitor;
    this.monitorAt = monitor ? U64(this.core.getRetired()) + BigInt(monitor.everyInstructions) : 0n;
  }

  /** False when the monitor asks the run to end. */
  private callMonitor(): boolean {
    const monitor = this.monitor!;
    const retired = U64(this.core.getRetired());
    this.monitorAt = retired + BigInt(monitor.everyInstructions);
    return monitor.callback(Number(retired)) !== false;
  }

  setBreakpoints(addresses: readonly bigint[]): void {
    this.checkOpen();
    // A change is sent as the addresses removed and added: the core drops only the decoded
    // blocks holding them (a run's stop added and removed again keeps the rest of the code).
    const set = new Set<bigint>();
    for (const a of addresses) set.add(U64(a));
    const current = this.breakpointSet ?? new Set<bigint>();
    if (this.breakpointSet === null) this.core.clearBreakpoints();
    this.breakpointSet = null; // until the core holds the whole set
    for (const a of current) if (!set.has(a)) this.core.removeBreakpoint(a);
    for (const a of set) {
      if (current.has(a)) continue;
      if (!this.core.addBreakpoint(a)) {
        this.core.clearBreakpoints();
        throw new EmulationError('ARG', `setBreakpoints: too many breakpoints (${addresses.length})`);
      }
    }
    this.breakpointSet = set;
  }

  addBreakpoint(address: bigint): void {
    this.checkOpen();
    const a = U64(address);
    if (this.breakpointSet === null) this.setBreakpoints([]);
    const set = this.breakpointSet!;
    if (set.has(a)) return;
    if (!this.core.addBreakpoint(a)) throw new EmulationError('ARG', `addBreakpoint: too many breakpoints (${set.size + 1})`);
    set.add(a);
  }

  removeBreakpoint(address: bigint): void {
    this.checkOpen();
    const a = U64(address);
    if (this.breakpointSet === null) this.setBreakpoints([]);
    if (this.breakpointSet!.delete(a)) this.core.removeBreakpoint(a);
  }

  /** Up to 15 mapped bytes at `rip` (fewer when the next page is unmapped). */
  private instructionBytes(rip: bigint): Uint8Array {
    for (let n = 15; n > 0; n--) {
      if (this.core.hostRead(rip, n)) {
        const io = this.core.ioBuffer() >>> 0;
        return this.bytes().slice(io, io + n);
      }
    }
    return new Uint8Array(0);
  }

  private currentFault(): MemFault {
    return {
      kind: this.core.faultKind() === 1 ? 'unmapped' : 'protection',
      access: ACCESS_NAMES[this.core.faultAccess()] ?? 'read',
      address: U64(this.core.faultAddress()),
      size: this.core.faultSize(),
    };
  }

  // ---- hooks --------------------------------------------------------------------------------

  addHook(spec: HookSpec): HookHandle {
    this.checkOpen();
    const valid = [HookType.Code, HookType.Block, HookType.MemRead, HookType.MemWrite, HookType.MemFetch, HookType.MemInvalid,
      HookType.Syscall, HookType.Interrupt, HookType.InvalidInstruction];
    if (!valid.includes(spec.type)) throw new EmulationError('HOOK', `addHook: unsupported hook type ${spec.type}`);
    const id = this.nextHookId++;
    this.hooks.set(id, spec);
    this.syncHooks();
    return { id };
  }

  removeHook(handle: HookHandle): void {
    this.checkOpen();
    if (!this.hooks.delete(handle.id)) throw new EmulationError('HOOK', `removeHook: no hook ${handle.id}`);
    this.syncHooks();
  }

  private hooksOf<C>(type: HookType): C[] {
    const out: C[] = [];
    for (const spec of this.hooks.values()) if (spec.type === type) out.push(spec.callback as unknown as C);
    return out;
  }

  private rangeHooksOf<C>(type: HookType): RangeHook<C>[] {
    const out: RangeHook<C>[] = [];
    for (const spec of this.hooks.values()) {
      if (spec.type !== type) continue;
      const ranged = spec as unknown as { callback: C; begin?: bigint; end?: bigint };
      let begin = ranged.begin ?? 0n;
      let end = ranged.end ?? (1n << 64n) - 1n;
      if (begin > end) { begin = 0n; end = (1n << 64n) - 1n; } // Unicorn: begin > end means everywhere
      out.push({ callback: ranged.callback, begin, end });
    }
    return out;
  }

  /**
   * Tells the core which events must exit to the host: code, read and write hooks as lists of
   * ranges the core checks itself (code hooks mark the decoded instructions they cover, write
   * ranges the pages they touch), so nothing else leaves WebAssembly; block and fetch hooks as one
   * union range per kind. The callbacks still filter exactly.
   */
  private syncHooks(): void {
    const span = (type: HookType): [number, bigint, bigint] => {
      const hs = this.rangeHooksOf<CodeHook>(type);
      if (hs.length === 0) return [0, 0n, 0n];
      let lo = hs[0]!.begin, hi = hs[0]!.end;
      for (const h of hs) { if (h.begin < lo) lo = h.begin; if (h.end > hi) hi = h.end; }
      return [1, lo, hi];
    };
    const plans: [number, [bigint, bigint][]][] = [];
    const ranges = (kind: number, type: HookType): number => {
      const hs = this.rangeHooksOf<unknown>(type).map((h) => [h.begin, h.end] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const merged: [bigint, bigint][] = [];
      for (const [lo, hi] of hs) {
        const last = merged[merged.length - 1];
        if (last && lo <= last[1] + 1n) { if (hi > last[1]) last[1] = hi; } else merged.push([lo, hi]);
      }
      // Beyond the core's capacity the last ones are joined (more exits, same callbacks).
      while (merged.length > RANGE_MAX) { const [, hi] = merged.pop()!; merged[merged.length - 1]![1] = hi; }
      plans.push([kind, merged]);
      return merged.length > 0 ? 1 : 0;
    };
    const codeOn = ranges(RANGE_CODE, HookType.Code);
    const memRead = ranges(RANGE_READ, HookType.MemRead);
    const memWrite = ranges(RANGE_WRITE, HookType.MemWrite);
    const [blockOn, blockLo, blockHi] = span(HookType.Block);
    const memFetch = this.hooksOf<unknown>(HookType.MemFetch).length > 0 ? 1 : 0;
    // The core's hook state is a function of these alone (a restore re-marks the watched pages
    // itself): the same state again keeps the decoded code and skips the walk over every page.
    const key = `${codeOn},${blockOn},${blockLo},${blockHi},${memRead},${memWrite},${memFetch};` + plans.map(([k, m]) => `${k}:${m.map(([lo, hi]) => `${lo}-${hi}`).join(',')}`).join(';');
    if (key === this.hookKey) return;
    this.hookKey = null; // until the core holds the whole state
    for (const [kind, merged] of plans) {
      this.core.hookRangesClear(kind);
      for (const [lo, hi] of merged) this.core.hookRangeAdd(kind, U64(lo), U64(hi > (1n << 64n) - 1n ? (1n << 64n) - 1n : hi));
    }
    this.core.setHooks(codeOn, blockOn, blockLo, blockHi, memRead, memWrite, memFetch);
    this.hookKey = key;
  }

  /** The hook state the core holds (syncHooks), or null before the first. */
  private hookKey: string | null = null;

  private callCodeHooks(type: HookType, rip: bigint, size: number): void {
    for (const h of this.rangeHooksOf<CodeHook>(type)) {
      if (rip >= h.begin && rip <= h.end) h.callback(rip, size);
      if (this.stopRequested) return;
    }
  }

  private deliverMemHooks(): void {
    const n = this.core.memLogLength();
    if (n === 0) return;
    const view = new DataView(this.core.memory.buffer, this.core.memLog() >>> 0, n * 24);
    const entries: { access: Access; address: bigint; size: number; value: bigint }[] = [];
    for (let i = 0; i < n; i++) {
      entries.push({
        access: ACCESS_NAMES[view.getUint32(i * 24, true)] ?? 'read',
        size: view.getUint32(i * 24 + 4, true),
        address: view.getBigUint64(i * 24 + 8, true),
        value: view.getBigUint64(i * 24 + 16, true),
      });
    }
    this.core.clearMemLog();
    const typeOf = { read: HookType.MemRead, write: HookType.MemWrite, fetch: HookType.MemFetch } as const;
    // The accesses are delivered before the next instruction; inside the callbacks rip names
    // the instruction that made them, as Unicorn reports it.
    this.accessRip = U64(this.core.memAccessRip());
    try {
      for (const e of entries) {
        for (const h of this.rangeHooksOf<MemHook>(typeOf[e.access])) {
          if (e.address >= h.begin && e.address <= h.end) h.callback(e.access, e.address, e.size, e.value);
        }
      }
    } finally {
      this.accessRip = undefined;
    }
  }

  private callMemInvalid(fault: MemFault): boolean {
    let fixed = false;
    for (const h of this.hooksOf<MemInvalidHook>(HookType.MemInvalid)) fixed = h(fault) || fixed;
    return fixed;
  }

  private callInvalidInstruction(rip: bigint, bytes: Uint8Array): boolean {
    let fixed = false;
    for (const h of this.hooksOf<InvalidInstructionHook>(HookType.InvalidInstruction)) fixed = h(rip, bytes) || fixed;
    return fixed;
  }

  // ---- state --------------------------------------------------------------------------------

  saveContext(reuse?: CpuContext): CpuContext {
    this.checkOpen();
    const mem = this.bytes();
    const g = this.core.gprBase() >>> 0;
    const x = this.core.xmmBase() >>> 0;
    this.core.fpuStateSave();
    const f = this.core.fpuStateBase() >>> 0;
    const fpuSize = this.core.fpuStateSize();
    if (reuse !== undefined && reuse.engine === 'wasm' && 'gprs' in reuse) {
      const c = reuse as WasmContext;
      c.gprs.set(mem.subarray(g, g + 128));
      c.xmm.set(mem.subarray(x, x + 256));
      c.x87.set(mem.subarray(f, f + fpuSize));
      c.rip = U64(this.core.getRip());
      c.rflags = U64(this.core.getRflags());
      c.fsBase = U64(this.core.getFsBase());
      c.gsBase = U64(this.core.getGsBase());
      c.mxcsr = this.core.getMxcsr() >>> 0;
      return c;
    }
    const context: WasmContext = {
      engine: 'wasm',
      gprs: mem.slice(g, g + 128),
      xmm: mem.slice(x, x + 256),
      rip: U64(this.core.getRip()),
      rflags: U64(this.core.getRflags()),
      fsBase: U64(this.core.getFsBase()),
      gsBase: U64(this.core.getGsBase()),
      mxcsr: this.core.getMxcsr() >>> 0,
      x87: mem.slice(f, f + fpuSize),
    };
    return context;
  }

  restoreContext(context: CpuContext): void {
    this.checkOpen();
    if (context.engine !== 'wasm' || !('gprs' in context)) throw new EmulationError('ARG', 'restoreContext: context was not saved by a WasmEngine');
    const c = context as WasmContext;
    const mem = this.bytes();
    mem.set(c.gprs, this.core.gprBase() >>> 0);
    mem.set(c.xmm, this.core.xmmBase() >>> 0);
    this.core.setRip(c.rip);
    this.core.putRflags(c.rflags);
    this.core.setFsBase(c.fsBase);
    this.core.setGsBase(c.gsBase);
    this.core.setMxcsr(c.mxcsr);
    mem.set(c.x87, this.core.fpuStateBase() >>> 0);
    this.core.fpuStateLoad();
  }

  /**
   * Copy-on-write at page granularity: no bytes are copied now, a page is copied on its first write
   * afterwards. The core keeps one snapshot: taking a new one makes older ones unrestorable.
   */
  snapshot(): Snapshot {
    const context = this.saveContext() as WasmContext;
    if (!this.core.snapshotTake()) throw new EmulationError('NOMEM', 'snapshot: out of WebAssembly memory for the page list');
    const snap: WasmSnapshot = { engine: 'wasm', context, regions: this.regionList.all(), generation: ++this.snapshotGeneration };
    return snap;
  }

  restoreSnapshot(snapshot: Snapshot): void {
    this.checkOpen();
    if (snapshot.engine !== 'wasm' || !('generation' in snapshot)) throw new EmulationError('ARG', 'restoreSnapshot: snapshot was not taken by a WasmEngine');
    const s = snapshot as WasmSnapshot;
    if (s.generation !== this.snapshotGeneration) {
      throw new EmulationError('ARG', `restoreSnapshot: snapshot ${s.generation} was replaced by snapshot ${this.snapshotGeneration} (this engine keeps only the latest)`);
    }
    if (!this.core.snapshotRestore()) throw new EmulationError('INTERNAL', 'restoreSnapshot: the core holds no snapshot');
    this.regionList.replace(s.regions);
    this.restoreContext(s.context);
  }

  // ---- tracing ------------------------------------------------------------------------------

  enableTrace(capacity: number): void {
    this.checkOpen();
    if (!Number.isInteger(capacity) || capacity <= 0 || capacity > 1 << 26) throw new EmulationError('ARG', `enableTrace: bad capacity ${capacity}`);
    if (!this.core.enableTrace(capacity)) throw new EmulationError('NOMEM', `enableTrace: cannot allocate ${capacity} entries`);
  }

  disableTrace(): void {
    this.checkOpen();
    this.core.enableTrace(0);
  }

  readTrace(): TraceEntry[] {
    this.checkOpen();
    const cap = this.core.traceCapacity();
    if (cap === 0) return [];
    const total = U64(this.core.traceCount());
    const n = Number(total < BigInt(cap) ? total : BigInt(cap));
    const head = this.core.traceHead();
    const view = new DataView(this.core.memory.buffer, this.core.traceBuffer() >>> 0, cap * 16);
    const out: TraceEntry[] = [];
    for (let i = 0; i < n; i++) {
      const slot = (head - n + i + cap) % cap;
      out.push({ seq: Number(view.getBigUint64(slot * 16, true)), rip: view.getBigUint64(slot * 16 + 8, true) });
    }
    return out;
  }

  instructionsRetired(): number {
    this.checkOpen();
    return Number(U64(this.core.getRetired()));
  }

  // ---- outside the Engine interface ---------------------------------------------------------

  /** Decodes one instruction at the start of `bytes` without executing it. */
  probe(bytes: Uint8Array): ProbeResult {
    this.checkOpen();
    const n = Math.min(bytes.length, 15);
    this.bytes().set(bytes.subarray(0, n), this.core.ioBuffer() >>> 0);
    const r = this.core.probe(n);
    return { length: r & 0xff, supported: (r & 0x100) !== 0 };
  }

  close(): void {
    this.closed = true;
    this.hooks.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new EmulationError('ARG', 'the engine is closed');
  }
}
