// What the phases of the pipeline share once the process runs: the plan, the emulated
// process stopped at the patch point, and the result being filled in.

import type { GuestProcess } from '../../loader/index.js';
import type { PatchPoint } from '../dynamic/patch-point.js';
import type { VerifyResult } from '../result.js';
import type { SlotRun } from '../strategies/slots.js';
import type { VerifyPlan } from './plan.js';

export interface PatchSession {
  plan: VerifyPlan;
  process: GuestProcess;
  /** main's load bias (run-time minus link-time address). */
  loadBias: bigint;
  /** Run-time address of the target's entry (in main, or in the library that defines it). */
  site: bigint;
  /** The target's original bytes at the site and a little past it (for the "replaced bytes" listing). */
  original: Uint8Array;
  point: PatchPoint;
  /** Filled in as the phases learn things (target, replacement, trampoline, programWrites). */
  result: VerifyResult;
  /** "symbol+0x1c" for a run-time address. */
  describe(address: bigint): string;
  /** The slot strategies (got, vtable): the slots, and what the patcher wrote into them. */
  slots?: SlotRun;
}
