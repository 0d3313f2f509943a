// The last phase: from findings and the way the runs ended to the verdict. SAFE is a promise:
// it is given only when the patched run got where it had to. A crash only the patched run
// has is CRASH_AFTER_PATCH (unsafe); a crash both runs have, an unemulatable stop, or a
// budget that ended before the patched function ran again cannot support a verdict: unless
// an error finding already makes the patch unsafe, the answer is "could not verify" (exit 2),
// saying why and what to do.

import { disassemble } from '../../asm/disasm.js';
import type { ProcessStop } from '../../loader/index.js';
import { describeStop } from '../dynamic/stop-text.js';
import type { Finding } from '../finding.js';

export type EndingKind = 'exited' | 'crashed' | 'unsupported' | 'budget';

export interface Ending {
  kind: EndingKind;
  stop: ProcessStop;
  /** For 'unsupported': what the sandbox could not emulate. */
  unsupported?: string;
}

/** Instructions a CPU refuses on purpose: SIGILL at one of these is the program's own crash. */
const UNDEFINED_ON_PURPOSE = new Set(['ud0', 'ud1', 'ud2']);

export function classifyStop(stop: ProcessStop): Ending {
  switch (stop.reason) {
    case 'exited':
      return { kind: 'exited', stop };
    case 'budget':
    case 'until':
    case 'call':
      return { kind: 'budget', stop };
    case 'error':
      return { kind: 'unsupported', stop, unsupported: stop.error.message };
    case 'killed': {
      const fault = stop.fault;
      if (fault && fault.signal === 'SIGILL' && fault.instructionBytes.length > 0) {
        // A valid instruction the emulator lacks, not an invalid one the CPU would refuse too.
        const [insn] = disassemble(fault.instructionBytes, fault.rip, 1);
        if (insn && !insn.invalid && !UNDEFINED_ON_PURPOSE.has(insn.mnemonic)) {
          const bytes = Array.from(insn.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
          return { kind: 'unsupported', stop, unsupported: `the instruction "${insn.text}" (bytes ${bytes}) at ${fault.location} is not supported by the emulator` };
        }
      }
      return { kind: 'crashed', stop };
    }
  }
}

/** Two endings are the same crash: the same signal at the same instruction, or the same exit status. */
export function sameCrash(a: ProcessStop, b: ProcessStop): boolean {
  if (a.reason === 'killed' && b.reason === 'killed') return a.signo === b.signo && (a.fault?.rip ?? 0n) === (b.fault?.rip ?? 0n);
  if (a.reason === 'exited' && b.reason === 'exited') return a.status === b.status;
  return false;
}

/** A run that ended in a nonzero exit or a fatal signal. */
export function isCrash(e: Ending): boolean {
  return e.kind === 'crashed' || (e.kind === 'exited' && e.stop.reason === 'exited' && e.stop.status !== 0);
}

export function whereText(stop: ProcessStop): string {
  if (stop.reason === 'killed' && stop.fault) return `${stop.fault.signal} at ${stop.fault.location}`;
  return describeStop(stop).replace(/^the program /, '');
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/**
 * Whether the run had the chance to reach the replacement: a process that died right after
 * the patch, before calling the function again, did not (the crash is the finding, not "not
 * reached"); nor did a run whose budget ended before anything called it ("could not verify").
 */
export function calledAgain(stop: ProcessStop, targetCalls: number, replacementRuns: number): boolean {
  if (targetCalls > 0 || replacementRuns > 0) return true;
  return stop.reason !== 'killed' && stop.reason !== 'budget' && stop.reason !== 'until' && stop.reason !== 'call';
}
