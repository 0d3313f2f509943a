// PatchStrategy: what a patch overwrites to send callers of the old function to the new one
// (`--strategy`: the function's first bytes, the GOT slot, vtable slots). A strategy knows
// what it overwrites, the static checks that follow from that, how the tool writes it, and
// how to read what a program's own patcher wrote. Patchers (tool | program) drive it.

import type { Trampoline } from '../../asm/trampoline.js';
import type { OverwrittenBytes } from '../checks/live-clobber.js';
import type { CalleeFacts } from '../checks/register-preservation.js';
import type { HandlerRun } from '../dynamic/program-patcher.js';
import type { Finding } from '../finding.js';
import type { PatchSession } from '../pipeline/session.js';
import type { TrampolineSummary } from '../result.js';

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
}

export interface PatchStrategy {
  readonly name: StrategyName;
  /** Tool-driven: build the write that redirects the target to `replacement`. */
  prepare(session: PatchSession, replacement: ReplacementAt, facts: CalleeFacts): PreparedPatch;
  /** Tool-driven: perform the prepared write as a patcher would (mprotect rules apply). */
  apply(session: PatchSession, prepared: PreparedPatch): AppliedPatch;
  /** Program-driven: read the handler's writes as this strategy's patch. */
  readProgramPatch(session: PatchSession, handler: HandlerRun): ProgramPatchReading;
  /** Findings once the destination of a program-written patch is known (its entry, its name). */
  destinationFindings(session: PatchSession, reading: ProgramPatchReading, replacementName: string | null): Finding[];
}
