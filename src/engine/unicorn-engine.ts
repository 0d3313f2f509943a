// UnicornEngine: the Engine contract on native Unicorn 2 (Debian libunicorn2) through koffi.
// Node only, reached only through a dynamic import (see index.ts) so browser bundles never see koffi.
// It is the oracle of the differential tests and the `--engine unicorn` option of the CLI.
//
// Cost note: Unicorn does not report how many instructions it retired, so a UC_HOOK_CODE
// callback into JS runs before every instruction (counting, `until`, breakpoints, user code
// hooks, trace). That costs roughly an order of magnitude of Unicorn's raw speed; bench/ measures it.
//
// `until` is decided by that hook too, never passed to uc_emu_start: Unicorn compiles its exit
// check into the block translated at (or through) the address, so a block translated earlier
// ignores a new `until`, and the exit block it leaves at `until` stays cached (it drops it with
// an invalidation of [until-1, until), which does nothing when until-1 is unmapped) and ends a
// later run there "for no reason".

import {
  EmulationError,
  HookType,
  Perm,
  type Access,
  type CodeHook,
  type CpuContext,
  type Engine,
  type X87State,
  type EngineErrorCode,
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
  type StopReason,
  type SyscallHook,
  type TraceEntry,
} from './engine.js';
import { hex } from '../hex.js';
import { cpuidLeaf } from './cpuid.js';

// ---- Unicorn constants (unicorn.h / x86.h of Unicorn 2.0) ----

const UC_ARCH_X86 = 4;
const UC_MODE_64 = 8;

const UC_ERR_NAMES = [
  'UC_ERR_OK', 'UC_ERR_NOMEM', 'UC_ERR_ARCH', 'UC_ERR_HANDLE', 'UC_ERR_MODE', 'UC_ERR_VERSION',
  'UC_ERR_READ_UNMAPPED', 'UC_ERR_WRITE_UNMAPPED', 'UC_ERR_FETCH_UNMAPPED', 'UC_ERR_HOOK',
  'UC_ERR_INSN_INVALID', 'UC_ERR_MAP', 'UC_ERR_WRITE_PROT', 'UC_ERR_READ_PROT', 'UC_ERR_FETCH_PROT',
  'UC_ERR_ARG', 'UC_ERR_READ_UNALIGNED', 'UC_ERR_WRITE_UNALIGNED', 'UC_ERR_FETCH_UNALIGNED',
  'UC_ERR_HOOK_EXIST', 'UC_ERR_RESOURCE', 'UC_ERR_EXCEPTION',
] as const;
const UC_ERR_OK = 0;
const UC_ERR_NOMEM = 1;
const UC_ERR_READ_UNMAPPED = 6;
const UC_ERR_WRITE_UNMAPPED = 7;
const UC_ERR_FETCH_UNMAPPED = 8;
const UC_ERR_HOOK = 9;
const UC_ERR_INSN_INVALID = 10;
const UC_ERR_MAP = 11;
const UC_ERR_WRITE_PROT = 12;
const UC_ERR_READ_PROT = 13;
const UC_ERR_FETCH_PROT = 14;
const UC_ERR_ARG = 15;

const UC_HOOK_INTR = 1 << 0;
const UC_HOOK_INSN = 1 << 1;
const UC_HOOK_CODE = 1 << 2;
const UC_HOOK_BLOCK = 1 << 3;
const UC_HOOK_MEM_READ = 1 << 10;
const UC_HOOK_MEM_WRITE = 1 << 11;
const UC_HOOK_INSN_INVALID = 1 << 14;
const UC_HOOK_MEM_INVALID = 0x3f0; // all *_UNMAPPED and *_PROT kinds

const UC_X86_INS_CPUID = 113;
const UC_X86_INS_SYSCALL = 699;
const UC_QUERY_TIMEOUT = 4;
const UC_CTL_CPU_MODEL_WRITE = 0x44000007; // UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1)
/**
 * Haswell: the default qemu64 model lacks popcnt/lzcnt/movbe/BMI that compiled code uses. What
 * `cpuid` reports is not the model's (Unicorn 2.0.1's Haswell leaf 1 lacks FPU and MMX, so
 * Debian's ld.so finds the CPU below the x86-64 baseline): a CPUID hook answers the wasm core's
 * model (cpuid.ts), so glibc picks the same code on both engines.
 */
const UC_CPU_X86_HASWELL = 19;
const UC_CTL_TB_REMOVE_CACHE_WRITE = 0x48000009; // UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2)

const UC_MEM_WRITE = 17;
const UC_MEM_FAULTS: Record<number, { kind: MemFault['kind']; access: Access }> = {
  19: { kind: 'unmapped', access: 'read' },
  20: { kind: 'unmapped', access: 'write' },
  21: { kind: 'unmapped', access: 'fetch' },
  22: { kind: 'protection', access: 'write' },
  23: { kind: 'protection', access: 'read' },
  24: { kind: 'protection', access: 'fetch' },
};

const UC_REG: Record<Register, number> = {
  rax: 35, rbp: 36, rbx: 37, rcx: 38, rdi: 39, rdx: 40, rip: 41, rsi: 43, rsp: 44,
  r8: 106, r9: 107, r10: 108, r11: 109, r12: 110, r13: 111, r14: 112, r15: 113,
  rflags: 253, fs_base: 250, gs_base: 251,
};
const UC_X86_REG_XMM0 = 122;
const UC_X86_REG_MXCSR = 249;
// x87 (unicorn/x86.h, Unicorn 2.0.1): FP0..FP7, status, control and tag word.
const UC_X86_REG_FP0 = 82;
const UC_X86_REG_FPSW = 31;
const UC_X86_REG_FPCW = 246;
const UC_X86_REG_FPTAG = 247;
/** What Linux gives a new process (all SSE exceptions masked); Unicorn starts with 0. */
const INITIAL_MXCSR = 0x1f80n;

/** IF and the always-one bit 1, as the wasm core and Linux start a process. */
const INITIAL_RFLAGS = 0x202n;

/** Never a canonical address: uc_emu_start's own `until` never triggers (see the header). */
const NO_UNTIL = 0xffff_ffff_ffff_ffffn;

// ---- The native binding: loaded once per process (koffi type names are global). ----

/* eslint-disable @typescript-eslint/no-explicit-any -- koffi's loose types stay in this file */
type NativeFn = (...args: any[]) => any;
interface KoffiModule {
  load(path: string): { func(definition: string): NativeFn };
  proto(definition: string): unknown;
  pointer(type: unknown): unknown;
  struct(name: string, def: Record<string, string>): unknown;
  array(type: unknown, length: number): unknown;
  register(callback: (...args: any[]) => any, type: unknown): unknown;
  unregister(callback: unknown): void;
  decode(pointer: unknown, type: unknown): any;
  view(pointer: unknown, length: number): ArrayBuffer;
}

