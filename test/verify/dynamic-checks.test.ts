// The dynamic checks on recorded run data: what each must conclude from calls, faults and
// relocation bindings, and where it must stay silent.
import { describe, expect, it } from 'vitest';
import { checkCallingConvention } from '../../src/verify/checks/calling-convention.js';
import { checkFetchesAfterPatch, checkLiveAtPatchPoint } from '../../src/verify/checks/live-clobber.js';
import { checkReached } from '../../src/verify/checks/not-reached.js';
import { checkHandlerWriteFault } from '../../src/verify/checks/write-fault.js';
import type { CallThroughTrampoline, Observation, RegisterState } from '../../src/verify/dynamic/observe.js';
import type { PatchPoint } from '../../src/verify/dynamic/patch-point.js';

const SITE = 0x555555555280n;
const describeAddress = (a: bigint): string => `f+0x${(a - SITE).toString(16)}`;

function registers(overrides: Partial<RegisterState> = {}): RegisterState {
  const base: RegisterState = { rax: 0n, rbx: 0x11n, rcx: 4n, rdx: 3n, rsi: 2n, rdi: 1n, rbp: 0x22n, rsp: 0x7fffffffe008n, r8: 5n, r9: 6n, r10: 0n, r11: 0n, r12: 0x33n, r13: 0x44n, r14: 0x55n, r15: 0x66n };
  return { ...base, ...overrides };
}

function call(atReplacement: Partial<RegisterState>, afterReturn: Partial<RegisterState> | null = {}): CallThroughTrampoline {
  const entry = registers();
  return {
    at: 100, returnAddress: 0x555555555100n, atOldEntry: entry,
    atReplacementEntry: registers({ rax: 0x7ffff7fbc110n, ...atReplacement }), replacementReturnAddress: SITE + 12n,
    afterReturn: afterReturn === null ? null : registers({ rsp: entry.rsp + 8n, ...afterReturn }),
  };
}

describe('STACK_IMBALANCE and REGISTER_CLOBBERED', () => {
  const names = { target: 'f', replacement: 'fix' };
  it('silent for a jmp trampoline that only changes rax', () => {
    expect(checkCallingConvention([call({})], names, describeAddress)).toEqual([]);
  });
  it('a call trampoline: rsp 8 lower at the replacement, which returns into the old bytes', () => {
    const [finding] = checkCallingConvention([call({ rsp: 0x7fffffffe000n })], names, describeAddress);
    expect(finding).toMatchObject({ code: 'STACK_IMBALANCE', severity: 'error' });
    expect(finding!.message).toContain('call instead of jmp');
    expect(finding!.evidence.at(-1)!.location).toBe('f+0xc');
  });
  it('an argument register changed by the trampoline; a callee-saved one changed across the call', () => {
    const findings = checkCallingConvention([call({ rdi: 0x99n }, { rbx: 0x77n })], names, describeAddress);
    expect(findings.map((f) => f.code)).toEqual(['REGISTER_CLOBBERED']);
    expect(findings[0]!.evidence.map((e) => e.label)).toEqual(['rdi (argument)', 'rbx (callee-saved)']);
  });
});

describe('LIVE_INSTRUCTION_CLOBBERED', () => {
  const point = (rip: bigint, words: bigint[]): PatchPoint => ({
    instruction: 50, rip, rsp: 0x7fffffffe000n, description: '', targetCallsBefore: 1,
    stackWords: words.map((value, i) => ({ slot: 0x7fffffffe000n + BigInt(8 * i), value })),
  });
  it('a return address inside the overwritten bytes at the patch point', () => {
    const [finding] = checkLiveAtPatchPoint({ site: SITE, length: 12 }, point(0x555555555100n, [0n, SITE + 10n]), describeAddress);
    expect(finding).toMatchObject({ code: 'LIVE_INSTRUCTION_CLOBBERED', address: SITE + 10n });
  });
  it('silent for the entry itself and for the first byte after the range', () => {
    expect(checkLiveAtPatchPoint({ site: SITE, length: 12 }, point(SITE, [SITE + 12n]), describeAddress)).toEqual([]);
  });
  it('fetches after the patch are reported with their offset', () => {
    const observation = { fetches: [{ address: SITE + 11n, at: 90 }], fetchCount: 1 } as Observation;
    expect(checkFetchesAfterPatch({ site: SITE, length: 12 }, observation, describeAddress)[0]!.message).toContain('byte 11');
    expect(checkFetchesAfterPatch({ site: SITE, length: 12 }, { fetches: [], fetchCount: 0 } as unknown as Observation, describeAddress)).toEqual([]);
  });
});

describe('PATCH_NOT_REACHED', () => {
  const base = { targetName: 'f', replacementName: 'fix', targetCallsBefore: 1, targetCallsAfter: 0, replacementRuns: 0, instructionsAfter: 1000, writesElsewhere: [], nothingWritten: false };
  it('old function ran before, replacement never after, nobody calls the entry: inlined', () => {
    expect(checkReached(base)[0]!.message).toContain('inlined');
  });
  it('silent once the replacement ran, or when the target never ran before the patch', () => {
    expect(checkReached({ ...base, replacementRuns: 1 })).toEqual([]);
    expect(checkReached({ ...base, targetCallsBefore: 0 })).toEqual([]);
  });
});

describe('WRITE_FAULT', () => {
  const fault = {
    signo: 11, signal: 'SIGSEGV', address: SITE + 0xd80n, access: 'write' as const, kind: 'protection' as const, rip: 0x555555555400n,
    instructionBytes: Uint8Array.of(0x88, 0x10), location: 'hotfix_apply+0x79', backtrace: [], mapping: 'main r-x', message: '',
  };
  it('a handler store that faults on the second page, with the mprotect calls as evidence', () => {
    const [finding] = checkHandlerWriteFault(fault, [{ address: SITE & ~0xfffn, length: 0x1000n, prot: 7, result: 0 }], { site: SITE + 0xd7an, length: 12 });
    expect(finding).toMatchObject({ code: 'WRITE_FAULT', severity: 'error', address: fault.address });
    expect(finding!.evidence.some((e) => e.text?.includes('2 pages'))).toBe(true);
  });
  it('silent for a read fault', () => {
    expect(checkHandlerWriteFault({ ...fault, access: 'read' }, [], { site: SITE, length: 12 })).toEqual([]);
  });
});
