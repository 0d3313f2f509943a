// CRASH_AFTER_PATCH: the patched continuation dies (fatal signal, fault, abort, a nonzero
// exit) where the unpatched baseline from the same snapshot does not. The evidence says
// where (the faulting instruction, symbolized with file and offset), how it got there (the
// call chain), what the run did differently from the baseline first, and, when a register
// holds the poison a libc stub leaves in caller-saved registers, which stub put it there.

import { disassemble } from '../../asm/disasm.js';
import { registerEffects } from '../../asm/registers.js';
import { CALLER_SAVED_POISON, SIGNAL_NAMES, type FaultReport, type OutputChunk, type Poisoning, type ProcessStop } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { describeStop } from '../dynamic/stop-text.js';
import type { Evidence, Finding } from '../finding.js';
import { outputLines } from '../summary.js';

export interface CrashInput {
  patched: ProcessStop;
  baseline: ProcessStop;
  /** Output after the patch point. */
  patchedOutput: readonly OutputChunk[];
  baselineOutput: readonly OutputChunk[];
  /** Instructions from the patch point to the crash. */
  instructionsAfter: number;
  poisoning: Poisoning | undefined;
  describe(address: bigint): string;
  /** "main+0x11c9" / "patch.so+0x1139": the file and offset of a run-time address. */
  fileOffset(address: bigint): string;
  targetName: string;
  /** The call chain at the fault (a stack walk), innermost caller first. */
  callChain(fault: FaultReport): { address: bigint; location: string; how: string }[];
  /** The old function's run-time bounds: a crash there is old code running after the patch. */
  target: { start: bigint; end: bigint };
  /** "code generated at run time at ..." for an address no loaded object owns (a hook stub a handler wrote), else null. */
  generatedCode?(address: bigint): string | null;
  /** The mprotect calls made from the patch point on (the patcher's, then the program's), in order. */
  mprotects?: readonly PatchMprotect[];
}

export interface PatchMprotect {
  at: number;
  address: bigint;
  length: bigint;
  prot: number;
  result: number;
  /** The calling instruction, "the tool" for the verifier's own patcher. */
  by: string;
}

/**
 * The last successful mprotect since the patch point that covers the faulting address and
 * took away what the access needed (a store on a page made read-only, a fetch on a page made
 * non-executable): the patcher changed the protection of a page the program still uses.
 */
export function protectionTakenAway(fault: FaultReport, mprotects: readonly PatchMprotect[]): PatchMprotect | null {
  const needed = fault.access === 'write' ? 2 : fault.access === 'fetch' ? 4 : 1;
  for (let i = mprotects.length - 1; i >= 0; i--) {
    const m = mprotects[i]!;
    if (m.result !== 0 || fault.address < m.address || fault.address >= m.address + m.length) continue;
    return (m.prot & needed) === 0 ? m : null;
  }
  return null;
}

function protText(prot: number): string {
  return `${prot & 1 ? 'R' : '-'}${prot & 2 ? 'W' : '-'}${prot & 4 ? 'X' : '-'}`;
}

/** Registers the faulting instruction reads that hold CALLER_SAVED_POISON|n at the fault. */
export function poisonedRegisters(fault: FaultReport | undefined): string[] {
  if (!fault?.registers || fault.instructionBytes.length === 0) return [];
  const [effect] = registerEffects(fault.instructionBytes, fault.rip, 1);
  if (!effect) return [];
  return Object.entries(fault.registers)
    .filter(([r, v]) => effect.reads.has(r) && v >> 16n === CALLER_SAVED_POISON >> 16n)
    .map(([r]) => r);
}

/** The first line of output that differs between the runs, or where one run's output ends early. */
export function firstOutputDifference(patched: readonly OutputChunk[], baseline: readonly OutputChunk[]): Evidence | null {
  const a = outputLines(patched);
  const b = outputLines(baseline);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = a[i];
    const q = b[i];
    if (p && q && p.text === q.text && p.stream === q.stream) continue;
    const show = (l: typeof p): string => (l ? `${l.stream === 'stderr' ? '(stderr) ' : ''}"${l.text}"` : 'nothing more');
    return { label: `first output difference (line ${i + 1} after the patch point)`, text: `patched: ${show(p)}; baseline: ${show(q)}` };
  }
  return null;
}

function endingText(stop: ProcessStop): string {
  return stop.reason === 'budget' ? 'runs on to the end of the budget' : describeStop(stop).replace(/^the program /, '');
}

