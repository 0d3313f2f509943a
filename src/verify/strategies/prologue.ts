// The prologue strategy (the default): overwrite the old function's first bytes with a jump
// to the replacement. What it overwrites: [entry, entry + trampoline length). Its static
// checks: the overwrite against the function's bounds, branches and return addresses into the
// bytes, instructions cut in two, rip-relative operands, the trampoline's form, endbr64.
// The tool applies it as the seed's replaceFunction: mprotect RWX, write, mprotect R-X.

import { analyzePatchSite, type PatchSite } from '../../analysis/index.js';
import { buildTrampoline } from '../../asm/trampoline.js';
import type { GuestProcess } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { checkBranchInto } from '../checks/branch-into.js';
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
import type { PatchStrategy, ProgramPatchReading } from './strategy.js';

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
};
