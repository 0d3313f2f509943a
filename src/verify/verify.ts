// verifyPatch: bytes in, VerifyResult out. Resolves the patch plan (target in main,
// replacement in patch.so, trampoline), runs main in the emulated process to the patch
// point, applies the patch as the tool (tool-driven) or lets main's handler do it
// (program-driven, --signal), watches the rest of the run, and derives the verdict from
// the findings of the static and dynamic checks. Runs in a browser as well as in Node.

import { AnalysisError, analyzePatchSite, CodeMap, type PatchSite } from '../analysis/index.js';
import { codeImageFromElf } from '../analysis/from-elf.js';
import { AsmError } from '../asm/error.js';
import { Assembler } from '../asm/keystone.js';
import { buildTrampoline, parseTrampolineSpec, type TrampolineSpec } from '../asm/trampoline.js';
import { ElfError, ElfFile, initDemangler } from '../elf/index.js';
import { EmulationError } from '../engine/engine.js';
import { EmulatedProcess, LoaderError, RTLD_NOW, signalNumber, SIGNAL_NAMES } from '../loader/index.js';
import { checkBranchInto } from './checks/branch-into.js';
import { checkEndbr64 } from './checks/endbr64.js';
import { checkFetchesAfterPatch, checkLiveAtPatchPoint } from './checks/live-clobber.js';
import { checkReached } from './checks/not-reached.js';
import { checkOverrun } from './checks/overrun.js';
import { checkOwnCopy } from './checks/own-copy.js';
import { checkRegisterPreservation, type CalleeFacts } from './checks/register-preservation.js';
import { checkStackBalance } from './checks/stack-balance.js';
import { checkPartialInstruction } from './checks/partial-instruction.js';
import { checkReturnAddress } from './checks/return-address.js';
import { checkRipRelative } from './checks/rip-relative.js';
import { checkFailedLookups, checkTargetExported } from './checks/symbol-export.js';
import { checkTrampolineForm } from './checks/trampoline-form.js';
import { checkWrittenTransfer } from './checks/written-transfer.js';
import { checkHandlerWriteFault, checkToolWriteFault } from './checks/write-fault.js';
import type { StaticContext } from './context.js';
import { launchProcess, openEngine, PATCH_PATH } from './dynamic/launch.js';
import { observeAfterPatch, type Observation } from './dynamic/observe.js';
import { runToPatchPoint, sleepCalls, type PatchPoint } from './dynamic/patch-point.js';
import { bytesWrittenAt, runSignalHandler, writtenRanges } from './dynamic/program-patcher.js';
import { describeStop } from './dynamic/stop-text.js';
import { applyToolPatch } from './dynamic/tool-patcher.js';
import { VerifyError } from './error.js';
import { sortFindings, verdictOf, type Evidence, type Finding } from './finding.js';
import { DEFAULT_MAX_INSTRUCTIONS, type VerifyInput } from './input.js';
import { chooseReplacement, type ReplacementChoice } from './replacement.js';
import type { RunSummary, VerifyResult } from './result.js';
import { outputLines, symbolSummary, trampolineSummary } from './summary.js';
import { requireFunction, type ResolvedFunction } from './symbols.js';
import { isVariadicFunction } from './variadic.js';
import { readWrittenTrampoline } from './written-trampoline.js';
import { attachSourceLines } from './source-lines.js';
import { hex } from '../hex.js';

/** The classic trampoline's length: what a program-driven patch is assumed to write when it writes nothing we can see. */
const DEFAULT_TRAMPOLINE_LENGTH = 12;
/** Bytes of original code kept for the "replaced bytes" listing (the last instruction may extend past the trampoline). */
const ORIGINAL_TAIL = 32;
/** Prologue bytes read to recognise a variadic function. */
const PROLOGUE_BYTES = 128;


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

function parseElf(bytes: Uint8Array, role: string, name: string): ElfFile {
  try {
    return ElfFile.parse(bytes);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    const what = e.problem === 'truncated' ? 'is truncated (cut short or damaged)' : e.problem === 'not-elf' ? 'is not an ELF file' : 'is not a usable ELF file';
    throw new VerifyError('bad-input', `${role} '${name}' ${what}: ${e.message}`);
  }
}