interface UnicornBinding {
  koffi: KoffiModule;
  open: NativeFn;
  close: NativeFn;
  strerror: NativeFn;
  memMap: NativeFn;
  memUnmap: NativeFn;
  memProtect: NativeFn;
  memRegions: NativeFn;
  memRead: NativeFn;
  memWrite: NativeFn;
  regRead: NativeFn;
  regWrite: NativeFn;
  emuStart: NativeFn;
  emuStop: NativeFn;
  hookAdd: NativeFn;
  hookDel: NativeFn;
  query: NativeFn;
  ctl: NativeFn;
  free: NativeFn;
  contextAlloc: NativeFn;
  contextSave: NativeFn;
  contextRestore: NativeFn;
  contextFree: NativeFn;
  contextSize: NativeFn;
  /** Byte offset of QEMU's env->old_exception inside a saved context, found by calibrateOldException(). */
  oldExceptionOffset?: number | null;
  types: {
    code: unknown; intr: unknown; insnInvalid: unknown; syscall: unknown; cpuid: unknown; mem: unknown; memInvalid: unknown;
    region: unknown;
  };
}

const INSTALL_HINT =
  'the unicorn engine needs the native library libunicorn.so.2 and the npm package koffi: ' +
  'install them with `apt-get install libunicorn2` (Debian/Ubuntu) and `npm install koffi`, ' +
  'or use the default engine (--engine wasm)';

let bindingPromise: Promise<UnicornBinding> | undefined;

function loadBinding(): Promise<UnicornBinding> {
  bindingPromise ??= (async () => {
    let koffi: KoffiModule;
    try {
      const module = (await import('koffi')) as unknown as { default?: KoffiModule } & KoffiModule;
      koffi = module.default ?? module;
    } catch (error) {
      throw new EmulationError('UNAVAILABLE', `koffi could not be loaded (${String(error)}); ${INSTALL_HINT}`);
    }
    let lib: { func(definition: string): NativeFn };
    try {
      lib = koffi.load('libunicorn.so.2');
    } catch (error) {
      throw new EmulationError('UNAVAILABLE', `libunicorn.so.2 could not be loaded (${String(error)}); ${INSTALL_HINT}`);
    }
    const f = (definition: string): NativeFn => lib.func(definition);
    return {
      koffi,
      open: f('int uc_open(int arch, int mode, _Out_ void **uc)'),
      close: f('int uc_close(void *uc)'),
      strerror: f('const char *uc_strerror(int code)'),
      memMap: f('int uc_mem_map(void *uc, uint64_t address, size_t size, uint32_t perms)'),
      memUnmap: f('int uc_mem_unmap(void *uc, uint64_t address, size_t size)'),
      memProtect: f('int uc_mem_protect(void *uc, uint64_t address, size_t size, uint32_t perms)'),
      memRegions: f('int uc_mem_regions(void *uc, _Out_ void **regions, _Out_ uint32_t *count)'),
      memRead: f('int uc_mem_read(void *uc, uint64_t address, void *bytes, size_t size)'),
      memWrite: f('int uc_mem_write(void *uc, uint64_t address, const void *bytes, size_t size)'),
      regRead: f('int uc_reg_read(void *uc, int regid, void *value)'),
      regWrite: f('int uc_reg_write(void *uc, int regid, const void *value)'),
      emuStart: f('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
      emuStop: f('int uc_emu_stop(void *uc)'),
      hookAdd: f('int uc_hook_add(void *uc, void *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)'),
      hookDel: f('int uc_hook_del(void *uc, size_t hh)'),
      query: f('int uc_query(void *uc, int type, _Out_ size_t *result)'),
      ctl: f('int uc_ctl(void *uc, int control, ...)'),
      free: f('int uc_free(void *mem)'),
      contextAlloc: f('int uc_context_alloc(void *uc, _Out_ void **context)'),
      contextSave: f('int uc_context_save(void *uc, void *context)'),
      contextRestore: f('int uc_context_restore(void *uc, void *context)'),
      contextFree: f('int uc_context_free(void *context)'),
      contextSize: f('size_t uc_context_size(void *uc)'),
      types: {
        code: koffi.pointer(koffi.proto('void PatchsandboxUcCodeHook(void *uc, uint64_t address, uint32_t size, void *user)')),
        intr: koffi.pointer(koffi.proto('void PatchsandboxUcIntrHook(void *uc, uint32_t intno, void *user)')),
        insnInvalid: koffi.pointer(koffi.proto('bool PatchsandboxUcInsnInvalidHook(void *uc, void *user)')),
        syscall: koffi.pointer(koffi.proto('void PatchsandboxUcSyscallHook(void *uc, void *user)')),
        cpuid: koffi.pointer(koffi.proto('int PatchsandboxUcCpuidHook(void *uc, void *user)')),
        mem: koffi.pointer(
          koffi.proto('void PatchsandboxUcMemHook(void *uc, int type, uint64_t address, int size, int64_t value, void *user)'),
        ),
        memInvalid: koffi.pointer(
          koffi.proto('bool PatchsandboxUcMemInvalidHook(void *uc, int type, uint64_t address, int size, int64_t value, void *user)'),
        ),
        region: koffi.struct('PatchsandboxUcMemRegion', { begin: 'uint64_t', end: 'uint64_t', perms: 'uint32_t' }),
      },
    };
  })();
  // A failed load is retried next time (e.g. after the user installed the library).
  bindingPromise.catch(() => {
    bindingPromise = undefined;
  });
  return bindingPromise;
}

/** koffi hands 64-bit integers over as number when they fit, else bigint, and uint64_t callback arguments as signed. */
function big(value: number | bigint): bigint {
  return BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(value));
}

function errorCodeFor(ucErr: number): EngineErrorCode {
  switch (ucErr) {
    case UC_ERR_ARG: return 'ARG';
    case UC_ERR_MAP: return 'MAP';
    case UC_ERR_NOMEM: return 'NOMEM';
    case UC_ERR_READ_UNMAPPED: return 'READ_UNMAPPED';
    case UC_ERR_WRITE_UNMAPPED: return 'WRITE_UNMAPPED';
    case UC_ERR_HOOK: return 'HOOK';
    default: return 'INTERNAL';
  }
}

interface UnicornCpuContext extends CpuContext {
  readonly engine: 'unicorn';
  readonly owner: UnicornEngine;
  readonly pointer: unknown;
}

interface UnicornSnapshot extends Snapshot {
  readonly engine: 'unicorn';
  readonly owner: UnicornEngine;
  readonly context: UnicornCpuContext;
  readonly regions: readonly { region: MemRegion; bytes: Uint8Array }[];
}

