// The run of a pointer-slot strategy (got.ts, vtable.ts): launch main with its libraries,
// plan the slots, run to the patch point, apply (the tool writes the slots, or main's
// handler does what it does), watch the rest of the run, judge. The same steps as the
// prologue strategy's, with slots instead of code bytes.

import { CodeMap } from '../../analysis/index.js';
import { codeImageFromElf } from '../../analysis/from-elf.js';
import { ElfError, ElfFile, initDemangler } from '../../elf/index.js';
import type { EmulatedProcess, ProcessSnapshot, ProcessStop } from '../../loader/index.js';
import { RTLD_NOW } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { checkReached } from '../checks/not-reached.js';
import { checkOwnCopy } from '../checks/own-copy.js';
import { checkHandlerWriteFault, checkToolWriteFault } from '../checks/write-fault.js';
import { launchProcess, openEngine, PATCH_PATH } from '../dynamic/launch.js';
import { runToPatchPoint, sleepCalls } from '../dynamic/patch-point.js';
import { runSignalHandler } from '../dynamic/program-patcher.js';
import { describeStop } from '../dynamic/stop-text.js';
import { VerifyError } from '../error.js';
import { sortFindings, verdictOf, type Evidence, type Finding } from '../finding.js';
import type { VerifyInput } from '../input.js';
import { planRunOptions } from '../pipeline/plan.js';
import { chooseReplacement } from '../replacement.js';
import type { RunSummary, SlotWriteSummary, VerifyResult } from '../result.js';
import { outputLines, symbolSummary } from '../summary.js';
import { explainGotCall, gotWrites, planGot } from './got.js';
import {
  applySlotsAsTool, changedWords, checkOldStillCalled, checkWritesOutside, describeData, observeSlots, readWatched,
  type SlotObservation, type SlotPlan, type SlotStrategyName, type SlotWrite,
} from './slots.js';
import { checkHookTransfers, checkObjectsConverted, explainVtableCall, newModuleMethods, planVtable, vtableWrites } from './vtable.js';

