// Messages between the page and the verification worker. Everything here survives
// structured cloning (bigint, Uint8Array, plain objects), so no class instances cross.

import type { VerifyResult } from '../../src/verify/result.js';
import type { ThreadLane } from './lanes.js';

export type TrampolineChoice = 'abs-rax' | 'rel32' | 'abs-indirect' | { template: string };

export interface VerifyRequest {
  main: Uint8Array;
  mainName: string;
  patch: Uint8Array;
  patchName: string;
  /** Function in main, mangled or demangled. */
  symbol: string;
  /** Replacement in patch.so; default: the same name. */
  replacement?: string;
  trampoline: TrampolineChoice;
  /** Program-driven mode: the signal main's handler patches on ('USR1'). */
  signal?: string;
  /** Arguments after argv[0] for the emulated run. */
  argv?: string[];
  /** What the patch rewrites; absent: the function's first bytes (prologue). */
  strategy?: 'got' | 'vtable';
  /** Libraries main needs beyond the emulated ones, by path relative to main's directory. */
  libraries?: { path: string; bytes: Uint8Array }[];
  /** Also try the patch at every boundary of a window (--explore; {} for the default window). */
  explore?: { from?: number; to?: number; stride?: number };
  /** Patch (or deliver the signal) after this many instructions (--patch-at): replaying an unsafe window. */
  patchAt?: number;
  /**
   * The system process model's sysroot: a tar of library directories (the bundled Debian one
   * or the user's own, decompressed); absent: the stubs model.
   */
  sysroot?: { name: string; tar: Uint8Array };
  /** The thread scheduler's seed, decimal (--seed; the system model's threads): replays a schedule. */
  seed?: string;
}

export type PageToWorker =
  | { type: 'list-functions'; main: Uint8Array; mainName: string }
  | { type: 'verify'; request: VerifyRequest };

export interface FunctionEntry {
  name: string;
  demangled: string;
  address: bigint;
  size: number;
}

/** One line of a disassembly listing, with what the patch does to it. */
export interface ListingLine {
  address: bigint;
  bytes: Uint8Array;
  text: string;
  /** 'full': all bytes replaced; 'partial': its first bytes replaced, its tail left as garbage. */
  overwritten?: 'full' | 'partial';
  /** Direct branch target, for drawing arrows. */
  branchTarget?: bigint;
}

export interface BranchIntoSite {
  source: bigint;
  sourceLocation: string;
  sourceText: string;
  target: bigint;
  /** target - site start. */
  offset: number;
  kind: string;
}

/** The target function before and after the overwrite, in the emulated layout's addresses. */
export interface PatchSiteView {
  functionName: string;
  functionAddress: bigint;
  functionSize: number;
  range: { start: bigint; end: bigint };
  listing: ListingLine[];
  /** Branches that land inside the range after its first byte (arrows in the listing). */
  branchesInto: BranchIntoSite[];
  /** Calls inside the range whose return address is inside it. */
  returnAddresses: { call: bigint; returnAddress: bigint }[];
  pages: { first: bigint; last: bigint; count: number };
}

export type TimelineKind =
  | 'output'
  | 'patch-point'
  | 'signal'
  | 'signal-return'
  | 'dlopen'
  | 'dlsym'
  | 'mprotect'
  | 'code-write'
  | 'call-target'
  | 'call-replacement'
  | 'thread'
  | 'exit';

export interface TimelineEvent {
  kind: TimelineKind;
  /** Instructions retired when it happened. */
  at: number;
  text: string;
  address?: bigint;
  /** Index of the trace step at or right after `at`, when the trace window covers it. */
  step?: number;
  /** The thread running when it happened (a system-model run with threads): its lane. */
  thread?: number;
}

export const TRACE_REGISTERS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rflags',
] as const;
export type TraceRegister = (typeof TRACE_REGISTERS)[number];

/** Machine state before one instruction executes. */
export interface TraceStep {
  at: number;
  rip: bigint;
  /** In TRACE_REGISTERS order. */
  registers: bigint[];
  /** Qwords from STACK_WORDS_BELOW below rsp upward; null where unmapped. */
  stack: (bigint | null)[];
  /** Index into RecordedTrace.listings of the code around rip. */
  listing: number;
  /** The thread that executes this instruction (system model: its tid; the stubs model has one thread and no tid). */
  thread?: number;
}

export const STACK_WORDS_BELOW = 2;
export const STACK_WORDS = 12;

export interface CodeListing {
  /** "need_fix_func" or "need_fix_func (after the patch)" or "libc stub: printf". */
  title: string;
  lines: ListingLine[];
}

export interface RecordedTrace {
  steps: TraceStep[];
  listings: CodeListing[];
  /** The window is bounded: it starts here and may end before the run did. */
  firstInstruction: number;
  truncated: boolean;
}

/**
 * Whether the replay (which records the trace) ran what the verifier ran. Not compared when the
 * verifier gave no run to compare with (it could not verify).
 */
export type ReplayCheck =
  | { compared: false; differences: [] }
  | { compared: true; differences: string[]; outputLines: number; instructions: number };

export interface VerificationView {
  result: VerifyResult;
  /** One lane per thread when the run had more than one (lanes.ts). */
  lanes?: ThreadLane[];
  site?: PatchSiteView;
  timeline: TimelineEvent[];
  trace?: RecordedTrace;
  /** Absent when the replay itself failed (then a note says why). */
  replay?: ReplayCheck;
  /** Replay problems that do not change the verdict (shown as a note). */
  notes: string[];
  elapsedMs: number;
}

export type WorkerToPage =
  | { type: 'functions'; functions: FunctionEntry[] }
  | { type: 'progress'; stage: string; fraction: number }
  | { type: 'done'; view: VerificationView }
  | { type: 'failed'; message: string };