/** A user hook as kept on the JS side; `native` is set when it owns a Unicorn hook of its own. */
interface UserHook {
  id: number;
  spec: HookSpec;
  native?: { handle: bigint; callback: unknown };
}

/** Why the current uc_emu_start stopped, as decided by our own callbacks. */
interface PendingStop {
  reason: StopReason;
  fault?: MemFault;
  interrupt?: number;
}

export class UnicornEngine implements Engine {
  readonly name = 'unicorn' as const;

  private readonly scratch = new BigUint64Array(1);
  private readonly nativeCallbacks: unknown[] = [];
  private readonly userHooks = new Map<number, UserHook>();
  private codeHooks: UserHook[] = [];
  private fetchHooks: UserHook[] = [];
  /** Callbacks of hooks removed while Unicorn runs: released after uc_emu_start returns. */
  private releaseAfterRun: unknown[] = [];
  private running = false;
  private syscallHooks: SyscallHook[] = [];
  private interruptHooks: InterruptHook[] = [];
  private memInvalidHooks: MemInvalidHook[] = [];
  private invalidInstructionHooks: InvalidInstructionHook[] = [];
  private nextHookId = 1;
  private breakpoints = new Set<bigint>();
  /** Pages (address >> 12) that instructions ran from since their last host write: they may hold translated code. */
  private readonly executedPages = new Set<number>();
  private lastExecutedPage = -1;
  private closed = false;
  private memoryLimit = 0;
  private mappedBytes = 0;

  // State of the current start() call, written by the native callbacks.
  private pending: PendingStop | undefined;
  private retired = 0; // in the current uc_emu_start segment
  private monitor: RunMonitor | null = null;
  private monitorAt = 0;
  /** Address of the last counted instruction, as koffi passed it (see lastCountedAddress). */
  private lastHookAddress: number | bigint = -1;
  /**
   * The last counted instruction's address across segments (koffi's form), for the rep-string
   * exit check (see isRepExit); forgotten when the host moves rip or switches contexts.
   */
  private previousRetired: number | bigint = -1;
  /** Per address: the count register's width of a rep-prefixed string instruction there (0: none). */
  private readonly repWidth = new Map<number | bigint, 0 | 4 | 8>();
  private firstInSegment = true;
  private stopRequested = false;
  private inCodeHook = false;
  private exceptionScratch: unknown;
  private segmentBudget = 0; // instructions this segment may retire (0: no limit)
  /** options.until of the current start(), or undefined. */
  private until: bigint | undefined;
  /** `until` as koffi hands such an address to the code hook when it fits a number (uint64 comes as signed), else NaN. */
  private untilNumber = Number.NaN;

  private totalRetired = 0; // since creation, for TraceEntry.seq
  private traceCapacity = 0;
  private traceRips = new BigUint64Array(0);
  private traceSeqs = new Float64Array(0);
  private traceNext = 0;
  private traceLength = 0;

  private readonly contextRegistry = new FinalizationRegistry<unknown>((pointer) => {
    this.binding.contextFree(pointer);
  });

  private constructor(
    private readonly binding: UnicornBinding,
    private readonly uc: unknown,
  ) {
    this.installDispatchHooks();
  }

  /** Opens a fresh x86-64 Unicorn instance; throws EmulationError('UNAVAILABLE') when libunicorn or koffi is missing. */
  static async create(): Promise<UnicornEngine> {
    const binding = await loadBinding();
    if (binding.oldExceptionOffset === undefined) binding.oldExceptionOffset = calibrateOldException(binding);
    const handle: unknown[] = [null];
    const err = binding.open(UC_ARCH_X86, UC_MODE_64, handle) as number;
    if (err !== UC_ERR_OK) throw new EmulationError(errorCodeFor(err), `uc_open failed: ${describeUcErr(binding, err)}`);
    const modelErr = binding.ctl(handle[0], UC_CTL_CPU_MODEL_WRITE, 'int', UC_CPU_X86_HASWELL) as number;
    if (modelErr !== UC_ERR_OK) {
      binding.close(handle[0]);
      throw new EmulationError('INTERNAL', `selecting the Haswell CPU model failed: ${describeUcErr(binding, modelErr)}`);
    }
    const engine = new UnicornEngine(binding, handle[0]);
    engine.scratch[0] = INITIAL_MXCSR;
    engine.check(binding.regWrite(engine.uc, UC_X86_REG_MXCSR, engine.scratch), 'set mxcsr');
    // Linux starts a process with the x87 as after fninit; Unicorn starts with control word 0 and no register empty.
    engine.scratch[0] = 0x37fn;
    engine.check(binding.regWrite(engine.uc, UC_X86_REG_FPCW, engine.scratch), 'set fpcw');
    engine.scratch[0] = 0xffffn;
    engine.check(binding.regWrite(engine.uc, UC_X86_REG_FPTAG, engine.scratch), 'set fptag');
    // User space always runs with interrupts enabled (pushf shows IF); Unicorn starts with IF = 0.
    engine.writeRegister('rflags', INITIAL_RFLAGS);
    return engine;
  }

  // ---- Memory ----

  /**
   * Unicorn commits what is mapped (QEMU RAM blocks; a snapshot reads them whole), so here the
   * limit bounds mapped bytes: a map beyond it throws MEMORY_LIMIT, where the wasm core, which
   * maps lazily, would let an untouched reservation pass.
   */
  setMemoryLimit(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new EmulationError('ARG', `setMemoryLimit: bad size ${bytes}`);
    this.memoryLimit = bytes;
  }

  map(address: bigint, size: number, perms: Perm): void {
    if (this.memoryLimit > 0 && this.mappedBytes + size > this.memoryLimit) {
      throw new EmulationError('MEMORY_LIMIT', `map ${hex(address)}+${hex(size)}: the guest exceeded the memory limit of ${this.memoryLimit} bytes (mapped on this engine)`);
    }
    this.check(this.binding.memMap(this.uc, address, size, perms), `map ${hex(address)}+${hex(size)}`);
    this.mappedBytes += size;
  }

  unmap(address: bigint, size: number): void {
    this.check(this.binding.memUnmap(this.uc, address, size), `unmap ${hex(address)}+${hex(size)}`);
    this.mappedBytes -= size;
  }

  protect(address: bigint, size: number, perms: Perm): void {
    this.check(this.binding.memProtect(this.uc, address, size, perms), `protect ${hex(address)}+${hex(size)}`);
    // Unicorn keeps running translated blocks of a page that lost exec permission: drop them.
    if ((perms & Perm.Exec) === 0) this.dropTranslations(address, BigInt(size));
  }

