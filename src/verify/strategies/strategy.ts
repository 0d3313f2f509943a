// PatchStrategy: what a patch overwrites to send callers of the old function to the new one
// (`--strategy`: the function's first bytes, the GOT slot, vtable slots). A strategy knows
// where the old function is in the loaded process and what it overwrites, the static checks
// that follow from that, how the tool writes it, how to read what a program's own patcher
// wrote, and what to watch in the run after the patch. Patchers (tool | program) drive it;
// the pipeline (verify.ts) runs the same phases for every strategy.

import type { CodeMap } from '../../analysis/index.js';
import type { Trampoline } from '../../asm/trampoline.js';
import type { GuestProcess, ProcessStop } from '../../loader/index.js';
import type { OverwrittenBytes } from '../checks/live-clobber.js';
import type { CalleeFacts } from '../checks/register-preservation.js';
import type { HandlerRun } from '../dynamic/program-patcher.js';
import type { Finding } from '../finding.js';
import type { PatchOutcome } from '../patchers/patcher.js';
import type { StaticPlan } from '../pipeline/plan.js';
import type { PatchSession } from '../pipeline/session.js';
import type { TrampolineSummary } from '../result.js';
import type { ResolvedFunction } from '../symbols.js';
import type { SlotRun } from './slots.js';

export type StrategyName = 'prologue' | 'got' | 'vtable';

/** The replacement as the patcher knows it: where it starts at run time and its name. */
export interface ReplacementAt {
  address: bigint;
  name: string;
}

/** Tool-driven: what the tool is about to write, and what is known about it before writing. */
export interface PreparedPatch {
  writes: { address: bigint; bytes: Uint8Array }[];
  /** The bytes at the old entry that stop being the old code (length 0 when the entry stays intact). */
  overwritten: OverwrittenBytes;
  trampoline?: TrampolineSummary;
  /** The built trampoline, when the strategy writes one. */
  built?: Trampoline;
  /** Static findings: the site, the form, the lookup. */
  findings: Finding[];
}

export interface AppliedPatch {
  /** Every planned write landed. */
  written: boolean;
  findings: Finding[];
}

/** Program-driven: what the handler's writes mean for this strategy. */
export interface ProgramPatchReading {
  /** The handler wrote the patch where this strategy expects it. */
  written: boolean;
  overwritten: OverwrittenBytes;
  trampoline?: TrampolineSummary;
  /** Where the written patch sends control, when the bytes say. */
  destination: bigint | null;
  /** Static findings about what was (or, if nothing was, would be) written. */
  findings: Finding[];
  /** The bytes a faulting store of the handler was writing (default: the overwritten bytes at the site). */
  writeRange?: { site: bigint; length: number };
}

/** The old function in the loaded process (after its ld.so relocated everything). */
export interface LocatedTarget {
  /** Its symbol, link-time in the object that defines it (main for the prologue strategy). */
  target: ResolvedFunction;
  /** Its run-time entry. */
  site: bigint;
  /** The file that defines it, as the report names it. */
  file: string;
  /** The code of that object, when analysed (the callee facts read the target's first bytes from it). */
  code: CodeMap | null;
  /** Findings known once the process is loaded (call sites that bypass every slot...). */
  findings: Finding[];
  /** The slot strategies' working state: the slots, then what was written into them. */
  slots?: SlotRun;
}

/** The run after the patch, as the strategy watched it. */
export interface ObservedRun {
  stop: ProcessStop;
  /** Entries of the old function after the patch. */
  targetCalls: number;
  /** Entries of what the patch sends callers to (the replacement, a hook stub). */
  replacementRuns: number;
  findings: Finding[];
}

export interface PatchStrategy {
  readonly name: StrategyName;
  /** After launch: the old function and what the patch will rewrite, found in the loaded process. */
  locate(plan: StaticPlan, process: GuestProcess): LocatedTarget;
  /** Tool-driven: build the write that redirects the target to `replacement`. */
  prepare(session: PatchSession, replacement: ReplacementAt, facts: CalleeFacts): PreparedPatch;
  /** Tool-driven: perform the prepared write as a patcher would (mprotect rules apply). */
  apply(session: PatchSession, prepared: PreparedPatch): AppliedPatch;
  /** Program-driven: called just before the signal is delivered (a slot strategy keeps the data it watches). */
  beforeHandler?(session: PatchSession): void;
  /** Program-driven: read the handler's writes as this strategy's patch. */
  readProgramPatch(session: PatchSession, handler: HandlerRun): ProgramPatchReading;
  /** Findings once the destination of a program-written patch is known (its entry, its name). */
  destinationFindings(session: PatchSession, reading: ProgramPatchReading, replacementName: string | null): Finding[];
  /** Runs the process on after the patch (to the end of the budget) and checks what it does. */
  observe(session: PatchSession, outcome: PatchOutcome): ObservedRun;
  /** Findings about an applied patch when the process could not run on (the handler died): what can be said without a run. */
  unobserved?(session: PatchSession, outcome: PatchOutcome): Finding[];
}