function parseElf(bytes: Uint8Array, role: string, name: string): ElfFile {
  try {
    return ElfFile.parse(bytes);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    throw new VerifyError('bad-input', `${role} '${name}' is not a usable ELF file: ${e.message}`);
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export async function verifySlotStrategy(input: VerifyInput, strategy: SlotStrategyName, result: VerifyResult): Promise<VerifyResult> {
  // plan: the options every strategy shares, then (once main and its libraries are mapped) the slots.
  const { mode, budget, signal } = planRunOptions(input);
  if (input.lookup !== undefined) {
    throw new VerifyError('bad-option', `--lookup applies to --strategy prologue only: the ${strategy} strategy finds its slots through relocations${strategy === 'vtable' ? ' and the _ZTV symbols' : ''}, as a careful patcher does`);
  }
  if (input.trampoline !== undefined && input.trampoline !== 'abs-rax') {
    throw new VerifyError('bad-option', `--trampoline applies to --strategy prologue only: the ${strategy} strategy writes addresses into slots, not code`);
  }
  result.strategy = strategy;
  const mainElf = parseElf(input.main, 'the executable', input.mainName);
  const patchElf = parseElf(input.patch, 'the patch', input.patchName);
  await initDemangler();
  const codeMap = CodeMap.build(codeImageFromElf(mainElf));

  const engine = await openEngine(input.engine ?? 'wasm');
  try {
    const process = launchProcess(engine, input.main, input.mainName, input.patch, input.patchName, input.libraries);
    const loadBias = process.executable.base;
    const plan = strategy === 'got' ? planGot(process, input.symbol) : planVtable(process, input.symbol);
    const file = plan.old.object === process.executable.path ? input.mainName : baseName(plan.old.object);
    result.target = symbolSummary(plan.old.resolved, plan.old.address, file);
    const point = runToPatchPoint(process, { address: plan.old.address, name: plan.old.demangled }, sleepCalls(mainElf, codeMap, loadBias), {
      ...(input.patchAt !== undefined ? { patchAt: input.patchAt } : {}),
      budget,
    });
    const describe = (a: bigint): string => process.describe(a);
    const findings: Finding[] = [...plan.findings];
    const run: RunSummary = { engine: engine.name, mode, instructions: 0, patchPoint: point.instruction, ended: '', output: [] };
    result.run = run;
    const beforePatch = process.snapshot();

    let writes: SlotWrite[] = [];
    let replacementName: string | null = null;
    const replacements = new Set<bigint>();
    const extra = new Set<bigint>();
    let newModule: Parameters<typeof checkObjectsConverted>[2] | null = null;
    let handlerStop: ProcessStop | null = null;

    if (mode === 'tool-driven') {
      const choice = chooseReplacement(patchElf, `the patch '${input.patchName}'`, plan.old.resolved, { ...(input.with !== undefined ? { with: input.with } : {}), symbol: input.symbol }, true)!;
      const opened = process.dlopen(PATCH_PATH, RTLD_NOW, Math.max(1, budget - process.instructions));
      if ('error' in opened) throw new VerifyError('bad-input', `dlopen("${input.patchName}") fails in the emulated process: ${opened.error}`);
      const patchObject = process.objects.find((o) => o.path === PATCH_PATH)!;
      const address = choice.how === 'fix-table' && choice.fixTable ? process.mem.u64(patchObject.base + choice.fixTable.address) : patchObject.base + choice.fn.address;
      replacementName = choice.fn.demangled;
      result.replacement = symbolSummary(choice.fn, address, input.patchName);
      const planned = strategy === 'got' ? gotWrites(plan, address) : vtableWrites(plan, address, choice.fn.name, patchObject);
      for (const w of planned) replacements.add(w.value);
      const applied = applySlotsAsTool(process, planned);
      if (applied.refused) findings.push(...checkToolWriteFault(applied.refused.result, { first: applied.refused.address, length: applied.refused.length }));
      writes = applied.writes;
    } else {
      const signalName = signal!.name;
      const before = readWatched(process, plan.watched);
      const handler = runSignalHandler(process, signal!.number, signalName, budget);
      handlerStop = handler.stop;
      writes = changedWords(process, plan.watched, before, plan.targets);
      const slotAddresses = new Set(plan.slots.map((s) => s.address));
      for (const w of writes) if (w.inTarget && (slotAddresses.has(w.address) || strategy === 'vtable')) replacements.add(w.after);
      const fault = handler.stop?.reason === 'killed' ? handler.stop.fault : undefined;
      if (fault) findings.push(...checkHandlerWriteFault(fault, handler.mprotects, { site: fault.address & ~7n, length: 8 }));
      const patchObject = process.objects.find((o) => o.path === PATCH_PATH || o.path === `./${baseName(input.patchName)}`);
      if (patchObject && strategy === 'vtable' && handler.stop === null) {
        const { methods, tables } = newModuleMethods(process, patchObject);
        // What the handler looked up in the patch that is not a method: the converter(s).
        const converters = new Set(handler.dlsyms.filter((d) => d.error === undefined && patchObject.contains(d.address) && !methods.has(d.address)).map((d) => d.address));
        newModule = { methods, tables, converters };
        for (const a of [...methods, ...converters]) extra.add(a);
      }
      if (handler.stop !== null) run.ended = `while the ${signalName} handler ran, ${describeStop(handler.stop)}`;
    }

    findings.push(...checkOwnCopy({
      bindings: process.relocationBindings, patchPath: PATCH_PATH, patchName: input.patchName, main: mainElf, mainName: input.mainName, targetName: plan.old.name, describe,
    }));
    result.slotWrites = writes.map((w) => slotSummary(process, plan, w));
    findings.push(...checkWritesOutside(plan, writes, process, mode === 'tool-driven' ? 'the tool' : "main's handler"));
    const patched = writes.some((w) => w.inTarget);

    let observation: SlotObservation | null = null;
    if (handlerStop === null) {
      // Hook stubs: new slot values in code no loaded object owns (generated by the handler).
      const stubs = [...replacements].filter((a) => !process.objects.some((o) => o.contains(a)));
      observation = observeSlots(process, {
        olds: [plan.old.address, ...plan.slots.filter((s) => s.thunk).map((s) => s.old)], replacements: [...replacements], extra: [...extra],
        stubs, converters: [...(newModule?.converters ?? [])], budget,
      });
      const explain = strategy === 'got'
        ? explainGotCall(plan, new Set(writes.map((w) => w.address)), (a) => process.objects.find((o) => o.contains(a))?.path ?? hex(a))
        : explainVtableCall(process, plan);
      if (patched) findings.push(...checkOldStillCalled(plan, observation, process, explain));
      if (newModule) findings.push(...checkObjectsConverted(process, observation, newModule));
      findings.push(...checkHookTransfers(process, observation.hookTransfers));
      run.instructions = process.instructions;
      run.ended = describeStop(observation.stop);
      run.output = outputLines(process.output);
      const stop = observation.stop;
      const died = stop.reason === 'killed';
      if (stop.reason === 'killed') findings.push(...crashAgainstBaseline(process, beforePatch, stop, budget));
      const diedBeforeNextCall = died && observation.oldCallCount === 0 && observation.replacementRuns === 0;
      if (!diedBeforeNextCall) {
        findings.push(...checkReached({
          targetName: plan.old.demangled,
          replacementName: replacementName ?? (patched ? 'the new slot targets' : null),
          targetCallsBefore: point.targetCallsBefore,
          targetCallsAfter: observation.oldCallCount,
          replacementRuns: observation.replacementRuns,
          instructionsAfter: run.instructions - point.instruction,
          writesElsewhere: [],
          nothingWritten: !patched,
        }));
      }
    } else {
      run.instructions = process.instructions;
      run.output = outputLines(process.output);
      // The handler never returned: a fault it caused is a finding (WRITE_FAULT, or a crash the
      // unpatched run does not have); an exit or a spent budget leaves nothing verified.
      if (!findings.some((f) => f.severity === 'error')) {
        if (handlerStop.reason === 'killed') findings.push(...crashAgainstBaseline(process, beforePatch, handlerStop, budget));
        if (!findings.some((f) => f.severity === 'error')) {
          throw new VerifyError('unsupported', `main's ${signal!.name} handler did not return, so nothing after the patch could be watched: ${describeStop(handlerStop)}`);
        }
      }
    }

    run.endReason = run.ended;
    run.patchPointDescription = point.description;
    run.ended = `${run.ended}; patch point: ${point.description}`;
    result.findings = sortFindings(mergeSameCode(findings));
    result.verdict = verdictOf(result.findings);
    return result;
  } finally {
    engine.close();
  }
}

function slotSummary(process: EmulatedProcess, plan: SlotPlan, w: SlotWrite): SlotWriteSummary {
  const slot = plan.slots.find((s) => s.address === w.address);
  const data = describeData(process, w.address).text;
  return {
    address: w.address,
    location: slot && plan.strategy === 'got' ? `${slot.what}: ${data}` : data,
    before: w.before,
    beforeTarget: describeCode(process, w.before),
    after: w.after,
    afterTarget: describeCode(process, w.after),
    inTarget: w.inTarget,
  };
}

/** Symbol+offset in a loaded object, else the mapping (a hook stub in an anonymous page), else "not code". */
function describeCode(process: EmulatedProcess, address: bigint): string {
  if (process.objects.some((o) => o.contains(address))) return process.describe(address);
  const mapping = process.regions().find((m) => m.begin <= address && address < m.end);
  if (mapping) return `${mapping.name}+${hex(address - mapping.begin)}${mapping.perms & 4 ? ', code generated at run time' : ''}`;
  return address === 0n ? 'null' : 'unmapped';
}

/**
 * CRASH_AFTER_PATCH: the patched run died; the same point run on without the patch (restored
 * from the snapshot taken before it) does not. Attributed to the fault's code: generated
 * code (an anonymous mapping: a hook stub), the patch, or the program.
 */
function crashAgainstBaseline(process: EmulatedProcess, beforePatch: ProcessSnapshot, stop: Extract<ProcessStop, { reason: 'killed' }>, budget: number): Finding[] {
  const fault = stop.fault;
  const patchedEnd = describeStop(stop);
  // Attributed before the restore: the code that faulted may be a mapping the patch made.
  const generated = fault ? generatedCode(process, fault.rip) : null;
  const where = fault ? generated ?? process.describe(fault.rip) : 'unknown code';
  process.restore(beforePatch);
  const left = budget - process.instructions;
  const baseline = left > 0 ? process.run({ maxInstructions: left }) : { reason: 'budget' as const, instructions: process.instructions };
  if (baseline.reason === 'killed') return [];
  const evidence: Evidence[] = [{ label: 'patched run', text: patchedEnd }, { label: 'unpatched baseline from the same point', text: describeStop(baseline) }];
  if (fault) {
    evidence.unshift({ label: 'faulting instruction', address: fault.rip, location: fault.location, bytes: fault.instructionBytes.slice(0, 8), text: fault.message });
    for (const b of fault.backtrace.slice(0, 6)) evidence.push({ label: 'called from', address: b.address, location: b.location });
  }
  return [{
    code: 'CRASH_AFTER_PATCH',
    severity: 'error',
    message: `the patched process dies (${fault?.signal ?? `signal ${stop.signo}`}) in ${where}; without the patch it ${baseline.reason === 'exited' ? `exits with status ${baseline.status}` : 'runs on'}`,
    address: fault?.rip ?? 0n,
    evidence,
    hint: generated
      ? 'a hook stub must follow the x86-64 calling convention: `this` and the other arguments arrive in rdi, rsi, rdx, rcx, r8, r9 (keep them across the converter call) and rsp must be 16-byte aligned at each call'
      : 'the code that faulted runs differently because of the patch: compare the replacement with the old function (arguments, object layout, state it expects)',
  }];
}

/** "code generated at run time (…)" when rip is in a mapping no loaded object owns (a hook stub the handler wrote); else null. */
function generatedCode(process: EmulatedProcess, rip: bigint): string | null {
  const mapping = process.regions().find((m) => m.begin <= rip && rip < m.end);
  if (!mapping || process.objects.some((o) => o.contains(rip))) return null;
  return `code generated at run time at ${hex(rip)} (${mapping.name}+${hex(rip - mapping.begin)}: a hook stub the handler wrote)`;
}

/** One finding per code and severity: the evidence of the others joins the first. */
function mergeSameCode(findings: readonly Finding[]): Finding[] {
  const merged = new Map<string, Finding>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.code}/${f.severity}`;
    const existing = merged.get(key);
    if (!existing) {
      const copy = { ...f, evidence: [...f.evidence] };
      merged.set(key, copy);
      out.push(copy);
      continue;
    }
    existing.evidence.push({ label: 'also', text: f.message }, ...f.evidence);
  }
  return out;
}
