// Patcher: who applies the patch at the patch point. `tool` plays the patcher itself (the
// seed's replaceFunction: dlopen, look up, write); `program` delivers the signal and lets
// main's own handler do it, recording what it maps, protects and writes. Both use the plan's
// PatchStrategy for what is overwritten and how to read it.

import type { ProcessStop } from '../../loader/index.js';
import type { OverwrittenBytes } from '../checks/live-clobber.js';
import type { CalleeFacts } from '../checks/register-preservation.js';
import type { Evidence, Finding } from '../finding.js';
import type { PatchMode } from '../pipeline/plan.js';
import type { PatchSession } from '../pipeline/session.js';

export interface PatchOutcome {
  /** Findings of the patch itself: the site, the form, the write, the lookups. */
  findings: Finding[];
  /** The bytes at the target were written. */
  patched: boolean;
  /** The process can run on after the patch (observe it); when false, `stopped` says why not. */
  continues: boolean;
  stopped?: string;
  /** How the process stopped while patching (program-driven: the handler died or hit the budget). */
  stop?: ProcessStop;
  overwritten: OverwrittenBytes;
  /** Addresses where the replacement may start (first: the most certain). */
  replacements: bigint[];
  replacementName: string | null;
  facts: CalleeFacts;
  /** Program-driven: code the patcher wrote somewhere other than the target. */
  writesElsewhere: Evidence[];
  /** Program-driven: the handler wrote nothing at the target. */
  nothingWritten: boolean;
}

export interface Patcher {
  readonly mode: PatchMode;
  apply(session: PatchSession): PatchOutcome;
}