export function checkCrashAfterPatch(input: CrashInput): Finding[] {
  const { patched, baseline, describe } = input;
  const evidence: Evidence[] = [];
  let what: string;
  let where = '';
  if (patched.reason === 'killed') {
    const name = patched.fault?.signal ?? SIGNAL_NAMES[patched.signo] ?? `signal ${patched.signo}`;
    what = `dies of ${name}`;
    const fault = patched.fault;
    if (fault) {
      const [insn] = disassemble(fault.instructionBytes, fault.rip, 1);
      if (fault.instructionBytes.length === 0) {
        where = `, jumping to ${hex(fault.rip)} where nothing is mapped`;
        evidence.push({ label: 'execution jumped to', address: fault.rip, text: 'unmapped memory (a return address or function pointer was overwritten or wrong)' });
      } else {
        const generated = input.generatedCode?.(fault.rip) ?? null;
        where = generated ? ` in ${generated}` : ` at ${fault.location}`;
        evidence.push({ label: 'faulting instruction', address: fault.rip, location: `${fault.location}, ${input.fileOffset(fault.rip)}`, ...(insn && !insn.invalid ? { bytes: insn.bytes, text: insn.text } : {}) });
      }
      evidence.push({ label: 'fault', text: fault.message });
      input.callChain(fault).forEach((f, i) => evidence.push({ label: `call chain #${i + 1}${f.how === 'cfi' ? '' : ` (${f.how})`}`, address: f.address, location: `${f.location}, ${input.fileOffset(f.address)}` }));
      const taken = input.mprotects ? protectionTakenAway(fault, input.mprotects) : null;
      if (taken) {
        evidence.push({ label: 'the page was protected after the patch point', text: `mprotect(${hex(taken.address)}, ${hex(taken.length)}, ${protText(taken.prot)}) by ${taken.by} at instruction ${taken.at}: it covers ${hex(fault.address)}, which the program ${fault.access === 'write' ? 'still writes' : fault.access === 'fetch' ? 'still executes' : 'still reads'}` });
      }
      for (const r of poisonedRegisters(fault)) {
        const p = input.poisoning;
        const source = p ? `poisoned by the ${p.stub}() stub called from ${describe(p.caller)} (instruction ${p.at}), as a real libc call may clobber it` : 'poisoned by a libc stub, as a real libc call may clobber it';
        evidence.push({ label: `${r} holds a poison value`, text: `${r} = ${hex(fault.registers![r]!)}: ${source}` });
      }
    } else {
      evidence.push({ label: 'how', text: patched.detail });
    }
  } else if (patched.reason === 'exited') {
    what = `exits with status ${patched.status}`;
  } else {
    return [];
  }
  const difference = firstOutputDifference(input.patchedOutput, input.baselineOutput);
  if (difference) evidence.push(difference);
  evidence.push({ label: 'the unpatched baseline from the same point', text: endingText(baseline) });
  const fault = patched.reason === 'killed' ? patched.fault : undefined;
  const poisoned = poisonedRegisters(fault);
  const inOldCode = fault !== undefined && fault.rip >= input.target.start && fault.rip < input.target.end;
  const inGeneratedCode = fault !== undefined && fault.instructionBytes.length > 0 && (input.generatedCode?.(fault.rip) ?? null) !== null;
  const taken = fault && input.mprotects ? protectionTakenAway(fault, input.mprotects) : null;
  return [{
    code: 'CRASH_AFTER_PATCH',
    severity: 'error',
    message: `the patched run ${what} ${input.instructionsAfter} instructions after the patch point${where}, where the unpatched run from the same point ${endingText(baseline)}${
      poisoned.length > 0 ? `; ${poisoned.join(', ')} held the poison a libc call leaves in caller-saved registers: code relies on ${poisoned.length > 1 ? 'them' : 'it'} surviving a call` : ''}`,
    evidence,
    hint: taken
      ? `the patcher's mprotect(${hex(taken.address)}, ${hex(taken.length)}, ${protText(taken.prot)}) left a page ${taken.prot & 2 ? '' : 'read-only '}that the program still ${fault?.access === 'fetch' ? 'executes' : 'writes'} (a lazily bound .got.plt, .data beside the slot or the code): restore the protection the page had before (read it from /proc/self/maps), not a fixed one`
      : inGeneratedCode
      ? 'the code that faulted was generated at run time by the patcher (a hook stub): it must follow the x86-64 calling convention: `this` and the other arguments arrive in rdi, rsi, rdx, rcx, r8, r9 (keep them across a converter call) and rsp must be 16-byte aligned at each call'
      : inOldCode
      ? `the old ${input.targetName}'s remaining bytes ran after the patch: see the other findings for how control got there`
      : poisoned.length > 0
      ? `a caller of ${input.targetName} keeps a value in a caller-saved register across the call (gcc -fipa-ra) and the replacement clobbers it: build main with -fno-ipa-ra (or -flive-patching=inline-clone), or make the replacement preserve ${poisoned.join(', ')}`
      : 'run the patched program under a debugger from the patch point: the call chain above shows where it dies',
  }];
}