  regions(): MemRegion[] {
    const pointer: unknown[] = [null];
    const count = [0];
    this.check(this.binding.memRegions(this.uc, pointer, count), 'regions');
    if (count[0] === 0 || pointer[0] === null) return [];
    const raw = this.binding.koffi.decode(pointer[0], this.binding.koffi.array(this.binding.types.region, count[0])) as {
      begin: number | bigint;
      end: number | bigint;
      perms: number;
    }[];
    this.binding.free(pointer[0]);
    return raw
      .map((r) => ({ begin: big(r.begin), end: big(r.end) + 1n, perms: r.perms as Perm }))
      .sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : 0));
  }

  readMemory(address: bigint, size: number): Uint8Array {
    const bytes = new Uint8Array(size);
    if (size === 0) return bytes;
    this.check(this.binding.memRead(this.uc, address, bytes, size), `read ${hex(address)}+${hex(size)}`);
    return bytes;
  }

  writeMemory(address: bigint, data: Uint8Array): void {
    if (data.length === 0) return;
    this.check(this.binding.memWrite(this.uc, address, data, data.length), `write ${hex(address)}+${hex(data.length)}`);
    // Unicorn keeps translated blocks across host writes. Drop them, but only on pages that ran:
    // uc_ctl_remove_cache is not free, and in Unicorn 2.0.1 thousands of calls can abort the
    // process ("tcg fatal error"), so loading code that has not run yet must not call it.
    this.dropTranslations(address, BigInt(data.length));
  }

  /** Drops Unicorn's translated blocks in [address, address+size) if code ran there since the last drop. */
  private dropTranslations(address: bigint, size: bigint): void {
    if (size <= 0n) return;
    const firstPage = Number(address >> 12n);
    const lastPage = Number((address + size - 1n) >> 12n);
    let ran = false;
    for (let page = firstPage; page <= lastPage; page++) if (this.executedPages.delete(page)) ran = true;
    if (!ran) return;
    this.lastExecutedPage = -1;
    this.repWidth.clear();
    this.check(this.binding.ctl(this.uc, UC_CTL_TB_REMOVE_CACHE_WRITE, 'uint64_t', address, 'uint64_t', address + size), 'drop translated code');
  }

  // ---- Registers ----

  readRegister(reg: Register): bigint {
    const id = UC_REG[reg];
    if (id === undefined) throw new EmulationError('ARG', `unknown register ${String(reg)}`);
    this.check(this.binding.regRead(this.uc, id, this.scratch), `read register ${reg}`);
    return this.scratch[0]!;
  }

  writeRegister(reg: Register, value: bigint): void {
    if (reg === 'rip') this.previousRetired = -1;
    const id = UC_REG[reg];
    if (id === undefined) throw new EmulationError('ARG', `unknown register ${String(reg)}`);
    this.scratch[0] = BigInt.asUintN(64, value);
    this.check(this.binding.regWrite(this.uc, id, this.scratch), `write register ${reg}`);
  }

  readXmm(index: number): Uint8Array {
    checkXmmIndex(index);
    const bytes = new Uint8Array(16);
    this.check(this.binding.regRead(this.uc, UC_X86_REG_XMM0 + index, bytes), `read xmm${index}`);
    return bytes;
  }

  readX87(): X87State {
    const word = (id: number, what: string): number => {
      this.scratch[0] = 0n;
      this.check(this.binding.regRead(this.uc, id, this.scratch), `read ${what}`);
      return Number(this.scratch[0]! & 0xffffn);
    };
    const fsw = word(UC_X86_REG_FPSW, 'fpsw');
    // FP0..FP7 are the physical registers R0..R7: ST(i) is R[(TOP + i) & 7].
    const top = (fsw >> 11) & 7;
    const st = Array.from({ length: 8 }, (_, i) => {
      const r = (top + i) & 7;
      const bytes = new Uint8Array(16); // the 10-byte value; Unicorn may write up to 16
      this.check(this.binding.regRead(this.uc, UC_X86_REG_FP0 + r, bytes), `read fp${r}`);
      return bytes.slice(0, 10);
    });
    return { st, fcw: word(UC_X86_REG_FPCW, 'fpcw'), fsw, ftw: word(UC_X86_REG_FPTAG, 'fptag') };
  }

  writeXmm(index: number, value: Uint8Array): void {
    checkXmmIndex(index);
    if (value.length !== 16) throw new EmulationError('ARG', `xmm${index} takes 16 bytes, got ${value.length}`);
    this.check(this.binding.regWrite(this.uc, UC_X86_REG_XMM0 + index, Uint8Array.from(value)), `write xmm${index}`);
  }

  // ---- Execution ----

  start(begin: bigint, options: StartOptions = {}): RunResult {
    this.assertOpen();
    const until = options.until;
    const countLimit = options.count ?? 0;
    if (countLimit < 0 || !Number.isInteger(countLimit)) throw new EmulationError('ARG', `count must be a non-negative integer, got ${countLimit}`);
    const deadline = options.timeoutMs !== undefined ? performance.now() + options.timeoutMs : undefined;
    let instructions = 0;
    let rip = begin;

    // One start() may take several uc_emu_start segments: a host hook can fix an invalid
    // instruction or handle hlt/ud2, and execution then resumes where it stopped.
    for (;;) {
      const remaining = countLimit > 0 ? countLimit - instructions : 0;
      if (countLimit > 0 && remaining <= 0) return this.result('count', instructions);
      let timeoutMicros = 0n;
      if (deadline !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) return this.result('timeout', instructions);
        timeoutMicros = BigInt(Math.max(1, Math.ceil(left * 1000)));
      }
      this.pending = undefined;
      this.retired = 0;
      this.lastHookAddress = -1;
      this.firstInSegment = true;
      this.stopRequested = false;
      // The count is enforced by our code hook, not by uc_emu_start's: Unicorn's own counter
      // swallows a #DE raised by the last counted instruction.
      this.segmentBudget = remaining;
      this.until = until;
      this.untilNumber = untilAsHookNumber(until);
      this.running = true;
      let err: number;
      try {
        err = this.binding.emuStart(this.uc, rip, NO_UNTIL, timeoutMicros, 0) as number;
      } finally {
        this.running = false;
        for (const callback of this.releaseAfterRun) this.binding.koffi.unregister(callback);
        this.releaseAfterRun = [];
      }
      rip = this.readRegister('rip');
      const outcome = this.classify(err, rip, remaining);
      instructions += this.retired;
      this.totalRetired += this.retired;
      if (outcome.resume) continue;
      return this.result(outcome.stop.reason, instructions, outcome.stop);
    }
  }

  stop(): void {
    this.stopRequested = true;
    this.pending ??= { reason: 'stopped' };
    // From a code hook Unicorn stops before the instruction. Elsewhere (memory, block, syscall
    // hooks) an immediate uc_emu_stop can leave rip at the instruction that already ran, so the
    // next instruction's code hook stops instead, with rip in sync.
    if (this.inCodeHook) this.binding.emuStop(this.uc);
  }

  setBreakpoints(addresses: readonly bigint[]): void {
    this.breakpoints = new Set(addresses.map((a) => BigInt.asUintN(64, a)));
  }

  addBreakpoint(address: bigint): void {
    this.breakpoints.add(BigInt.asUintN(64, address));
  }

  removeBreakpoint(address: bigint): void {
    this.breakpoints.delete(BigInt.asUintN(64, address));
  }

  // ---- Hooks ----

  addHook(spec: HookSpec): HookHandle {
    this.assertOpen();
    const hook: UserHook = { id: this.nextHookId++, spec };
    switch (spec.type) {
      case HookType.Code:
        this.codeHooks = [...this.codeHooks, hook];
        break;
      case HookType.Block: {
        const callback = spec.callback;
        hook.native = this.addNativeHook(
          UC_HOOK_BLOCK,
          this.binding.types.code,
          (_uc: unknown, address: number | bigint, size: number) => callback(big(address), size),
          spec.begin,
          spec.end,
        );
        break;
      }
      case HookType.MemFetch:
        // Unicorn 2.0.1 accepts UC_HOOK_MEM_FETCH but never calls it: fetches are reported
        // from the per-instruction hook instead (one per instruction, its whole length).
        this.fetchHooks = [...this.fetchHooks, hook];
        break;
      case HookType.MemRead:
      case HookType.MemWrite: {
        const callback: MemHook = spec.callback;
        const ucType = spec.type === HookType.MemRead ? UC_HOOK_MEM_READ : UC_HOOK_MEM_WRITE;
        hook.native = this.addNativeHook(
          ucType,
          this.binding.types.mem,
          (_uc: unknown, type: number, address: number | bigint, size: number, value: number | bigint) => {
            const access: Access = type === UC_MEM_WRITE ? 'write' : 'read';
            callback(access, big(address), size, BigInt.asUintN(64, big(value)));
          },
          spec.begin,
          spec.end,
        );
        break;
      }
      case HookType.MemInvalid:
        this.memInvalidHooks = [...this.memInvalidHooks, spec.callback];
        break;
      case HookType.Syscall:
        this.syscallHooks = [...this.syscallHooks, spec.callback];
        break;
      case HookType.Interrupt:
        this.interruptHooks = [...this.interruptHooks, spec.callback];
        break;
      case HookType.InvalidInstruction:
        this.invalidInstructionHooks = [...this.invalidInstructionHooks, spec.callback];
        break;
      default:
        throw new EmulationError('HOOK', `unknown hook type ${String((spec as { type: unknown }).type)}`);
    }
    this.userHooks.set(hook.id, hook);
    return { id: hook.id };
  }

  removeHook(handle: HookHandle): void {
    const hook = this.userHooks.get(handle.id);
    if (!hook) throw new EmulationError('HOOK', `no hook with id ${handle.id} (already removed?)`);
    this.userHooks.delete(handle.id);
    if (hook.native) {
      this.check(this.binding.hookDel(this.uc, hook.native.handle), 'remove hook');
      // a hook may remove itself from inside its callback: keep the trampoline until the run ends
      if (this.running) this.releaseAfterRun.push(hook.native.callback);
      else this.binding.koffi.unregister(hook.native.callback);
    }
    const spec = hook.spec;
    switch (spec.type) {
      case HookType.Code:
        this.codeHooks = this.codeHooks.filter((h) => h !== hook);
        break;
      case HookType.MemFetch:
        this.fetchHooks = this.fetchHooks.filter((h) => h !== hook);
        break;
      case HookType.MemInvalid:
        this.memInvalidHooks = this.memInvalidHooks.filter((cb) => cb !== spec.callback);
        break;
      case HookType.Syscall:
        this.syscallHooks = this.syscallHooks.filter((cb) => cb !== spec.callback);
        break;
      case HookType.Interrupt:
        this.interruptHooks = this.interruptHooks.filter((cb) => cb !== spec.callback);
        break;
      case HookType.InvalidInstruction:
        this.invalidInstructionHooks = this.invalidInstructionHooks.filter((cb) => cb !== spec.callback);
        break;
      default:
        break;
    }
  }

  // ---- State ----

  saveContext(reuse?: CpuContext): CpuContext {
    this.assertOpen();
    if (reuse !== undefined) {
      // One uc_context per thread, saved into at every switch: no allocation, nothing to finalize.
      const own = this.ownContext(reuse);
      this.check(this.binding.contextSave(this.uc, own.pointer), 'save context');
      return own;
    }
    const out: unknown[] = [null];
    this.check(this.binding.contextAlloc(this.uc, out), 'allocate context');
    const pointer = out[0];
    this.check(this.binding.contextSave(this.uc, pointer), 'save context');
    const context: UnicornCpuContext = { engine: 'unicorn', owner: this, pointer };
    this.contextRegistry.register(context, pointer);
    return context;
  }

  restoreContext(context: CpuContext): void {
    const own = this.ownContext(context);
    this.previousRetired = -1;
    this.check(this.binding.contextRestore(this.uc, own.pointer), 'restore context');
  }

  snapshot(): Snapshot {
    const context = this.saveContext() as UnicornCpuContext;
    const regions = this.regions().map((region) => ({
      region,
      bytes: this.readMemory(region.begin, Number(region.end - region.begin)),
    }));
    const snapshot: UnicornSnapshot = { engine: 'unicorn', owner: this, context, regions };
    return snapshot;
  }

  restoreSnapshot(snapshot: Snapshot): void {
    const own = snapshot as Partial<UnicornSnapshot>;
    if (own.engine !== 'unicorn' || own.owner !== this || !own.context || !own.regions) {
      throw new EmulationError('ARG', 'snapshot was not taken by this UnicornEngine');
    }
    for (const region of this.regions()) this.unmap(region.begin, Number(region.end - region.begin));
    for (const { region, bytes } of own.regions) {
      this.map(region.begin, bytes.length, region.perms);
      this.writeMemory(region.begin, bytes);
    }
    // writeMemory dropped the translated blocks of the old contents (a full TB flush costs ~2 s).
    this.restoreContext(own.context);
  }

  // ---- Tracing ----

  enableTrace(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new EmulationError('ARG', `trace capacity must be a positive integer, got ${capacity}`);
    this.traceCapacity = capacity;
    this.traceRips = new BigUint64Array(capacity);
    this.traceSeqs = new Float64Array(capacity);
    this.traceNext = 0;
    this.traceLength = 0;
  }

  disableTrace(): void {
    this.traceCapacity = 0;
    this.traceLength = 0;
    this.traceNext = 0;
  }

  instructionsRetired(): number {
    return this.totalRetired + (this.running ? this.retired : 0);
  }

  setMonitor(monitor: RunMonitor | null): void {
    this.monitor = monitor;
    this.monitorAt = monitor ? this.instructionsRetired() + monitor.everyInstructions : 0;
  }

  readTrace(): TraceEntry[] {
    const entries: TraceEntry[] = [];
    const first = (this.traceNext - this.traceLength + this.traceCapacity) % Math.max(1, this.traceCapacity);
    for (let i = 0; i < this.traceLength; i++) {
      const slot = (first + i) % this.traceCapacity;
      entries.push({ seq: this.traceSeqs[slot]!, rip: this.traceRips[slot]! });
    }
    return entries;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const hook of this.userHooks.values()) {
      if (hook.native) this.binding.koffi.unregister(hook.native.callback);
    }
    this.userHooks.clear();
    // uc_close detaches saved contexts from the engine, so freeing them later stays safe.
    this.binding.close(this.uc);
    for (const callback of this.nativeCallbacks) this.binding.koffi.unregister(callback);
    this.nativeCallbacks.length = 0;
  }

  // ---- Internals ----

  /** The Unicorn hooks every engine has: counting/breakpoints/code hooks, interrupts, syscalls, faults. */
  private installDispatchHooks(): void {
    const b = this.binding;
    const code = b.koffi.register((_uc: unknown, address: number | bigint, size: number) => {
      // The hot path: stay on plain numbers (koffi passes addresses below 2^53 as numbers).
      const page = typeof address === 'number' && address >= 0 ? Math.floor(address / 4096) : Number(big(address) >> 12n);
      if (page !== this.lastExecutedPage) {
        this.lastExecutedPage = page;
        this.executedPages.add(page);
      }
      this.onInstruction(address, size);
    }, b.types.code);
    const intr = b.koffi.register((_uc: unknown, intno: number) => this.onInterrupt(intno), b.types.intr);
    const invalid = b.koffi.register(() => false, b.types.insnInvalid); // resolved in classify()
    const syscall = b.koffi.register(() => this.onSyscall(), b.types.syscall);
    const memInvalid = b.koffi.register(
      (_uc: unknown, type: number, address: number | bigint, size: number) => this.onMemInvalid(type, big(address), size),
      b.types.memInvalid,
    );
    const cpuid = b.koffi.register(() => this.onCpuid(), b.types.cpuid);
    this.nativeCallbacks.push(code, intr, invalid, syscall, memInvalid, cpuid);
    const hh = new BigUint64Array(1);
    const add = (type: number, callback: unknown, ...extra: unknown[]): void => {
      this.check(b.hookAdd(this.uc, hh, type, callback, null, 1n, 0n, ...extra), 'install dispatch hook');
    };
    add(UC_HOOK_CODE, code);
    add(UC_HOOK_INTR, intr);
    add(UC_HOOK_INSN_INVALID, invalid);
    add(UC_HOOK_INSN, syscall, 'int', UC_X86_INS_SYSCALL);
    add(UC_HOOK_INSN, cpuid, 'int', UC_X86_INS_CPUID);
    add(UC_HOOK_MEM_INVALID, memInvalid);
  }

  private addNativeHook(
    type: number,
    callbackType: unknown,
    callback: (...args: any[]) => void,
    begin: bigint | undefined,
    end: bigint | undefined,
  ): { handle: bigint; callback: unknown } {
    const registered = this.binding.koffi.register(callback, callbackType);
    const hh = new BigUint64Array(1);
    // Unicorn: begin > end means "everywhere".
    const err = this.binding.hookAdd(this.uc, hh, type, registered, null, begin ?? 1n, end ?? 0n) as number;
    if (err !== UC_ERR_OK) {
      this.binding.koffi.unregister(registered);
      this.check(err, 'add hook');
    }
    return { handle: hh[0]!, callback: registered };
  }

  /** Runs before every instruction. Stopping here (uc_emu_stop) keeps the instruction from executing. */
  private onInstruction(rawAddress: number | bigint, size: number): void {
    // QEMU's rep loop calls the hook once more after the last iteration, to see rcx = 0 and
    // leave: that is no instruction (the core, like the CPU, goes on after the last one).
    if (rawAddress === this.previousRetired && this.isRepExit(rawAddress)) return;
    // stop() was called from a memory, block, syscall or interrupt hook: stop here, rip in sync
    if (this.stopRequested) {
      this.binding.emuStop(this.uc);
      return;
    }
    // Order as in WasmEngine: a spent budget, then `until` (even at the start address), then breakpoints.
    if (this.segmentBudget > 0 && this.retired >= this.segmentBudget) {
      this.pending ??= { reason: 'count' };
      this.binding.emuStop(this.uc);
      return;
    }
    if (this.until !== undefined
      && (rawAddress === this.untilNumber || (typeof rawAddress === 'bigint' && big(rawAddress) === this.until))) {
      this.pending ??= { reason: 'until' };
      this.binding.emuStop(this.uc);
      return;
    }
    // A breakpoint at the address a segment starts from does not fire: the host resumes from it.
    if (!this.firstInSegment && this.breakpoints.size > 0 && this.breakpoints.has(big(rawAddress))) {
      this.pending ??= { reason: 'breakpoint' };
      this.binding.emuStop(this.uc);
      return;
    }
    this.firstInSegment = false;
    const address = this.codeHooks.length > 0 || this.fetchHooks.length > 0 || this.traceCapacity > 0 ? big(rawAddress) : 0n;
    for (const hook of this.fetchHooks) {
      const spec = hook.spec as { begin?: bigint; end?: bigint; callback: MemHook };
      if (spec.begin !== undefined && address < spec.begin) continue;
      if (spec.end !== undefined && address > spec.end) continue;
      this.inCodeHook = true;
      try {
        spec.callback('fetch', address, size, 0n);
      } finally {
        this.inCodeHook = false;
      }
      if (this.stopRequested) return;
    }
    for (const hook of this.codeHooks) {
      const spec = hook.spec as { begin?: bigint; end?: bigint; callback: CodeHook };
      if (spec.begin !== undefined && address < spec.begin) continue;
      if (spec.end !== undefined && address > spec.end) continue;
      this.inCodeHook = true;
      try {
        (spec.callback as CodeHook)(address, size);
      } finally {
        this.inCodeHook = false;
      }
      if (this.stopRequested) return; // stopped before this instruction ran
    }
    this.retired++;
    this.lastHookAddress = rawAddress;
    this.previousRetired = rawAddress;
    if (this.monitor && this.totalRetired + this.retired >= this.monitorAt) {
      this.monitorAt = this.totalRetired + this.retired + this.monitor.everyInstructions;
      if (this.monitor.callback(this.totalRetired + this.retired) === false) {
        // Ends the run before the next instruction, as a deadline would.
        this.pending ??= { reason: 'timeout' };
        this.stopRequested = true;
      }
    }
    if (this.traceCapacity > 0) {
      this.traceRips[this.traceNext] = address;
      this.traceSeqs[this.traceNext] = this.totalRetired + this.retired - 1;
      this.traceNext = (this.traceNext + 1) % this.traceCapacity;
      if (this.traceLength < this.traceCapacity) this.traceLength++;
    }
  }

  /** Whether the instruction at `rawAddress` is a rep-prefixed string instruction whose count register is 0. */
  private isRepExit(rawAddress: number | bigint): boolean {
    let width = this.repWidth.get(rawAddress);
    if (width === undefined) {
      width = repStringCountWidth(this.readUpTo(big(rawAddress), 15));
      this.repWidth.set(rawAddress, width);
    }
    if (width === 0) return false;
    const rcx = this.readRegister('rcx');
    return (width === 8 ? rcx : rcx & 0xffff_ffffn) === 0n;
  }

  private lastCountedAddress(): bigint | undefined {
    return this.lastHookAddress === -1 ? undefined : big(this.lastHookAddress);
  }

  /** The last counted instruction did not retire (it faulted): take it back. */
  private uncountLast(): void {
    this.retired--;
    if (this.traceCapacity > 0 && this.traceLength > 0) {
      this.traceNext = (this.traceNext - 1 + this.traceCapacity) % this.traceCapacity;
      this.traceLength--;
    }
  }

  private onInterrupt(intno: number): void {
    if (intno === 0) {
      this.pending ??= { reason: 'divide-error' };
      this.binding.emuStop(this.uc);
      return;
    }
    for (const hook of this.interruptHooks) if (hook(intno)) return;
    this.pending ??= { reason: 'interrupt', interrupt: intno };
    this.binding.emuStop(this.uc);
  }

  /** Answers `cpuid` with the model both engines share; returning 1 skips QEMU's own answer. */
  private onCpuid(): number {
    const [eax, ebx, ecx, edx] = cpuidLeaf(Number(this.readRegister('rax') & 0xffff_ffffn));
    this.writeRegister('rax', BigInt(eax));
    this.writeRegister('rbx', BigInt(ebx));
    this.writeRegister('rcx', BigInt(ecx));
    this.writeRegister('rdx', BigInt(edx));
    return 1;
  }

  private onSyscall(): void {
    if (this.syscallHooks.length > 0) {
      for (const hook of this.syscallHooks) hook();
      return;
    }
    this.pending ??= { reason: 'syscall' };
    this.binding.emuStop(this.uc);
  }

  private onMemInvalid(type: number, address: bigint, size: number): boolean {
    const what = UC_MEM_FAULTS[type];
    if (!what) return false;
    const fault: MemFault = { kind: what.kind, access: what.access, address, size };
    for (const hook of this.memInvalidHooks) if (hook(fault)) return true;
    this.pending ??= { reason: 'fault', fault };
    return false;
  }

  /** Turns how a uc_emu_start segment ended into a stop, or into "resume from rip". */
  private classify(
    err: number,
    rip: bigint,
    countLimit: number,
  ): { resume: true } | { resume: false; stop: PendingStop & { rip: bigint; bytes?: Uint8Array } } {
    const pending = this.pending;
    const executedHere = this.lastCountedAddress() === rip;
    const stopAt = (stop: PendingStop): { resume: false; stop: PendingStop & { rip: bigint } } => ({ resume: false, stop: { ...stop, rip } });

    // The budget ran out and the next instruction could not even be fetched: that is still 'count'.
    if (countLimit > 0 && this.retired >= countLimit && !executedHere
      && (err === UC_ERR_FETCH_UNMAPPED || err === UC_ERR_FETCH_PROT || err === UC_ERR_INSN_INVALID)) {
      return stopAt({ reason: 'count' });
    }
    if (pending?.reason === 'fault' || err === UC_ERR_READ_UNMAPPED || err === UC_ERR_WRITE_UNMAPPED || err === UC_ERR_FETCH_UNMAPPED
      || err === UC_ERR_READ_PROT || err === UC_ERR_WRITE_PROT || err === UC_ERR_FETCH_PROT) {
      if (executedHere) this.uncountLast();
      const fault = pending?.fault ?? faultFromError(err, rip);
      return stopAt({ reason: 'fault', fault });
    }
    if (pending?.reason === 'divide-error') {
      if (executedHere) this.uncountLast();
      this.forgetException();
      return stopAt(pending);
    }
    if (err === UC_ERR_INSN_INVALID) {
      if (executedHere) this.uncountLast();
      const bytes = this.readUpTo(rip, 15);
      if (bytes[0] === 0x0f && bytes[1] === 0x0b) {
        // ud2 is #UD by design, reported as interrupt 6 like the real kernel's SIGILL path.
        for (const hook of this.interruptHooks) {
          if (hook(6)) {
            if (this.readRegister('rip') === rip) this.writeRegister('rip', rip + 2n);
            return { resume: true };
          }
        }
        return stopAt({ reason: 'interrupt', interrupt: 6 });
      }
      for (const hook of this.invalidInstructionHooks) if (hook(rip, bytes)) return { resume: true };
      return { resume: false, stop: { reason: 'invalid-instruction', rip, bytes } };
    }
    if (err !== UC_ERR_OK) {
      throw new EmulationError(errorCodeFor(err), `emulation failed at ${hex(rip)}: ${describeUcErr(this.binding, err)}`);
    }
    if (pending) return stopAt(pending);
    if (countLimit > 0 && this.retired >= countLimit) return stopAt({ reason: 'count' });
    if (this.timedOut()) return stopAt({ reason: 'timeout' });
    // Unicorn ends quietly after hlt, with rip past it.
    if (this.lastCountedAddress() === rip - 1n && this.readUpTo(rip - 1n, 1)[0] === 0xf4) {
      for (const hook of this.interruptHooks) if (hook(0xf4)) return { resume: true };
      return stopAt({ reason: 'interrupt', interrupt: 0xf4 });
    }
    throw new EmulationError('INTERNAL', `unicorn stopped at ${hex(rip)} for no known reason`);
  }

  /**
   * Unicorn hands #DE to our hook without delivering it, so QEMU still believes the exception is
   * in flight (env->old_exception = 0) and the next #DE becomes a double fault (interrupt 8).
   * Reset that field in a saved context and restore it.
   */
  private forgetException(): void {
    const offset = this.binding.oldExceptionOffset;
    if (offset === undefined || offset === null) return;
    this.exceptionScratch ??= this.allocContext();
    this.check(this.binding.contextSave(this.uc, this.exceptionScratch), 'save context');
    const size = Number(this.binding.contextSize(this.uc));
    new DataView(this.binding.koffi.view(this.exceptionScratch, size)).setInt32(offset, -1, true);
    this.check(this.binding.contextRestore(this.uc, this.exceptionScratch), 'restore context');
  }

  private allocContext(): unknown {
    const out: unknown[] = [null];
    this.check(this.binding.contextAlloc(this.uc, out), 'allocate context');
    return out[0];
  }

  private timedOut(): boolean {
    const out = [0];
    this.check(this.binding.query(this.uc, UC_QUERY_TIMEOUT, out), 'query timeout');
    return Number(out[0]) !== 0;
  }

  private readUpTo(address: bigint, size: number): Uint8Array {
    for (let n = size; n > 0; n--) {
      const bytes = new Uint8Array(n);
      if (this.binding.memRead(this.uc, address, bytes, n) === UC_ERR_OK) return bytes;
    }
    return new Uint8Array(0);
  }

  private result(reason: StopReason, instructions: number, stop?: PendingStop & { bytes?: Uint8Array }): RunResult {
    const result: RunResult = { reason, instructions, rip: this.readRegister('rip') };
    if (stop?.fault) result.fault = stop.fault;
    if (stop?.interrupt !== undefined) result.interrupt = stop.interrupt;
    if (stop?.bytes) result.bytes = stop.bytes;
    return result;
  }

  private ownContext(context: CpuContext): UnicornCpuContext {
    const own = context as Partial<UnicornCpuContext>;
    if (own.engine !== 'unicorn' || own.owner !== this) throw new EmulationError('ARG', 'context was not saved by this UnicornEngine');
    return own as UnicornCpuContext;
  }

  private assertOpen(): void {
    if (this.closed) throw new EmulationError('ARG', 'the engine was closed');
  }

  private check(err: number, what: string): void {
    if (this.closed) throw new EmulationError('ARG', `${what}: the engine was closed`);
    if (err !== UC_ERR_OK) throw new EmulationError(errorCodeFor(err), `${what}: ${describeUcErr(this.binding, err)}`);
  }
}

