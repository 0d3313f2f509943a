// The verifier's answer: everything a report (text, JSON, SARIF, the web page) shows.

import type { SourceLine } from '../elf/dwarf-line.js';
import type { Exploration } from './explore/types.js';
import type { Finding, Verdict } from './finding.js';

export interface SymbolSummary {
  /** Name as in the symbol table (mangled for C++). */
  name: string;
  demangled?: string;
  address: bigint;
  size: number;
  /** The input file it comes from, as the user named it. */
  file: string;
  /** Where it starts in the sources, when its file has DWARF line info (-g). */
  source?: SourceLine;
}

export interface InstructionLine {
  address: bigint;
  bytes: Uint8Array;
  text: string;
}

export interface TrampolineSummary {
  form: string;
  site: bigint;
  target: bigint;
  bytes: Uint8Array;
  instructions: InstructionLine[];
  /** The original bytes the trampoline overwrites. */
  originalBytes: Uint8Array;
  /** The original instructions touched by the overwrite (the last may be partly overwritten). */
  originalInstructions: InstructionLine[];
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** Instruction count at which the guest wrote it. */
  instruction: number;
}

/** A system-model run's threads: the schedule's seed, and who ran when (the page draws a lane per thread). */
export interface ThreadsSummary {
  seed: string;
  threads: number;
  switches: number;
  /** Every thread the run created, the main thread first. */
  list?: { tid: number; name: string; createdAt: number; instructions: number; exited: boolean }[];
  /** From which instruction count each thread ran, in order; the first 1000 switches. */
  ran?: { at: number; tid: number }[];
}

export interface RunSummary {
  engine: string;
  /** Which process model ran main, and which libc it used. */
  process?: { model: 'stubs' | 'system'; libc: string; threads?: ThreadsSummary };
  mode: 'tool-driven' | 'program-driven';
  instructions: number;
  /** Instruction count at which the patch was applied or the signal delivered. */
  patchPoint?: number;
  /** Why the run ended, and the patch point, in words (one line). */
  ended: string;
  /** Why the run ended, in words, without the patch point. */
  endReason?: string;
  /** Where and why the patch was applied (or the signal delivered), in words. */
  patchPointDescription?: string;
  output: OutputLine[];
  /** Budget charged for host work (libc copies and formatting, system calls), beyond `instructions`. */
  hostWork?: number;
  /** --schedules: the interleavings replayed from the patch point (system model with threads). */
  schedules?: ScheduleSummary;
  /** System calls that failed with ENOSYS (or were refused): how many, and the first few. */
  failedSyscalls?: { count: number; first: { name: string; number: number; result: string }[] };
}

/** --schedules N by default: interleavings replayed from the patch point. */
export const DEFAULT_SCHEDULES = 16;

/** The schedules tried from the patch point: seeds S..S+N-1 (S = --seed), each a patched run and its baseline. */
export interface ScheduleSummary {
  tried: number;
  /** Schedules with at least one error finding. */
  failed: number;
  /** Other schedules whose run could not be judged (a stop on something unsupported, the budget): neither failed nor shown safe. */
  inconclusive?: number;
  /** "S..S+N-1". */
  seeds: string;
  firstFailingSeed?: string;
  /** The command that replays the first failing schedule alone. */
  replay?: string;
}

/** The unpatched continuation from the same patch-point snapshot, under the same budget. */
export interface BaselineSummary {
  /** Why it ended, in words. */
  ended: string;
  /** Instructions run after the patch point. */
  instructions: number;
  /** Calls of the (unpatched) target after the patch point. */
  targetCalls: number;
  /** Output after the patch point. */
  output: OutputLine[];
  /** The first output line that differs from the patched run's, when one does. */
  firstDifference?: string;
}

export interface ProgramWrite {
  address: bigint;
  length: number;
  /** Symbol+offset form of the address. */
  location: string;
  atTarget: boolean;
}

/** A pointer slot a GOT or vtable patch changed (the page draws these): slot, old and new target. */
export interface SlotWriteSummary {
  address: bigint;
  /** What the slot is: "R_X86_64_JUMP_SLOT of ./main", "vtable for Imp1 (_ZTV4Imp1+0x10) in ./main". */
  location: string;
  before: bigint;
  /** Where the old value pointed ("compute_damage+0x0 (./libgame.so)"). */
  beforeTarget: string;
  after: bigint;
  afterTarget: string;
  /** Inside what the patcher set out to patch (false: a WRITE_OUTSIDE_PATCH_TARGET write). */
  inTarget: boolean;
}

export interface VerifyResult {
  verdict: Verdict;
  /** What the patch rewrites: the function's first bytes (default), its GOT slots, or the vtable slots holding it. */
  strategy?: 'prologue' | 'got' | 'vtable';
  target?: SymbolSummary;
  replacement?: SymbolSummary;
  trampoline?: TrampolineSummary;
  findings: Finding[];
  run?: RunSummary;
  /** The unpatched baseline run from the patch point (absent when the run never got there). */
  baseline?: BaselineSummary;
  /**
   * Program-driven: every range of code the program's handler wrote, merged; `atTarget` for
   * the one at the target's entry. Empty when it wrote no code at all.
   */
  programWrites?: ProgramWrite[];
  /** GOT and vtable strategies: every slot word the tool or the program's handler changed. */
  slotWrites?: SlotWriteSummary[];
  /** --explore: the patch tried at every boundary of a window (src/verify/explore). */
  exploration?: Exploration;
  /** Set when verdict is 'error': why the patch could not be verified. */
  error?: string;
}
