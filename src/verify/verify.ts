// verifyPatch: bytes in, VerifyResult out. A pipeline of phases:
//   plan (inputs -> VerifyPlan) -> launch (the emulated process) -> run to the patch point
//   -> apply (a Patcher: tool | program, through the plan's PatchStrategy) -> observe the
//   rest of the run -> judge (findings -> verdict).
// Each check takes what a phase produced and returns Findings. Runs in a browser as well as in Node.

import { AnalysisError } from '../analysis/index.js';
import { AsmError } from '../asm/error.js';
import { ElfError } from '../elf/index.js';
import { EmulationError } from '../engine/engine.js';
import { LoaderError } from '../loader/index.js';
import { checkFetchesAfterPatch } from './checks/live-clobber.js';
import { checkReached } from './checks/not-reached.js';
import { checkOwnCopy } from './checks/own-copy.js';
import { checkRegisterPreservation } from './checks/register-preservation.js';
import { checkStackBalance } from './checks/stack-balance.js';
import { launchProcess, openEngine, PATCH_PATH } from './dynamic/launch.js';
import { observeAfterPatch, type Observation } from './dynamic/observe.js';
import { runToPatchPoint, sleepCalls } from './dynamic/patch-point.js';
import { describeStop } from './dynamic/stop-text.js';
import { VerifyError } from './error.js';
import { sortFindings, verdictOf, type Finding } from './finding.js';
import type { VerifyInput } from './input.js';
import type { PatchOutcome, Patcher } from './patchers/patcher.js';
import { programPatcher } from './patchers/program.js';
import { toolPatcher } from './patchers/tool.js';
import { planVerification, type VerifyPlan } from './pipeline/plan.js';
import type { PatchSession } from './pipeline/session.js';
import type { RunSummary, VerifyResult } from './result.js';
import { attachSourceLines } from './source-lines.js';
import { outputLines, symbolSummary } from './summary.js';

/** Bytes of original code kept for the "replaced bytes" listing (the last instruction may extend past the trampoline). */
const ORIGINAL_TAIL = 32;

/** Errors of every layer below: the patch could not be verified. */
function isInputError(e: unknown): e is Error {
  return e instanceof VerifyError || e instanceof ElfError || e instanceof LoaderError || e instanceof AsmError || e instanceof EmulationError || e instanceof AnalysisError;
}

export async function verifyPatch(input: VerifyInput): Promise<VerifyResult> {
  const partial: VerifyResult = { verdict: 'error', findings: [] };
  try {
    return attachSourceLines(await verify(input, partial), input);
  } catch (e) {
    if (!isInputError(e)) throw e;
    return { ...partial, verdict: 'error', findings: [], error: e.message };
  }
}

function patcherFor(plan: VerifyPlan): Patcher {
  return plan.mode === 'tool-driven' ? toolPatcher : programPatcher;
}

async function verify(input: VerifyInput, result: VerifyResult): Promise<VerifyResult> {
  const plan = await planVerification(input);
  const engine = await openEngine(input.engine ?? 'wasm');
  try {
    // launch
    const process = launchProcess(engine, input.main, input.mainName, input.patch, input.patchName);
    const loadBias = process.executable.base;
    const site = plan.target.address + loadBias;
    result.target = symbolSummary(plan.target, site, input.mainName);
    const original = process.engine.readMemory(site, ORIGINAL_TAIL);
    // run to the patch point
    const point = runToPatchPoint(process, { address: site, name: plan.target.demangled }, sleepCalls(plan.mainElf, plan.codeMap, loadBias), {
      ...(plan.patchAt !== undefined ? { patchAt: plan.patchAt } : {}),
      budget: plan.budget,
    });
    const session: PatchSession = { plan, process, loadBias, site, original, point, result, describe: (a) => process.describe(a) };
    const run: RunSummary = { engine: engine.name, mode: plan.mode, instructions: 0, patchPoint: point.instruction, ended: '', output: [] };
    result.run = run;
    // apply
    const outcome = patcherFor(plan).apply(session);
    const findings: Finding[] = [...outcome.findings];
    // observe
    const observation = outcome.continues ? observeAfterPatch(process, { site, overwritten: outcome.overwritten.length, replacements: outcome.replacements, budget: plan.budget }) : null;
    if (observation) findings.push(...observedFindings(session, outcome, observation));
    findings.push(...checkOwnCopy({
      bindings: process.relocationBindings,
      patchPath: PATCH_PATH,
      patchName: input.patchName,
      main: plan.mainElf,
      mainName: input.mainName,
      targetName: plan.target.name,
      describe: session.describe,
    }));
    // judge
    run.instructions = process.instructions;
    run.ended = observation ? describeStop(observation.stop) : outcome.stopped ?? 'the patch was not applied';
    run.endReason = run.ended;
    run.patchPointDescription = point.description;
    run.ended = `${run.ended}; patch point: ${point.description}`;
    run.output = outputLines(process.output);
    result.findings = sortFindings(mergeSameCode(findings));
    result.verdict = verdictOf(result.findings);
    return result;
  } finally {
    engine.close();
  }
}

/** The checks of the run after the patch. */
function observedFindings(session: PatchSession, outcome: PatchOutcome, observation: Observation): Finding[] {
  const { plan, process, point, describe } = session;
  const findings: Finding[] = [];
  if (outcome.overwritten.length > 0) findings.push(...checkFetchesAfterPatch(outcome.overwritten, observation, describe));
  const names = { target: plan.target.demangled, replacement: outcome.replacementName ?? 'the replacement' };
  findings.push(...checkStackBalance(observation.calls, names, outcome.overwritten, describe));
  findings.push(...checkRegisterPreservation(observation.calls, names, outcome.facts));
  // A process that died right after the patch, before calling the function again, did not
  // get the chance to reach the replacement: the crash is the finding, not "not reached".
  const diedBeforeNextCall = observation.stop.reason === 'killed' && observation.targetCalls === 0;
  if (!diedBeforeNextCall) {
    findings.push(...checkReached({
      targetName: plan.target.demangled,
      replacementName: outcome.replacementName,
      targetCallsBefore: point.targetCallsBefore,
      targetCallsAfter: observation.targetCalls,
      replacementRuns: observation.replacementRuns,
      instructionsAfter: process.instructions - point.instruction,
      writesElsewhere: outcome.writesElsewhere,
      nothingWritten: outcome.nothingWritten,
    }));
  }
  return findings;
}

/** One finding per code and severity: a static and a dynamic view of the same problem become one, with both evidences. */
function mergeSameCode(findings: readonly Finding[]): Finding[] {
  const merged = new Map<string, Finding>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.code}/${f.severity}`;
    const existing = merged.get(key);
    if (!existing || f.code === 'BRANCH_INTO_PATCHED_BYTES' || f.code === 'RETURN_ADDRESS_IN_PATCHED_BYTES') {
      const copy = { ...f, evidence: [...f.evidence] };
      merged.set(key, copy);
      out.push(copy);
      continue;
    }
    existing.evidence.push({ label: 'also', text: f.message }, ...f.evidence);
  }
  return out;
}