function describeUcErr(binding: UnicornBinding, err: number): string {
  return `${UC_ERR_NAMES[err] ?? `uc_err ${err}`} (${String(binding.strerror(err))})`;
}

function faultFromError(err: number, address: bigint): MemFault {
  switch (err) {
    case UC_ERR_READ_UNMAPPED: return { kind: 'unmapped', access: 'read', address, size: 0 };
    case UC_ERR_WRITE_UNMAPPED: return { kind: 'unmapped', access: 'write', address, size: 0 };
    case UC_ERR_FETCH_UNMAPPED: return { kind: 'unmapped', access: 'fetch', address, size: 0 };
    case UC_ERR_READ_PROT: return { kind: 'protection', access: 'read', address, size: 0 };
    case UC_ERR_WRITE_PROT: return { kind: 'protection', access: 'write', address, size: 0 };
    default: return { kind: 'protection', access: 'fetch', address, size: 0 };
  }
}

/**
 * For a string instruction (movs/cmps/stos/lods/scas) with a rep/repe/repne prefix: the width of
 * its count register (8: rcx, 4: ecx with an 0x67 prefix); 0 for anything else.
 */
export function repStringCountWidth(bytes: Uint8Array): 0 | 4 | 8 {
  let rep = false;
  let addr32 = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0xf2 || b === 0xf3) rep = true;
    else if (b === 0x67) addr32 = true;
    else if (b === 0x66 || b === 0xf0 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65) continue;
    else {
      const op = b >= 0x40 && b <= 0x4f ? bytes[i + 1] : b; // a REX prefix comes last
      const string = op !== undefined && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
      return rep && string ? (addr32 ? 4 : 8) : 0;
    }
  }
  return 0;
}

