// One patched run of the exploration: apply the patch at the current boundary (the tool's
// write through the strategy, or the signal and main's own handler), run to the first touch of
// the patched bytes, watch the horizon, and return the codes of what went wrong. The checks
// are the verifier's own; only the codes that can depend on the moment are kept (the static
// ones hold at every point and are reported once by the verification itself).

import type { GuestProcess, ProcessStop } from '../../loader/index.js';
import { checkFetchesAfterPatch, type OverwrittenBytes } from '../checks/live-clobber.js';
import { checkRegisterPreservation, type CalleeFacts } from '../checks/register-preservation.js';
import { checkStackBalance } from '../checks/stack-balance.js';
import { observeAfterPatch, type ObservationHooks } from '../dynamic/observe.js';
import { VerifyError } from '../error.js';
import type { Finding } from '../finding.js';
import { programPatcher } from '../patchers/program.js';
import type { PatchSession } from '../pipeline/session.js';
import type { PreparedPatch } from '../strategies/strategy.js';
import { TouchWatch } from './touch.js';
import type { HorizonOption, PointVerdict } from './types.js';

/** Findings about the site, the form or the lookups: the same at every moment. */
const MOMENT_INDEPENDENT = new Set([
  'TRAMPOLINE_OVERRUNS_FUNCTION', 'BRANCH_INTO_PATCHED_BYTES', 'RETURN_ADDRESS_IN_PATCHED_BYTES', 'REL32_OUT_OF_RANGE',
  'PATCH_BINDS_OWN_COPY', 'SYMBOL_NOT_EXPORTED', 'PATCH_NOT_REACHED', 'CALLER_ASSUMES_PRESERVED_REGISTER',
]);

export const CRASH_AFTER_PATCH = 'CRASH_AFTER_PATCH';

export function momentCodes(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.severity !== 'info' && !MOMENT_INDEPENDENT.has(f.code)).map((f) => f.code);
}

export interface PatchedRunContext {
  session: PatchSession;
  horizon: HorizonOption;
  /** Absolute instruction budget of the process. */
  budget: number;
  names: { target: string; replacement: string };
  /** A watch over the patched bytes kept for the whole sweep (hooks are costly to add and remove per run). */
  watch?: TouchWatch;
  /** The process stands right before the first touch (a fetch of the bytes): no run to it is needed. */
  atTouch?: boolean;
  /** The observation's code hooks, kept for the whole sweep (used when they watch this patch's bytes and replacements). */
  observationHooks?: ObservationHooks;
}

export interface ToolPatchContext extends PatchedRunContext {
  prepared: PreparedPatch;
  replacement: bigint;
  facts: CalleeFacts;
}

/** After the patch is in place: run to the first touch, then the horizon. */
function watchAfterPatch(ctx: PatchedRunContext, range: OverwrittenBytes, replacements: readonly bigint[], facts: CalleeFacts): Finding[] {
  const { process, describe } = ctx.session;
  const touched = ctx.atTouch === true || runToFirstTouch(process, range, ctx.budget, ctx.watch);
  if (!touched) return [];
  const left = ctx.budget - process.instructions;
  if (left <= 0) return [];
  const observation = observeAfterPatch(process, {
    site: range.site,
    overwritten: range.length,
    replacements,
    budget: process.instructions + Math.min(left, ctx.horizon.instructions),
    ...(ctx.horizon.untilReturn ? { stopAfterCalls: 1 } : {}),
    ...(ctx.observationHooks ? { hooks: ctx.observationHooks } : {}),
  });
  const findings = [
    ...(range.length > 0 ? checkFetchesAfterPatch(range, observation, describe) : []),
    ...checkStackBalance(observation.calls, ctx.names, range, describe),
    ...checkRegisterPreservation(observation.calls, ctx.names, facts),
  ];
  if (observation.stop.reason === 'killed') findings.push(crashFinding(observation.stop));
  return findings;
}

function crashFinding(stop: Extract<ProcessStop, { reason: 'killed' }>): Finding {
  // Not yet a FindingCode of the verifier (the verdict work adds it); only its code is reported here.
  return { code: CRASH_AFTER_PATCH as Finding['code'], severity: 'error', message: stop.detail, evidence: [] };
}

/** Runs until the program touches the range (true) or stops for another reason (false). */
function runToFirstTouch(process: GuestProcess, range: OverwrittenBytes, budget: number, shared?: TouchWatch): boolean {
  const watch = shared && shared.covers(range) ? shared : new TouchWatch(process, range.site, range.length);
  const saved = { enabled: watch.enabled, stopOnTouch: watch.stopOnTouch };
  watch.enabled = true;
  watch.stopOnTouch = true;
  watch.touched = false;
  try {
    const left = budget - process.instructions;
    if (left <= 0) return false;
    process.run({ maxInstructions: left });
    return watch.touched;
  } finally {
    watch.enabled = saved.enabled;
    watch.stopOnTouch = saved.stopOnTouch;
    if (watch !== shared) watch.close();
  }
}

/** Tool-driven: write the prepared patch at this boundary (the session's point says what was interrupted). */
export function toolPatchedRun(ctx: ToolPatchContext): PointVerdict {
  const applied = ctx.session.plan.strategy.apply(ctx.session, ctx.prepared);
  const findings = [...applied.findings];
  if (applied.written) findings.push(...watchAfterPatch(ctx, ctx.prepared.overwritten, [ctx.replacement], ctx.facts));
  return { applied: true, codes: momentCodes(findings), written: applied.written };
}

/** Program-driven: deliver the signal at this boundary and let main's handler patch. */
export function programPatchedRun(ctx: PatchedRunContext): PointVerdict {
  let outcome;
  try {
    outcome = programPatcher.apply(ctx.session);
  } catch (e) {
    // No handler installed yet, or the signal is blocked here: a kill would not patch now.
    if (e instanceof VerifyError && e.problem === 'no-patch-point') return { applied: false };
    throw e;
  }
  const findings = [...outcome.findings];
  if (outcome.continues && outcome.patched) findings.push(...watchAfterPatch(ctx, outcome.overwritten, outcome.replacements, outcome.facts));
  return { applied: true, codes: momentCodes(findings) };
}
