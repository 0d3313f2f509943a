// The program as the patcher: deliver the signal at the patch point, run main's own handler
// to its return, and read what it wrote through the strategy.

import { checkLiveAtPatchPoint } from '../checks/live-clobber.js';
import { checkTornWrite } from '../checks/torn-write.js';
import { checkFailedLookups } from '../checks/symbol-export.js';
import { stateHere, type PatchPoint } from '../dynamic/patch-point.js';
import { watchWriteRace } from '../dynamic/write-race.js';
import { checkHandlerWriteFault } from '../checks/write-fault.js';
import { checkCodeWritesOutside } from '../checks/write-outside.js';
import { PATCH_PATH } from '../dynamic/launch.js';
import { runSignalHandler, writtenRanges } from '../dynamic/program-patcher.js';
import { describeStop } from '../dynamic/stop-text.js';
import type { Evidence } from '../finding.js';
import { symbolSummary } from '../summary.js';
import { DEFAULT_TRAMPOLINE_LENGTH } from '../strategies/prologue.js';
import { calleeFacts, replacementRuntimeAddress } from './callee-facts.js';
import type { Patcher } from './patcher.js';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export const programPatcher: Patcher = {
  mode: 'program-driven',
  apply(session) {
    const { plan, process, site, describe, result } = session;
    const signal = plan.signal!;
    // With threads, the others run while the handler writes: watch the target's bytes for a torn write.
    plan.strategy.beforeHandler?.(session);
    // (code bytes only: the slot strategies write data)
    const race = plan.strategy.name === 'prologue' ? watchWriteRace(process, site) : null;
    let atFirstStore: PatchPoint | undefined;
    const pause = race
      ? { pending: () => race.pausePending, paused: () => {
          race.pausePending = false;
          atFirstStore = stateHere(process, 'when the handler began writing the bytes', 0);
        } }
      : undefined;
    let handler;
    try {
      handler = runSignalHandler(process, signal.number, signal.name, plan.budget, pause);
    } finally {
      race?.stop();
    }
    const reading = plan.strategy.readProgramPatch(session, handler);
    const findings = [...reading.findings];
    if (race && reading.written && reading.overwritten.length > 0) {
      findings.push(...checkTornWrite(race, reading.overwritten.length, handler.stop === null, describe, (a, n) => process.mem.read(a, n)));
      if (atFirstStore) {
        // The other threads at the first store (the writer's own frames were checked at the patch point).
        const others: PatchPoint = { ...atFirstStore, rip: 0n, stackWords: [], thread: undefined };
        findings.push(...checkLiveAtPatchPoint(reading.overwritten, others, describe, `when the ${signal.name} handler began writing the bytes (instruction ${atFirstStore.instruction}; the other threads kept running)`));
      }
    }
    const patchObject = process.objects.find((o) => o.path === PATCH_PATH || o.path === `./${baseName(plan.input.patchName)}`);
    const replacement = plan.replacement;
    const candidates: bigint[] = [];
    if (replacement && patchObject) candidates.push(replacementRuntimeAddress(process, patchObject.base, replacement));
    let replacementName: string | null = replacement ? replacement.fn.demangled : null;
    if (reading.written) {
      if (reading.trampoline) result.trampoline = reading.trampoline;
      const destination = reading.destination;
      if (destination !== null) {
        candidates.unshift(destination);
        const owner = process.objects.find((o) => o.contains(destination));
        const fn = owner?.elf?.functionContaining(destination - owner.base);
        if (owner && fn && owner.elf) {
          replacementName = owner.elf.demangledName(fn);
          result.replacement = { name: fn.name, address: destination, size: Number(fn.size), file: owner === patchObject ? plan.input.patchName : owner.path, ...(replacementName !== fn.name ? { demangled: replacementName } : {}) };
        }
      }
      findings.push(...plan.strategy.destinationFindings(session, reading, replacementName));
    } else if (replacement && patchObject) {
      result.replacement = symbolSummary(replacement.fn, candidates[0]!, plan.input.patchName);
    }
    const ranges = writtenRanges(handler.codeWrites);
    result.programWrites = ranges.map((r) => ({ address: r.start, length: Number(r.end - r.start), location: describe(r.start), atTarget: r.start <= site && site < r.end }));
    const writesElsewhere: Evidence[] = result.programWrites
      .filter((w) => !w.atTarget)
      .map((w) => ({ label: 'the patcher wrote instead', address: w.address, location: w.location, text: `${w.length} bytes` }));
    // main's own code (and its libraries'), not the patch's nor generated code.
    const isProcessCode = (a: bigint): boolean => process.objects.some((o) => o.contains(a) && (o.kind === 'executable' || (o.kind === 'library' && o.path !== PATCH_PATH && o !== patchObject)));
    findings.push(...checkCodeWritesOutside(result.programWrites, { site, length: reading.written ? reading.overwritten.length : 0, name: plan.target.demangled }, isProcessCode));
    const fault = handler.stop?.reason === 'killed' ? handler.stop.fault : undefined;
    const length = reading.written ? reading.overwritten.length : DEFAULT_TRAMPOLINE_LENGTH;
    findings.push(...checkHandlerWriteFault(fault, handler.mprotects, reading.writeRange ?? { site, length }));
    findings.push(...checkFailedLookups(plan.target, handler.dlsyms.filter((d) => d.error !== undefined).map((d) => ({ symbol: d.symbol, error: d.error!, caller: describe(d.caller), instruction: d.at }))));
    const continues = handler.stop === null;
    return {
      findings,
      patched: reading.written,
      continues,
      ...(continues ? {} : { stopped: `while the ${signal.name} handler ran, ${describeStop(handler.stop!)}`, stop: handler.stop! }),
      overwritten: reading.overwritten,
      replacements: candidates,
      replacementName,
      facts: plan.targetCode ? calleeFacts(plan.targetCode, plan.target, process, candidates[0] ?? null, replacementName ?? '') : { variadic: false },
      writesElsewhere,
      nothingWritten: !reading.written,
    };
  },
};