function staticFindings(ctx: StaticContext): Finding[] {
  return [...checkOverrun(ctx), ...checkPartialInstruction(ctx), ...checkBranchInto(ctx), ...checkReturnAddress(ctx), ...checkRipRelative(ctx)];
}

function patchSiteOf(codeMap: CodeMap, target: ResolvedFunction, length: number): PatchSite {
  const known = codeMap.functionContaining(target.address);
  const fn = known && known.address === target.address ? known : { address: target.address, size: target.size };
  return analyzePatchSite(codeMap, fn, length);
}

async function verify(input: VerifyInput, result: VerifyResult): Promise<VerifyResult> {
  const mode = input.signal === undefined ? 'tool-driven' : 'program-driven';
  const budget = input.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (!Number.isInteger(budget) || budget <= 0) throw new VerifyError('bad-option', `the instruction budget must be a positive integer, not ${budget}`);
  if (input.patchAt !== undefined && (!Number.isInteger(input.patchAt) || input.patchAt < 0)) {
    throw new VerifyError('bad-option', `--patch-at must be a non-negative instruction count, not ${input.patchAt}`);
  }
  let signo: number | undefined;
  if (input.signal !== undefined) {
    signo = signalNumber(input.signal);
    if (signo === undefined || signo <= 0 || signo >= 65) throw new VerifyError('bad-option', `unknown signal '${input.signal}' (try USR1, USR2, HUP or a number)`);
  }
  const spec: TrampolineSpec = typeof input.trampoline === 'object' ? parseTrampolineSpec(input.trampoline.template) : input.trampoline ?? 'abs-rax';

  const mainElf = parseElf(input.main, 'the executable', input.mainName);
  const patchElf = parseElf(input.patch, 'the patch', input.patchName);
  await initDemangler();
  const target = requireFunction(mainElf, input.symbol, `the executable '${input.mainName}'`);
  const replacement = chooseReplacement(patchElf, `the patch '${input.patchName}'`, target, { ...(input.with !== undefined ? { with: input.with } : {}), symbol: input.symbol }, mode === 'tool-driven');
  const assembler = typeof spec === 'object' && mode === 'tool-driven' ? await Assembler.load() : undefined;
  const codeMap = CodeMap.build(codeImageFromElf(mainElf));

  const engine = await openEngine(input.engine ?? 'wasm');
  try {
    const process = launchProcess(engine, input.main, input.mainName, input.patch, input.patchName);
    const loadBias = process.executable.base;
    const site = target.address + loadBias;
    result.target = symbolSummary(target, site, input.mainName);
    const ctxBase = { codeMap, target, mainName: input.mainName, loadBias };
    const originalWithTail = process.engine.readMemory(site, ORIGINAL_TAIL);
    const point = runToPatchPoint(process, { address: site, name: target.demangled }, sleepCalls(mainElf, codeMap, loadBias), {
      ...(input.patchAt !== undefined ? { patchAt: input.patchAt } : {}),
      budget,
    });
    const describe = (a: bigint): string => process.describe(a);
    const findings: Finding[] = [];
    const run: RunSummary = { engine: engine.name, mode, instructions: 0, patchPoint: point.instruction, ended: '', output: [] };
    result.run = run;

    let observation: Observation | null = null;
    let replacementName: string | null = replacement ? replacement.fn.demangled : null;
    let writesElsewhere: Evidence[] = [];
    let nothingWritten = false;
    let patched = false;

    if (mode === 'tool-driven') {
      const choice = replacement!;
      const opened = process.dlopen(PATCH_PATH, RTLD_NOW, Math.max(1, budget - process.instructions));
      if ('error' in opened) throw new VerifyError('bad-input', `dlopen("${input.patchName}") fails in the emulated process: ${opened.error}`);
      const patchObject = process.objects.find((o) => o.path === PATCH_PATH)!;
      const replacementAddress = replacementRuntimeAddress(process, patchObject.base, choice);
      result.replacement = symbolSummary(choice.fn, replacementAddress, input.patchName);
      const trampoline = buildTrampoline(spec, site, replacementAddress, { ...(assembler ? { assembler } : {}), sameObject: false });
      result.trampoline = trampolineSummary(trampoline.template ?? trampoline.form, site, replacementAddress, trampoline.bytes, trampoline.instructions, originalWithTail);
      const ctx: StaticContext = { ...ctxBase, site: patchSiteOf(codeMap, target, trampoline.length) };
      const facts = calleeFacts(codeMap, target, process, replacementAddress, choice.fn.demangled);
      findings.push(...staticFindings(ctx), ...checkTrampolineForm(trampoline, facts), ...checkTargetExported(target, input.mainName));
      findings.push(...checkEndbr64(ctx, { entryEndbr64: startsWithEndbr64(process, replacementAddress), name: choice.fn.demangled }, trampoline.transfer?.indirect ?? false));
      if (trampoline.bytes.length > 0) {
        const applied = applyToolPatch(process, site, trampoline.bytes);
        findings.push(...checkToolWriteFault(applied.unprotect, applied.pages));
        if (applied.written) {
          patched = true;
          findings.push(...checkLiveAtPatchPoint({ site, length: trampoline.length }, point, describe));
          observation = observeAfterPatch(process, { site, overwritten: trampoline.length, replacements: [replacementAddress], budget });
          findings.push(...checkFetchesAfterPatch({ site, length: trampoline.length }, observation, describe));
          const names = { target: target.demangled, replacement: choice.fn.demangled };
          findings.push(...checkStackBalance(observation.calls, names, { site, length: trampoline.length }, describe));
          findings.push(...checkRegisterPreservation(observation.calls, names, facts));
        }
      }
    } else {
      const signalName = SIGNAL_NAMES[signo!] ?? `signal ${signo}`;
      const handler = runSignalHandler(process, signo!, signalName, budget);
      const written = bytesWrittenAt(handler.codeWrites, site);
      const length = written.length > 0 ? written.length : DEFAULT_TRAMPOLINE_LENGTH;
      const ctx: StaticContext = { ...ctxBase, site: patchSiteOf(codeMap, target, length) };
      findings.push(...(written.length > 0 ? staticFindings(ctx) : hypotheticalFindings(staticFindings(ctx), signalName)));
      const patchObject = process.objects.find((o) => o.path === PATCH_PATH || o.path === `./${baseName(input.patchName)}`);
      const candidates: bigint[] = [];
      if (replacement && patchObject) candidates.push(replacementRuntimeAddress(process, patchObject.base, replacement));
      if (written.length > 0) {
        patched = true;
        const read = readWrittenTrampoline(written, site);
        result.trampoline = trampolineSummary('written by the program', site, read.destination ?? 0n, written, read.instructions, originalWithTail);
        if (read.destination !== null) {
          candidates.unshift(read.destination);
          const owner = process.objects.find((o) => o.contains(read.destination!));
          const fn = owner?.elf?.functionContaining(read.destination - owner.base);
          if (owner && fn && owner.elf) {
            replacementName = owner.elf.demangledName(fn);
            result.replacement = { name: fn.name, address: read.destination, size: Number(fn.size), file: owner === patchObject ? input.patchName : owner.path, ...(replacementName !== fn.name ? { demangled: replacementName } : {}) };
          }
        }
        findings.push(...checkWrittenTransfer(read));
        findings.push(...checkEndbr64(ctx, read.destination === null ? null : { entryEndbr64: startsWithEndbr64(process, read.destination), name: replacementName ?? hex(read.destination) }, true));
        findings.push(...checkLiveAtPatchPoint({ site, length: written.length }, point, describe));
      } else {
        nothingWritten = true;
        if (replacement && patchObject) result.replacement = symbolSummary(replacement.fn, candidates[0]!, input.patchName);
      }
      const ranges = writtenRanges(handler.codeWrites);
      result.programWrites = ranges.map((r) => ({ address: r.start, length: Number(r.end - r.start), location: describe(r.start), atTarget: r.start <= site && site < r.end }));
      writesElsewhere = result.programWrites
        .filter((w) => !w.atTarget)
        .map((w) => ({ label: 'the patcher wrote instead', address: w.address, location: w.location, text: `${w.length} bytes` }));
      const fault = handler.stop?.reason === 'killed' ? handler.stop.fault : undefined;
      findings.push(...checkHandlerWriteFault(fault, handler.mprotects, { site, length }));
      findings.push(...checkFailedLookups(target, handler.dlsyms.filter((d) => d.error !== undefined).map((d) => ({ symbol: d.symbol, error: d.error!, caller: describe(d.caller), instruction: d.at }))));
      if (handler.stop === null) {
        observation = observeAfterPatch(process, { site, overwritten: written.length, replacements: candidates, budget });
        if (written.length > 0) findings.push(...checkFetchesAfterPatch({ site, length: written.length }, observation, describe));
        const names = { target: target.demangled, replacement: replacementName ?? 'the replacement' };
        const facts = calleeFacts(codeMap, target, process, candidates[0] ?? null, replacementName ?? '');
        findings.push(...checkStackBalance(observation.calls, names, { site, length: written.length }, describe));
        findings.push(...checkRegisterPreservation(observation.calls, names, facts));
      } else {
        run.ended = `while the ${signalName} handler ran, ${describeStop(handler.stop)}`;
      }
    }

    // A process that died right after the patch, before calling the function again, did not
    // get the chance to reach the replacement: the crash is the finding, not "not reached".
    const diedBeforeNextCall = observation !== null && observation.stop.reason === 'killed' && observation.targetCalls === 0;
    if (observation && (patched || mode === 'program-driven') && !diedBeforeNextCall) {
      findings.push(...checkReached({
        targetName: target.demangled,
        replacementName,
        targetCallsBefore: point.targetCallsBefore,
        targetCallsAfter: observation.targetCalls,
        replacementRuns: observation.replacementRuns,
        instructionsAfter: process.instructions - point.instruction,
        writesElsewhere,
        nothingWritten,
      }));
    }
    findings.push(...checkOwnCopy({
      bindings: process.relocationBindings,
      patchPath: PATCH_PATH,
      patchName: input.patchName,
      main: mainElf,
      mainName: input.mainName,
      targetName: target.name,
      describe,
    }));

    run.instructions = process.instructions;
    if (observation) run.ended = describeStop(observation.stop);
    else if (run.ended === '') run.ended = 'the patch was not applied';
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

/**
 * Site findings for a patch the program did not write (its handler wrote nothing at the
 * target): only what would be wrong if it wrote the classic 12 bytes, said as such; the
 * notes about those bytes would describe bytes nobody wrote.
 */
function hypotheticalFindings(findings: readonly Finding[], signalName: string): Finding[] {
  return findings
    .filter((f) => f.severity !== 'info')
    .map((f) => ({ ...f, message: `if the ${signalName} handler wrote the classic ${DEFAULT_TRAMPOLINE_LENGTH}-byte trampoline here (it wrote nothing): ${f.message}` }));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function replacementRuntimeAddress(process: EmulatedProcess, patchBase: bigint, choice: ReplacementChoice): bigint {
  if (choice.how === 'fix-table' && choice.fixTable) {
    // What the table holds after relocation is what a patcher reading it would use.
    return process.mem.u64(patchBase + choice.fixTable.address);
  }
  return patchBase + choice.fn.address;
}

/** What the calling convention of the replaced call depends on: variadic when either side says so. */
function calleeFacts(codeMap: CodeMap, target: ResolvedFunction, process: EmulatedProcess, replacement: bigint | null, replacementName: string): CalleeFacts {
  const targetCode = codeMap.bytesAt(target.address, Math.min(target.size || PROLOGUE_BYTES, PROLOGUE_BYTES));
  if (isVariadicFunction(target.demangled, targetCode, target.address)) return { variadic: true };
  if (replacement === null) return { variadic: false };
  let replacementCode: Uint8Array | null;
  try {
    replacementCode = process.engine.readMemory(replacement, PROLOGUE_BYTES);
  } catch {
    replacementCode = null;
  }
  return { variadic: isVariadicFunction(replacementName, replacementCode, replacement) };
}

function startsWithEndbr64(process: EmulatedProcess, address: bigint): boolean {
  try {
    const b = process.engine.readMemory(address, 4);
    return b[0] === 0xf3 && b[1] === 0x0f && b[2] === 0x1e && b[3] === 0xfa;
  } catch {
    return false;
  }
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