function untilAsHookNumber(until: bigint | undefined): number {
  if (until === undefined) return Number.NaN;
  const signed = BigInt.asIntN(64, until);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : Number.NaN;
}

function checkXmmIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 15) throw new EmulationError('ARG', `no register xmm${index}`);
}



/**
 * Finds where env->old_exception lives in a saved Unicorn context: save a context, raise #DE
 * (stopped by the interrupt hook), save again; the field went from -1 to 0. The candidate is
 * verified by clearing it and raising #DE again, which must come back as 0, not 8.
 * Returns null when no single verified offset exists (then #DE after #DE stays a double fault).
 */
function calibrateOldException(binding: UnicornBinding): number | null {
  const handle: unknown[] = [null];
  if (binding.open(UC_ARCH_X86, UC_MODE_64, handle) !== UC_ERR_OK) return null;
  const uc = handle[0];
  const seen: number[] = [];
  const hook = binding.koffi.register((_uc: unknown, intno: number) => {
    seen.push(intno);
    binding.emuStop(uc);
  }, binding.types.intr);
  try {
    const code = Uint8Array.of(0x48, 0xf7, 0xf1, 0x90); // div rcx ; nop
    const zero = new BigUint64Array(1);
    if (binding.memMap(uc, 0x1000n, 0x1000, Perm.RX) !== UC_ERR_OK) return null;
    binding.memWrite(uc, 0x1000n, code, code.length);
    binding.hookAdd(uc, new BigUint64Array(1), UC_HOOK_INTR, hook, null, 1n, 0n);
    const context: unknown[] = [null];
    if (binding.contextAlloc(uc, context) !== UC_ERR_OK) return null;
    const size = Number(binding.contextSize(uc));
    const snapshotBytes = (): Uint8Array => {
      binding.contextSave(uc, context[0]);
      return new Uint8Array(binding.koffi.view(context[0], size)).slice();
    };
    const divideByZero = (): number | undefined => {
      seen.length = 0;
      binding.regWrite(uc, UC_REG.rcx, zero);
      binding.emuStart(uc, 0x1000n, NO_UNTIL, 0n, 0);
      return seen[0];
    };
    const before = snapshotBytes();
    if (divideByZero() !== 0) return null;
    const after = snapshotBytes();
    const candidates: number[] = [];
    const b = new DataView(before.buffer);
    const a = new DataView(after.buffer);
    for (let offset = 0; offset + 4 <= size; offset += 4) {
      if (b.getInt32(offset, true) === -1 && a.getInt32(offset, true) === 0) candidates.push(offset);
    }
    for (const offset of candidates) {
      binding.contextSave(uc, context[0]);
      new DataView(binding.koffi.view(context[0], size)).setInt32(offset, -1, true);
      binding.contextRestore(uc, context[0]);
      if (divideByZero() === 0) {
        binding.contextFree(context[0]);
        return offset;
      }
    }
    binding.contextFree(context[0]);
    return null;
  } finally {
    binding.close(uc);
    binding.koffi.unregister(hook);
  }
}
