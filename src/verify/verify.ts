// verifyPatch: bytes in, VerifyResult out. A pipeline of phases:
//   plan (inputs -> VerifyPlan) -> launch (the emulated process) -> run to the patch point
//   -> apply (a Patcher: tool | program, through the plan's PatchStrategy) -> observe the
//   rest of the run -> judge (findings -> verdict).
// Each check takes what a phase produced and returns Findings. Runs in a browser as well as in Node.

import { AnalysisError } from '../analysis/index.js';
import { AsmError } from '../asm/error.js';
import { ElfError } from '../elf/index.js';
import { EmulationError } from '../engine/engine.js';
import { LoaderError, type GuestProcess, type OutputChunk } from '../loader/index.js';
import { hex } from '../hex.js';
import { checkCrashAfterPatch, firstOutputDifference } from './checks/crash-after-patch.js';
import { callChain } from './dynamic/unwind.js';
import { runBaseline, type BaselineRun } from './dynamic/baseline.js';
import { classifyStop, hasErrors, isCrash, sameCrash, whereText, type Ending } from './pipeline/judge.js';
import { checkOwnCopy } from './checks/own-copy.js';
import { launchProcess, libcDescription, openEngine, PATCH_PATH, processLimits, threadsDescription } from './dynamic/launch.js';
import { runToPatchPoint, sleepCalls } from './dynamic/patch-point.js';
import { describeStop } from './dynamic/stop-text.js';
import { VerifyError } from './error.js';
import { sortFindings, verdictOf, type Finding } from './finding.js';
import type { VerifyInput } from './input.js';
import type { PatchOutcome, Patcher } from './patchers/patcher.js';
import { programPatcher } from './patchers/program.js';
import { toolPatcher } from './patchers/tool.js';
import { attachExploration } from './explore/attach.js';
import { completePlan, planStatic, type VerifyPlan } from './pipeline/plan.js';
import type { PatchSession } from './pipeline/session.js';
import type { ObservedRun } from './strategies/index.js';
import { DEFAULT_SCHEDULES, type RunSummary, type ScheduleSummary, type VerifyResult } from './result.js';
import { attachSourceLines } from './source-lines.js';
import { outputLines, symbolSummary } from './summary.js';
import { SystemProcess, DEFAULT_SCHEDULE_SEED } from '../loader/system/index.js';

/** Bytes of original code kept for the "replaced bytes" listing (the last instruction may extend past the trampoline). */
const ORIGINAL_TAIL = 32;

/** Errors of every layer below: the patch could not be verified. */
function isInputError(e: unknown): e is Error {
  return e instanceof VerifyError || e instanceof ElfError || e instanceof LoaderError || e instanceof AsmError || e instanceof EmulationError || e instanceof AnalysisError;
}

export async function verifyPatch(input: VerifyInput): Promise<VerifyResult> {
  const partial: VerifyResult = { verdict: 'error', findings: [] };
  try {
    if (input.explore && input.strategy !== undefined && input.strategy !== 'prologue') {
      throw new VerifyError('bad-option', `--explore tries --strategy prologue only, not ${input.strategy}: leave out --explore to verify the ${input.strategy} patch at its patch point`);
    }
    const result = attachSourceLines(await verify(input, partial), input);
    return input.explore ? await attachExploration(input, input.explore, result) : result;
  } catch (e) {
    if (!isInputError(e)) throw e;
    return { ...partial, verdict: 'error', findings: [], error: e.message };
  }
}

function patcherFor(plan: VerifyPlan): Patcher {
  return plan.mode === 'tool-driven' ? toolPatcher : programPatcher;
}

