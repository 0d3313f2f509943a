// The dynamic checks on recorded run data: what each must conclude from calls, faults and
// relocation bindings, and where it must stay silent.
import { describe, expect, it } from 'vitest';
import { checkRegisterPreservation } from '../../src/verify/checks/register-preservation.js';
import { checkStackBalance } from '../../src/verify/checks/stack-balance.js';
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

const xmm = (fill: number): Uint8Array[] => Array.from({ length: 8 }, (_, i) => new Uint8Array(16).fill(fill + i));

function call(atReplacement: Partial<RegisterState>, afterReturn: Partial<RegisterState> | null = {}, xmmAtReplacement = xmm(0x10)): CallThroughTrampoline {
  const entry = registers();
  return {
    at: 100, returnAddress: 0x555555555100n, atOldEntry: entry,
    atReplacementEntry: registers({ rax: 0x7ffff7fbc110n, ...atReplacement }), replacementReturnAddress: SITE + 12n,
    xmmAtOldEntry: xmm(0x10), xmmAtReplacementEntry: xmmAtReplacement,
    afterReturn: afterReturn === null ? null : registers({ rsp: entry.rsp + 8n, ...afterReturn }),
  };
}

describe('STACK_IMBALANCE', () => {
  const names = { target: 'f', replacement: 'fix' };
  const trampoline = { site: SITE, length: 12 };
  it('silent for a jmp trampoline (rsp unchanged at the entry, +8 after return)', () => {
    expect(checkStackBalance([call({})], names, trampoline, describeAddress)).toEqual([]);
  });
  it('silent for a push/ret trampoline: it nets to the caller\'s rsp, whatever it left below it', () => {
    const pushRet = { ...call({}), replacementReturnAddress: 0x555555555100n };
    expect(checkStackBalance([pushRet], names, trampoline, describeAddress)).toEqual([]);
  });
  it('a call trampoline: rsp 8 lower and misaligned at the replacement, which returns into the old bytes', () => {
    const [finding] = checkStackBalance([call({ rsp: 0x7fffffffe000n })], names, trampoline, describeAddress);
    expect(finding).toMatchObject({ code: 'STACK_IMBALANCE', severity: 'error' });
    expect(finding!.message).toContain('call instead of jmp');
    expect(finding!.message).toContain('misaligned');
    expect(finding!.evidence.at(-1)!.location).toBe('f+0xc');
  });
  it('rsp moved by something else than a call (sub rsp, 8): says so, not "call"', () => {
    const moved = { ...call({ rsp: 0x7fffffffe000n }), replacementReturnAddress: 0n };
    const [finding] = checkStackBalance([moved], names, trampoline, describeAddress);
    expect(finding!.message).toContain('moved rsp by -8');
    expect(finding!.message).not.toContain('call instead of jmp');
  });
  it('shifted by 16: still the wrong return address, but the stack stays aligned', () => {
    const [finding] = checkStackBalance([{ ...call({ rsp: 0x7fffffffdff8n }), replacementReturnAddress: 0n }], names, trampoline, describeAddress);
    expect(finding!.code).toBe('STACK_IMBALANCE');
    expect(finding!.message).not.toContain('misaligned');
  });
  it('balanced at the entry, but the replacement returns with rsp off', () => {
    const [finding] = checkStackBalance([call({}, { rsp: 0x7fffffffe018n })], names, trampoline, describeAddress);
    expect(finding!.message).toContain('8 bytes off');
  });
});

describe('REGISTER_CLOBBERED', () => {
  const names = { target: 'f', replacement: 'fix' };
  const plain = { variadic: false };
  it('silent when only rax, r10, r11 and flags change (the trampoline\'s scratch registers)', () => {
    expect(checkRegisterPreservation([call({ r10: 1n, r11: 0x7ffff7fbc110n })], names, plain)).toEqual([]);
  });
  it('an argument register changed by the trampoline; a callee-saved one changed across the call', () => {
    const findings = checkRegisterPreservation([call({ rdi: 0x99n }, { rbx: 0x77n })], names, plain);
    expect(findings.map((f) => f.code)).toEqual(['REGISTER_CLOBBERED']);
    expect(findings[0]!.evidence.map((e) => e.label)).toEqual(['rdi (argument)', 'rbx (callee-saved)']);
  });
  it('every argument register is watched: rsi, rdx, rcx, r8, r9', () => {
    for (const r of ['rsi', 'rdx', 'rcx', 'r8', 'r9'] as const) {
      const [finding] = checkRegisterPreservation([call({ [r]: 0xdeadn })], names, plain);
      expect(finding!.evidence[0]!.label).toBe(`${r} (argument)`);
    }
  });
  it('every callee-saved register is watched at the entry: rbp, r12-r15', () => {
    for (const r of ['rbp', 'r12', 'r13', 'r14', 'r15'] as const) {
      expect(checkRegisterPreservation([call({ [r]: 0xdeadn })], names, plain)[0]!.message).toContain(r);
    }
  });
  it('a callee-saved register restored before return is not reported when the return was not seen balanced', () => {
    expect(checkRegisterPreservation([call({}, { rsp: 0x7fffffffe018n, r12: 1n })], names, plain)).toEqual([]);
  });
  it('an xmm argument register changed between the entries', () => {
    const changed = xmm(0x10);
    changed[2] = new Uint8Array(16).fill(0xee);
    const [finding] = checkRegisterPreservation([call({}, {}, changed)], names, plain);
    expect(finding!.evidence.map((e) => e.label)).toEqual(['xmm2 (float/vector argument)']);
  });
  it('al changed before a variadic replacement (1 vector register used, 0 seen): reported; silent for a non-variadic one', () => {
    // printf-like call with one double: the caller set al = 1; movabs rax, 0x7ffff7fbc100 leaves al = 0.
    const variadicCall = { ...call({ rax: 0x7ffff7fbc100n }), atOldEntry: registers({ rax: 1n }) };
    const [finding] = checkRegisterPreservation([variadicCall], names, { variadic: true });
    expect(finding!.evidence.map((e) => e.text)).toEqual(["1 at f's entry, 0 at fix's entry"]);
    expect(finding!.hint).toContain('abs-indirect');
    expect(checkRegisterPreservation([variadicCall], names, plain)).toEqual([]);
  });
  it('silent for a variadic function when al survives (movabs r11 trampoline)', () => {
    const kept = { ...call({ rax: 1n, r11: 0x7ffff7fbc100n }), atOldEntry: registers({ rax: 1n }) };
    expect(checkRegisterPreservation([kept], names, { variadic: true })).toEqual([]);
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
  it('nothing written at the target: says the handler never wrote there, and where it wrote instead', () => {
    const elsewhere = [{ label: 'the patcher wrote instead', address: 0x7ffff7fbc130n, location: 'f+0x0 (./patch.so)', text: '12 bytes' }];
    const [finding] = checkReached({ ...base, targetCallsAfter: 5, nothingWritten: true, writesElsewhere: elsewhere });
    expect(finding!.message).toContain("the program's handler never wrote to the running f");
    expect(finding!.evidence.at(-1)).toEqual(elsewhere[0]);
    expect(checkReached({ ...base, targetCallsAfter: 5, nothingWritten: true })[0]!.message).toContain('nor to any other code');
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
