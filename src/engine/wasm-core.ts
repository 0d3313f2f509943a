// The ABI of the AssemblyScript core (wasm/assembly/index.ts) and its instantiation. u64 values
// cross as BigInt (signed on the way out: callers use BigInt.asUintN), bools as 0/1.

import { EmulationError } from './engine.js';
import { CORE_WASM_BASE64 } from './generated/core-wasm.js';

export interface CoreExports {
  memory: WebAssembly.Memory;
  coreReady(): number;
  ioBuffer(): number;
  ioSize(): number;
  gprBase(): number;
  xmmBase(): number;
  getRip(): bigint;
  setRip(v: bigint): void;
  getRflags(): bigint;
  putRflags(v: bigint): void;
  getFsBase(): bigint;
  setFsBase(v: bigint): void;
  getGsBase(): bigint;
  setGsBase(v: bigint): void;
  getMxcsr(): number;
  setMxcsr(v: number): void;
  getRetired(): bigint;
  fpuStateBase(): number;
  fpuStateSize(): number;
  fpuStateSave(): void;
  fpuStateLoad(): void;
  x87View(): number;
  faultKind(): number;
  faultAccess(): number;
  faultAddress(): bigint;
  faultSize(): number;
  interruptNumber(): number;
  map(vpn: bigint, count: bigint, perms: number): number;
  unmap(vpn: bigint, count: bigint): void;
  protect(vpn: bigint, count: bigint, perms: number): void;
  perms(vpn: bigint): number;
  setTouchedPageLimit(pages: bigint): void;
  touchedPages(): bigint;
  touchedPageLimitHit(): number;
  hostRead(addr: bigint, len: number): number;
  hostWrite(addr: bigint, len: number): number;
  invalidateCode(): void;
  clearBreakpoints(): void;
  addBreakpoint(addr: bigint): number;
  removeBreakpoint(addr: bigint): number;
  setUntil(on: number, addr: bigint): void;
  hookRangesClear(kind: number): void;
  hookRangeAdd(kind: number, lo: bigint, hi: bigint): number;
  setHooks(codeOn: number, blockOn: number, blockLo: bigint, blockHi: bigint, memRead: number, memWrite: number, memFetch: number): void;
  suppressHooksOnce(): void;
  hookEvents(): number;
  hookInsnLength(): number;
  memLog(): number;
  memLogLength(): number;
  memAccessRip(): bigint;
  clearMemLog(): void;
  enableTrace(capacity: number): number;
  traceBuffer(): number;
  traceHead(): number;
  traceCount(): bigint;
  traceCapacity(): number;
  snapshotTake(): number;
  snapshotRestore(): number;
  snapshotPageCount(): number;
  run(budget: bigint, skipFirstBreakpoint: number): number;
  threadSlots(count: number): number;
  threadSlotBase(slot: number): number;
  threadSlotSave(slot: number): void;
  threadSlotLoad(slot: number): void;
  threadQueue(): number;
  threadLog(): number;
  threadArm(current: number, queueLength: number, quantumLeft: number, quantum: number, randomHi: number, randomLo: number, wakeIn: number): number;
  threadDrain(): number;
  threadQuantumLeftNow(): number;
  threadCurrent(): number;
  threadRandomHi(): number;
  threadRandomLo(): number;
  THREAD_SLOT_SIZE: WebAssembly.Global;
  THREAD_QUEUE_MAX: WebAssembly.Global;
  THREAD_LOG_MAX: WebAssembly.Global;
  probe(len: number): number;
  /** The function table (the block compiler installs compiled blocks into it: wasm-jit.ts). */
  table: WebAssembly.Table;
}

/** Exit codes of run(), as in wasm/assembly/state.ts. */
export const enum CoreExit {
  None = 0,
  Count = 1,
  Breakpoint = 2,
  Until = 3,
  Fault = 4,
  Invalid = 5,
  Syscall = 6,
  Interrupt = 7,
  Divide = 8,
  Hook = 9,
  /** An armed run's quantum ended where the host must switch (wasm/assembly/threads.ts). */
  Quantum = 10,
}

export const HOOK_EVENT_BLOCK = 1;
export const HOOK_EVENT_CODE = 2;
export const HOOK_EVENT_MEM = 4;
/** Range kinds of hookRangeAdd (wasm/assembly/hooks.ts RANGE_*), and how many the core holds per kind. */
export const RANGE_CODE = 0;
export const RANGE_READ = 1;
export const RANGE_WRITE = 2;
export const RANGE_MAX = 64;

function decodeBase64(text: string): Uint8Array {
  // Node's Buffer decodes in C++ (~8 ms of a cold start by the loop below); browsers take the loop.
  const buffer = (globalThis as { Buffer?: { from(text: string, encoding: 'base64'): Uint8Array } }).Buffer;
  if (buffer) return new Uint8Array(buffer.from(text, 'base64'));
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

let builtIn: Promise<WebAssembly.Module> | undefined;

/**
 * Starts compiling the built-in core in the background (V8 compiles wasm off the main thread), so
 * that a cold start's first engine does not wait for it: call early, e.g. before reading inputs.
 */
export function precompileCore(): void {
  builtIn ??= WebAssembly.compile(decodeBase64(CORE_WASM_BASE64) as Uint8Array<ArrayBuffer>);
}

export async function instantiateCore(bytes?: Uint8Array): Promise<CoreExports> {
  const imports = {
    env: {
      // The core is built never to abort; if it ever does, that is a bug in the core, not the guest.
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new EmulationError('INTERNAL', `wasm core aborted at ${line}:${column}`);
      },
    },
  };
  // The built-in core is compiled once per realm: later engines share the module and the code V8
  // has optimised for it (a fresh compile per engine cost every test and every session its warm-up).
  const module = bytes ? await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>) : await (precompileCore(), builtIn!);
  const instance = await WebAssembly.instantiate(module, imports);
  const core = instance.exports as unknown as CoreExports;
  if (!core.coreReady()) throw new EmulationError('NOMEM', 'wasm core could not reserve its decoded-instruction cache');
  return core;
}