async function verify(input: VerifyInput, result: VerifyResult): Promise<VerifyResult> {
  const limits = processLimits(input.limits);
  // plan: what the files and options decide
  const staticPlan = await planStatic(input);
  checkDeadline(limits, 'parsing and analysing the files');
  if (staticPlan.strategy.name !== 'prologue') result.strategy = staticPlan.strategy.name;
  const engine = await openEngine(input.engine ?? 'wasm');
  try {
    // launch, then find the old function (and the slots) where the guest's ld.so put them
    const process = launchProcess(engine, input.main, input.mainName, input.patch, input.patchName, input.libraries ?? [], input.process, input.guest, limits);
    const loadBias = process.executable.base;
    const located = staticPlan.strategy.locate(staticPlan, process);
    const plan = completePlan(staticPlan, located);
    const site = located.site;
    result.target = symbolSummary(plan.target, site, located.file);
    const original = process.engine.readMemory(site, ORIGINAL_TAIL);
    // run to the patch point
    const point = runToPatchPoint(process, { address: site, name: plan.target.demangled }, sleepCalls(plan.mainElf, plan.codeMap, loadBias), {
      ...(plan.patchAt !== undefined ? { patchAt: plan.patchAt } : {}),
      budget: plan.budget,
    });
    const session: PatchSession = {
      plan, process, loadBias, site, original, point, result, describe: (a) => process.describe(a), ...(located.slots ? { slots: located.slots } : {}),
    };
    const run: RunSummary = { engine: engine.name, mode: plan.mode, instructions: 0, patchPoint: point.instruction, ended: '', output: [] };
    result.run = run;
    const seeds = scheduleSeeds(process, input.guest?.seed ?? DEFAULT_SCHEDULE_SEED, input.schedules ?? DEFAULT_SCHEDULES);
    // One snapshot at the patch point (the engine keeps one): every schedule and its baseline start from it.
    const atPoint = process.snapshot();
    // The other schedules first, then the first one, whose run the report describes (the process ends there).
    const failing: { seed: bigint; findings: Finding[] }[] = [];
    let undecided = 0;
    for (const seed of seeds.slice(1)) {
      const other = patchOnce({ ...session, result: { verdict: 'error', findings: [] } }, seed, atPoint, located.findings);
      process.restore(atPoint);
      if (hasErrors(other.findings)) failing.push({ seed, findings: other.findings.filter((f) => f.severity === 'error') });
      else if (other.verdictOfRun.inconclusive !== null) undecided++;
    }
    const first = patchOnce(session, seeds[0]!, atPoint, located.findings);
    const { outcome, observed, baseline, patchedOutput, verdictOfRun } = first;
    const findings = first.findings;
    if (hasErrors(findings)) failing.unshift({ seed: seeds[0]!, findings: [] });
    if (seeds.length > 1) {
      run.schedules = schedulesSummary(input, seeds, failing);
      if (undecided > 0) run.schedules.inconclusive = undecided;
    }
    // A schedule the report's run does not show failed: its errors join, said as such.
    const firstFailing = failing[0];
    if (firstFailing && firstFailing.seed !== seeds[0]) {
      for (const f of firstFailing.findings) findings.push({ ...f, message: `in schedule ${firstFailing.seed} (--seed ${firstFailing.seed} --schedules 1 replays it): ${f.message}` });
    }
    const difference = firstOutputDifference(patchedOutput, baseline.output);
    result.baseline = {
      ended: describeStop(baseline.stop),
      instructions: baseline.instructions,
      targetCalls: baseline.targetCalls,
      output: outputLines(baseline.output),
      ...(difference?.text !== undefined ? { firstDifference: difference.text } : {}),
    };
    run.instructions = process.instructions;
    run.process = { model: process.model, libc: libcDescription(process) };
    const threads = threadsDescription(process);
    if (threads) run.process.threads = threads;
    run.ended = observed ? describeStop(observed.stop) : outcome.stopped ?? 'the patch was not applied';
    run.endReason = run.ended;
    run.patchPointDescription = point.description;
    run.ended = `${run.ended}; patch point: ${point.description}`;
    run.output = outputLines(process.output);
    if (process.charged > 0) run.hostWork = process.charged;
    if (process.failedSyscalls > 0) {
      const first = process.events.flatMap((e) => (e.kind === 'syscall' ? [{ name: e.name, number: e.number, result: String(e.result) }] : []));
      run.failedSyscalls = { count: process.failedSyscalls, first };
    }
    if (verdictOfRun.inconclusive !== null && !hasErrors(findings)) {
      result.findings = [];
      result.verdict = 'error';
      result.error = verdictOfRun.inconclusive;
      return result;
    }
    if (verdictOfRun.inconclusive !== null) run.ended = `${run.ended}; the run alone could not decide: ${verdictOfRun.inconclusive}`;
    result.findings = sortFindings(mergeSameCode(findings));
    result.verdict = verdictOf(result.findings);
    return result;
  } finally {
    engine.close();
  }
}

/** What one schedule of the patched run (and its baseline) gives. */
interface ScheduleRun {
  outcome: PatchOutcome;
  observed: ObservedRun | null;
  baseline: BaselineRun;
  patchedOutput: OutputChunk[];
  verdictOfRun: { findings: Finding[]; inconclusive: string | null };
  findings: Finding[];
}

