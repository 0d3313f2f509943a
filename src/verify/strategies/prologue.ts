// The prologue strategy (the default): overwrite the old function's first bytes with a jump
// to the replacement. What it overwrites: [entry, entry + trampoline length). Its static
// checks: the overwrite against the function's bounds, branches and return addresses into the
// bytes, instructions cut in two, rip-relative operands, the trampoline's form, endbr64.
// The tool applies it as the seed's replaceFunction: mprotect RWX, write, mprotect R-X.
// After the patch it watches the overwritten bytes being fetched, and each call through the
// trampoline: the caller's state at the old entry against the replacement's entry and return.

import { analyzePatchSite, type PatchSite } from '../../analysis/index.js';
import { buildTrampoline } from '../../asm/trampoline.js';
import type { GuestProcess } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { checkBranchInto } from '../checks/branch-into.js';
import { checkFetchesAfterPatch } from '../checks/live-clobber.js';
import { checkReached } from '../checks/not-reached.js';
import { checkCallerAssumptions, replacementEffects } from '../checks/preserved-register.js';
import { checkRegisterPreservation } from '../checks/register-preservation.js';
import { checkStackBalance } from '../checks/stack-balance.js';
import { observeAfterPatch, type Observation } from '../dynamic/observe.js';
import { refuseIfunc } from '../ifunc.js';
import type { PatchOutcome } from '../patchers/patcher.js';
import { calledAgain } from '../pipeline/judge.js';
import { checkDataReferences } from '../checks/data-refs.js';
import { checkEndbr64 } from '../checks/endbr64.js';
import { checkLiveAtPatchPoint } from '../checks/live-clobber.js';
import { checkOverrun } from '../checks/overrun.js';
import { checkPartialInstruction } from '../checks/partial-instruction.js';
import { checkReturnAddress } from '../checks/return-address.js';
import { checkThreadReturnAddresses } from '../checks/thread-return-address.js';
import { checkRipRelative } from '../checks/rip-relative.js';
import { checkTrampolineForm } from '../checks/trampoline-form.js';
import { checkToolWriteFault } from '../checks/write-fault.js';
import { checkWrittenTransfer } from '../checks/written-transfer.js';
import type { StaticContext } from '../context.js';
import { bytesWrittenAt } from '../dynamic/program-patcher.js';
import { applyToolPatch } from '../dynamic/tool-patcher.js';
import type { Finding } from '../finding.js';
import type { PatchSession } from '../pipeline/session.js';
import { trampolineSummary } from '../summary.js';
import { readWrittenTrampoline } from '../written-trampoline.js';
import type { ObservedRun, PatchStrategy, ProgramPatchReading } from './strategy.js';

/** The classic trampoline's length: what a program-driven patch is assumed to write when it writes nothing we can see. */
export const DEFAULT_TRAMPOLINE_LENGTH = 12;

function patchSiteOf(session: PatchSession, length: number): PatchSite {
  const { codeMap, target } = session.plan;
  const known = codeMap.functionContaining(target.address);
  const fn = known && known.address === target.address ? known : { address: target.address, size: target.size };
  return analyzePatchSite(codeMap, fn, length);
}

export function staticContext(session: PatchSession, length: number): StaticContext {
  const { codeMap, target, input } = session.plan;
  return { codeMap, target, mainName: input.mainName, loadBias: session.loadBias, site: patchSiteOf(session, length), main: session.plan.mainElf };
}