/**
 * From the patch point: the unpatched baseline, then the patch and the patched run, both under
 * the schedule `seed` (system model); the process is left at the patched run's end.
 */
function patchOnce(session: PatchSession, seed: bigint, atPoint: object, located: readonly Finding[]): ScheduleRun {
  const { plan, process, site } = session;
  const reseed = (): void => {
    if (process instanceof SystemProcess) process.threads.reseed(seed);
  };
  reseed();
  // the unpatched baseline from the patch point; the process is back there afterwards
  const baseline = runBaseline(process, atPoint, site, plan.budget);
  reseed();
  const outputAtPoint = process.output.length;
  // apply
  const outcome = patcherFor(plan).apply(session);
  const findings: Finding[] = [...located, ...outcome.findings];
  // observe
  const observed = outcome.continues ? plan.strategy.observe(session, outcome) : null;
  if (observed) findings.push(...observed.findings);
  else findings.push(...(plan.strategy.unobserved?.(session, outcome) ?? []));
  const patchedStop = observed?.stop ?? outcome.stop;
  const ending = patchedStop ? classifyStop(patchedStop) : null;
  findings.push(...checkOwnCopy({
    bindings: process.relocationBindings,
    patchPath: PATCH_PATH,
    patchName: plan.input.patchName,
    main: plan.mainElf,
    mainName: plan.input.mainName,
    targetName: plan.target.name,
    describe: session.describe,
  }));
  // judge
  const patchedOutput = process.output.slice(outputAtPoint);
  const verdictOfRun = judgeEnding(session, outcome, observed, ending, baseline, patchedOutput, findings);
  findings.push(...verdictOfRun.findings);
  return { outcome, observed, baseline, patchedOutput, verdictOfRun, findings };
}

/** --schedules N: the seeds replayed from the patch point (S, S+1, ...); one when no second thread can race. */
function scheduleSeeds(process: GuestProcess, seed: bigint, count: number): bigint[] {
  const threaded = process instanceof SystemProcess && process.threads.live.length > 1;
  const n = threaded ? Math.max(1, count) : 1;
  return Array.from({ length: n }, (_, i) => BigInt.asUintN(64, seed + BigInt(i)));
}

function schedulesSummary(input: VerifyInput, seeds: readonly bigint[], failing: readonly { seed: bigint }[]): ScheduleSummary {
  const summary: ScheduleSummary = { tried: seeds.length, failed: failing.length, seeds: `${seeds[0]}..${seeds[seeds.length - 1]}` };
  const first = failing[0];
  if (first) {
    summary.firstFailingSeed = first.seed.toString();
    summary.replay = replayCommand(input, first.seed);
  }
  return summary;
}

/** The command line that replays one schedule. */
function replayCommand(input: VerifyInput, seed: bigint): string {
  const args = [input.mainName, input.patchName, input.symbol, ...(input.replayArgs ?? [])].map(shellWord);
  return `verify-patch ${args.join(' ')} --seed ${seed} --schedules 1`;
}

function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The wall-clock limit between the host-only phases (parsing, analysis); the process checks it while running. */
function checkDeadline(limits: { deadline?: number; timeoutSeconds?: number }, phase: string): void {
  if (limits.deadline !== undefined && Date.now() >= limits.deadline) {
    throw new VerifyError('budget', `the verification exceeded the wall-clock limit of ${limits.timeoutSeconds} s (--timeout) while ${phase}`);
  }
}

/**
 * How the patched run ended, against the baseline: CRASH_AFTER_PATCH for a crash only the
 * patched run has; `inconclusive` (why, and what to do) when the run cannot support a verdict.
 */
function judgeEnding(
  session: PatchSession,
  outcome: PatchOutcome,
  observation: ObservedRun | null,
  ending: Ending | null,
  baseline: BaselineRun,
  patchedOutput: readonly OutputChunk[],
  findings: readonly Finding[],
): { findings: Finding[]; inconclusive: string | null } {
  const { plan, process, point } = session;
  const after = process.instructions - point.instruction;
  const at = `${after} instructions after the patch point (instruction ${process.instructions} of the run)`;
  if (!ending) return { findings: [], inconclusive: `${outcome.stopped ?? 'the patch was not applied'}: there is no patched run to judge` };
  const phase = observation ? 'the patched run' : `the ${plan.signal?.name ?? 'signal'} handler`;
  const baselineEnding = classifyStop(baseline.stop);
  switch (ending.kind) {
    case 'unsupported':
      return { findings: [], inconclusive: `${phase} stopped ${at} on something the sandbox cannot emulate: ${ending.unsupported}; nothing after that point was checked` };
    case 'crashed':
    case 'exited': {
      if (!isCrash(ending)) return { findings: [], inconclusive: null };
      // A nonzero status the unpatched program exits with too is the program's own answer.
      if (ending.kind === 'exited' && sameCrash(ending.stop, baseline.stop)) return { findings: [], inconclusive: null };
      if (baselineEnding.kind === 'crashed') {
        const same = sameCrash(ending.stop, baseline.stop);
        return {
          findings: [],
          inconclusive: `the program crashes without the patch too: the unpatched run from the same patch point ends with ${whereText(baseline.stop)} after ${baseline.instructions} instructions${same ? ', as the patched run does' : `, the patched run with ${whereText(ending.stop)}`}; choose a patch point (--patch-at) or input where the program runs on`,
        };
      }
      // The patcher's own write faulting is WRITE_FAULT, already reported with its pages.
      if (findings.some((f) => f.code === 'WRITE_FAULT' && f.severity === 'error') && !observation) return { findings: [], inconclusive: null };
      return {
        findings: checkCrashAfterPatch({
          patched: ending.stop,
          baseline: baseline.stop,
          patchedOutput,
          baselineOutput: baseline.output,
          instructionsAfter: after,
          poisoning: process.lastPoisoning,
          describe: session.describe,
          fileOffset: (a) => fileOffset(process, a),
          callChain: (fault) => callChain(process, fault),
          targetName: plan.target.demangled,
          target: { start: session.site, end: session.site + BigInt(Math.max(plan.target.size, 1)) },
          generatedCode: (a) => generatedCode(process, a),
          mprotects: process.events.flatMap((e) => (e.kind === 'mprotect' && e.at >= point.instruction
            ? [{ at: e.at, address: e.address, length: e.length, prot: e.prot, result: e.result, by: e.via === 'host' ? 'the tool' : e.caller === 0n ? 'the program (an mprotect system call)' : session.describe(e.caller) }]
            : [])),
        }),
        inconclusive: null,
      };
    }
    case 'budget': {
      if (!observation) return { findings: [], inconclusive: `the instruction budget (--max-insns ${plan.budget}) ran out while the ${plan.signal?.name ?? 'signal'} handler was still patching, ${at}; raise --max-insns` };
      if (observation.replacementRuns > 0 || observation.targetCalls > 0) return { findings: [], inconclusive: null };
      return {
        findings: [],
        inconclusive: `the patched function was not called again within the budget: after the patch point the run went on for ${after} instructions (to --max-insns ${plan.budget}) without entering ${plan.target.demangled} or ${outcome.replacementName ?? 'the replacement'}, so nothing shows the patch working; give it more with --max-insns, or patch earlier with --patch-at`,
      };
    }
  }
}

/** "code generated at run time (...)" for an address in an executable mapping no loaded object owns (a hook stub a handler wrote); else null. */
function generatedCode(process: GuestProcess, address: bigint): string | null {
  const mapping = process.regions().find((m) => m.begin <= address && address < m.end);
  if (!mapping || process.objects.some((o) => o.contains(address))) return null;
  return `code generated at run time at ${hex(address)} (${mapping.name}+${hex(address - mapping.begin)})`;
}

function fileOffset(process: GuestProcess, address: bigint): string {
  const o = process.objects.find((x) => x.contains(address));
  return o ? `${o.path}+${hex(address - o.base)}` : hex(address);
}

/** One finding per code and severity: a static and a dynamic view of the same problem become one, with both evidences. */
function mergeSameCode(findings: readonly Finding[]): Finding[] {
  const merged = new Map<string, Finding>();
  const out: Finding[] = [];
  for (const f of findings) {
    // Return addresses stay one finding per address: the static call and the threads stopped in it are one.
    const key = f.code === 'RETURN_ADDRESS_IN_PATCHED_BYTES' ? `${f.code}/${f.severity}/${f.address ?? ''}` : `${f.code}/${f.severity}`;
    const existing = merged.get(key);
    if (!existing || f.code === 'BRANCH_INTO_PATCHED_BYTES') {
      const copy = { ...f, evidence: [...f.evidence] };
      merged.set(key, copy);
      out.push(copy);
      continue;
    }
    existing.evidence.push({ label: 'also', text: f.message }, ...f.evidence);
  }
  return out;
}