/** The checks that follow from overwriting `ctx.site.length` bytes at the entry. */
export function siteFindings(ctx: StaticContext): Finding[] {
  return [
    ...checkOverrun(ctx), ...checkPartialInstruction(ctx), ...checkBranchInto(ctx), ...(ctx.main ? checkDataReferences(ctx.main, ctx) : []),
    ...checkReturnAddress(ctx), ...checkRipRelative(ctx),
  ];
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

export function startsWithEndbr64(process: GuestProcess, address: bigint): boolean {
  try {
    const b = process.engine.readMemory(address, 4);
    return b[0] === 0xf3 && b[1] === 0x0f && b[2] === 0x1e && b[3] === 0xfa;
  } catch {
    return false;
  }
}

export const prologueStrategy: PatchStrategy = {
  name: 'prologue',

  locate(plan, process) {
    const target = plan.inMain!.target;
    const site = target.address + process.executable.base;
    refuseIfunc(process, target, site, 'target', plan.input.mainName);
    return { target, site, file: plan.input.mainName, code: plan.codeMap, findings: [] };
  },

  prepare(session, replacement, facts) {
    const { plan, site } = session;
    const trampoline = buildTrampoline(plan.trampolineSpec, site, replacement.address, { ...(plan.assembler ? { assembler: plan.assembler } : {}), sameObject: false });
    const ctx = staticContext(session, trampoline.length);
    const findings = [
      ...siteFindings(ctx),
      ...checkTrampolineForm(trampoline, facts),
      ...checkEndbr64(ctx, { entryEndbr64: startsWithEndbr64(session.process, replacement.address), name: replacement.name }, trampoline.transfer?.indirect ?? false),
    ];
    return {
      writes: trampoline.bytes.length > 0 ? [{ address: site, bytes: trampoline.bytes }] : [],
      overwritten: { site, length: trampoline.length },
      trampoline: trampolineSummary(trampoline.template ?? trampoline.form, site, replacement.address, trampoline.bytes, trampoline.instructions, session.original),
      built: trampoline,
      findings,
    };
  },

  apply(session, prepared) {
    const write = prepared.writes[0];
    if (!write) return { written: false, findings: [] };
    const applied = applyToolPatch(session.process, write.address, write.bytes);
    const findings = checkToolWriteFault(applied.unprotect, applied.pages);
    if (applied.written) findings.push(...checkLiveAtPatchPoint(prepared.overwritten, session.point, session.describe), ...checkThreadReturnAddresses(prepared.overwritten, session.point, session.describe));
    return { written: applied.written, findings };
  },

  readProgramPatch(session, handler): ProgramPatchReading {
    const { site } = session;
    const written = bytesWrittenAt(handler.codeWrites, site);
    const length = written.length > 0 ? written.length : DEFAULT_TRAMPOLINE_LENGTH;
    const ctx = staticContext(session, length);
    const signalName = session.plan.signal?.name ?? 'signal';
    if (written.length === 0) {
      return { written: false, overwritten: { site, length: 0 }, destination: null, findings: hypotheticalFindings(siteFindings(ctx), signalName) };
    }
    const read = readWrittenTrampoline(written, site);
    return {
      written: true,
      overwritten: { site, length: written.length },
      trampoline: trampolineSummary('written by the program', site, read.destination ?? 0n, written, read.instructions, session.original),
      destination: read.destination,
      findings: [...siteFindings(ctx), ...checkWrittenTransfer(read)],
    };
  },

  destinationFindings(session, reading, replacementName) {
    if (!reading.written) return [];
    const ctx = staticContext(session, reading.overwritten.length);
    const destination = reading.destination;
    return [
      ...checkEndbr64(ctx, destination === null ? null : { entryEndbr64: startsWithEndbr64(session.process, destination), name: replacementName ?? hex(destination) }, true),
      ...checkLiveAtPatchPoint(reading.overwritten, session.point, session.describe),
      ...checkThreadReturnAddresses(reading.overwritten, session.point, session.describe, 'when the signal was delivered'),
    ];
  },

  observe(session, outcome): ObservedRun {
    const { process, site, plan } = session;
    const observation = observeAfterPatch(process, { site, overwritten: outcome.overwritten.length, replacements: outcome.replacements, budget: plan.budget });
    return {
      stop: observation.stop,
      targetCalls: observation.targetCalls,
      replacementRuns: observation.replacementRuns,
      findings: [...observedFindings(session, outcome, observation), ...callerAssumptions(session, outcome, observation)],
    };
  },

  unobserved(session, outcome) {
    return callerAssumptions(session, outcome, null);
  },
};

/** The checks of the run after the patch. */
function observedFindings(session: PatchSession, outcome: PatchOutcome, observation: Observation): Finding[] {
  const { plan, process, point, describe } = session;
  const findings: Finding[] = [];
  if (outcome.overwritten.length > 0) findings.push(...checkFetchesAfterPatch(outcome.overwritten, observation, describe));
  const names = { target: plan.target.demangled, replacement: outcome.replacementName ?? 'the replacement' };
  findings.push(...checkStackBalance(observation.calls, names, outcome.overwritten, describe));
  findings.push(...checkRegisterPreservation(observation.calls, names, outcome.facts));
  if (!calledAgain(observation.stop, observation.targetCalls, observation.replacementRuns)) return findings;
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
  return findings;
}

/** CALLER_ASSUMES_PRESERVED_REGISTER for the replacement the patch sends callers to. */
function callerAssumptions(session: PatchSession, outcome: PatchOutcome, observation: Observation | null): Finding[] {
  const address = outcome.replacements[0];
  const size = session.result.replacement?.size ?? 0;
  if (address === undefined || size <= 0 || !outcome.patched) return [];
  let code: Uint8Array;
  try {
    code = session.process.engine.readMemory(address, Math.min(size, 1 << 16));
  } catch {
    return [];
  }
  const effects = replacementEffects(outcome.replacementName ?? 'the replacement', address, code);
  if (effects.call?.target !== undefined) effects.call.text = `${effects.call.text.split(' ')[0]} ${calleeName(session.process, effects.call.target)}`;
  return checkCallerAssumptions(staticContext(session, outcome.overwritten.length), effects, observation?.calls ?? [], session.describe);
}

/** "printf@plt" for a PLT stub, else the symbol+offset form. */
function calleeName(process: GuestProcess, address: bigint): string {
  const owner = process.objects.find((o) => o.contains(address));
  const stub = owner?.elf?.sections.length ? owner.elf.pltStubs().find((s) => s.address === address - owner.base) : undefined;
  return stub?.symbol ? `${stub.symbol.name}@plt` : process.describe(address);
}
