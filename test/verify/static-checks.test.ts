// Each static check on purpose-built code: bytes with their assembly in comments, a patch
// site of N bytes at the entry of `f`, and what the check must say (or must not).
import { describe, expect, it } from 'vitest';
import { analyzePatchSite, CodeMap } from '../../src/analysis/index.js';
import { checkBranchInto } from '../../src/verify/checks/branch-into.js';
import { checkEndbr64 } from '../../src/verify/checks/endbr64.js';
import { checkOverrun } from '../../src/verify/checks/overrun.js';
import { checkPartialInstruction } from '../../src/verify/checks/partial-instruction.js';
import { checkReturnAddress } from '../../src/verify/checks/return-address.js';
import { checkRipRelative } from '../../src/verify/checks/rip-relative.js';
import type { StaticContext } from '../../src/verify/context.js';
import type { ResolvedFunction } from '../../src/verify/symbols.js';
import { imageOf, le32, TEXT } from '../analysis/helpers.js';

const BIAS = 0x555555554000n;

function contextFor(bytes: number[], functions: { name: string; at: number; size: number }[], length: number): StaticContext {
  const codeMap = CodeMap.build(imageOf(bytes, functions));
  const f = functions[0]!;
  const target = { name: f.name, demangled: f.name, address: TEXT + BigInt(f.at), size: f.size, sizeFrom: 'symbol', table: 'symtab', exported: true } as ResolvedFunction;
  return { site: analyzePatchSite(codeMap, f.name, length), codeMap, target, mainName: 'main', loadBias: BIAS };
}

// f: 0 endbr64; 4 xor eax,eax; 6 add eax,[rdi+8]; 9 mov rdi,[rdi]; 12 test rdi,rdi; 15 jne +6; 17 ret
const LOOP_AT_6 = [0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0x03, 0x47, 0x08, 0x48, 0x8b, 0x3f, 0x48, 0x85, 0xff, 0x75, 0xf5, 0xc3];

describe('BRANCH_INTO_PATCHED_BYTES', () => {
  it('reports a loop head at +6 inside 12 overwritten bytes, naming the branch and run-time addresses', () => {
    const findings = checkBranchInto(contextFor(LOOP_AT_6, [{ name: 'f', at: 0, size: LOOP_AT_6.length }], 12));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'BRANCH_INTO_PATCHED_BYTES', severity: 'error', address: TEXT + 6n + BIAS });
    expect(findings[0]!.evidence.map((e) => e.location)).toEqual(['f+0x6', 'f+0xf']);
    expect(findings[0]!.message).toContain('f+0x6');
    // The branch's own text names its target at the run-time address too, not the file address.
    expect(findings[0]!.evidence[1]!.text).toBe(`jne 0x${(TEXT + 6n + BIAS).toString(16)}`);
  });

  it('stays silent when the trampoline ends at or before the loop head (rel32, 5 bytes)', () => {
    expect(checkBranchInto(contextFor(LOOP_AT_6, [{ name: 'f', at: 0, size: LOOP_AT_6.length }], 5))).toEqual([]);
  });

  it('stays silent for a loop head exactly at the entry (the trampoline is entered from its start)', () => {
    // f: 0 add eax,[rdi+8]; 3 mov rdi,[rdi]; 6 test rdi,rdi; 9 jne 0; 11 ret; 12 nops
    const bytes = [0x03, 0x47, 0x08, 0x48, 0x8b, 0x3f, 0x48, 0x85, 0xff, 0x75, 0xf5, 0xc3, 0x90, 0x90, 0x90, 0x90];
    expect(checkBranchInto(contextFor(bytes, [{ name: 'f', at: 0, size: 16 }], 12))).toEqual([]);
  });
});

describe('RETURN_ADDRESS_IN_PATCHED_BYTES', () => {
  // f: 0 endbr64; 4 push rbx; 5 call g (ends at +10); 10 mov ebx,eax; 12 pop rbx; 13 ret   g: 14 ret
  const callAt5 = [0xf3, 0x0f, 0x1e, 0xfa, 0x53, 0xe8, ...le32(14 - 10), 0x89, 0xc3, 0x5b, 0xc3, 0xc3];
  it('reports a call whose return address (+10) lies inside 12 overwritten bytes', () => {
    const findings = checkReturnAddress(contextFor(callAt5, [{ name: 'f', at: 0, size: 14 }, { name: 'g', at: 14, size: 1 }], 12));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'RETURN_ADDRESS_IN_PATCHED_BYTES', severity: 'error', address: TEXT + 10n + BIAS });
    expect(findings[0]!.evidence[0]!.text).toBe(`call 0x${(TEXT + 14n + BIAS).toString(16)}`);
  });

  it('stays silent for a call that ends exactly at the end of the range, or after it', () => {
    const ctx = (n: number): StaticContext => contextFor(callAt5, [{ name: 'f', at: 0, size: 14 }, { name: 'g', at: 14, size: 1 }], n);
    expect(checkReturnAddress(ctx(10))).toEqual([]); // the call ends at +10 = the range end
    expect(checkReturnAddress(ctx(8))).toEqual([]); // the call is cut, its return address lies after the range
  });
});

describe('TRAMPOLINE_OVERRUNS_FUNCTION', () => {
  // get_level: endbr64; mov eax,[rip+0x100]; ret (11 bytes), then the next function or padding.
  const getLevel = [0xf3, 0x0f, 0x1e, 0xfa, 0x8b, 0x05, ...le32(0x100), 0xc3];
  const next = [0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 7, 0, 0, 0, 0xc3];

  it('is an error when the overwrite reaches the next function, naming it', () => {
    const findings = checkOverrun(contextFor([...getLevel, ...next], [{ name: 'get_level', at: 0, size: 11 }, { name: 'get_bonus', at: 11, size: 10 }], 12));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'TRAMPOLINE_OVERRUNS_FUNCTION', severity: 'error', address: TEXT + 11n + BIAS });
    expect(findings[0]!.message).toContain('get_bonus');
  });

  it('is a warning when only alignment padding is overwritten', () => {
    const padded = [...getLevel, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, ...next]; // int3 padding to +16
    const findings = checkOverrun(contextFor(padded, [{ name: 'get_level', at: 0, size: 11 }, { name: 'get_bonus', at: 16, size: 10 }], 12));
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('stays silent when the trampoline fits', () => {
    expect(checkOverrun(contextFor([...getLevel, ...next], [{ name: 'get_level', at: 0, size: 11 }, { name: 'get_bonus', at: 11, size: 10 }], 5))).toEqual([]);
  });
});

describe('informational checks', () => {
  // f: 0 endbr64; 4 mov edx,edi; 6 lea rsi,[rip+0x10] (7 bytes, cut at 12); 13 ret
  const bytes = [0xf3, 0x0f, 0x1e, 0xfa, 0x89, 0xfa, 0x48, 0x8d, 0x35, ...le32(0x10), 0xc3];
  const ctx = contextFor(bytes, [{ name: 'f', at: 0, size: bytes.length }], 12);

  it('notes the partly overwritten instruction and its surviving tail', () => {
    const [finding] = checkPartialInstruction(ctx);
    expect(finding).toMatchObject({ code: 'PARTIAL_INSTRUCTION_OVERWRITTEN', severity: 'info', address: TEXT + 6n + BIAS });
    expect(finding!.message).toContain('last 1 byte(s)');
  });

  it('notes rip-relative operands with their run-time target', () => {
    const [finding] = checkRipRelative(ctx);
    expect(finding).toMatchObject({ code: 'RIP_RELATIVE_IN_PATCHED_BYTES', severity: 'info' });
    expect(finding!.evidence[0]!.text).toContain(`0x${(TEXT + 13n + 0x10n + BIAS).toString(16)}`);
  });

  it('notes endbr64 at the entry, and whether the replacement has one for an indirect jump', () => {
    expect(checkEndbr64(ctx, { entryEndbr64: false, name: 'fix' }, true)[0]!.message).toContain('would fault where IBT is enforced');
    expect(checkEndbr64(ctx, { entryEndbr64: true, name: 'fix' }, true)[0]!.message).toContain('IBT-clean');
    const noEndbr = contextFor([0x31, 0xc0, ...bytes.slice(4)], [{ name: 'f', at: 0, size: bytes.length - 2 }], 5);
    expect(checkEndbr64(noEndbr, null, true)).toEqual([]);
  });
});

describe('precision: what is not an entry into the bytes', () => {
  it('a forward branch from inside the bytes to inside them (jmp +2 at offset 4 to 6) is not flagged', () => {
    // f: 0 endbr64; 4 jmp +2 (to 8); 6 ud2; 8 xor eax,eax; 10 inc eax; 12 ret
    const bytes = [0xf3, 0x0f, 0x1e, 0xfa, 0xeb, 0x02, 0x0f, 0x0b, 0x31, 0xc0, 0xff, 0xc0, 0xc3];
    expect(checkBranchInto(contextFor(bytes, [{ name: 'f', at: 0, size: bytes.length }], 12))).toEqual([]);
  });

  it('a backward branch inside the bytes (a loop entirely inside them) is still flagged', () => {
    // f: 0 endbr64; 4 dec edi; 6 jne 4; 8 xor eax,eax; 10 nop; 11 nop; 12 ret
    const bytes = [0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0xcf, 0x75, 0xfc, 0x31, 0xc0, 0x90, 0x90, 0xc3];
    const findings = checkBranchInto(contextFor(bytes, [{ name: 'f', at: 0, size: bytes.length }], 12));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.address).toBe(TEXT + 4n + BIAS);
  });

  it('call next; pop rax (get-PC) leaves no return address parked in the bytes', () => {
    // f: 0 endbr64; 4 call 9 (next); 9 pop rax; 10 nop; 11 nop; 12 ret
    const bytes = [0xf3, 0x0f, 0x1e, 0xfa, 0xe8, ...le32(0), 0x58, 0x90, 0x90, 0xc3];
    const ctx = contextFor(bytes, [{ name: 'f', at: 0, size: bytes.length }], 12);
    expect(checkReturnAddress(ctx)).toEqual([]);
    // Its own edge (call at +4 to +9) is forward and inside: not a branch into the bytes either.
    expect(checkBranchInto(ctx)).toEqual([]);
  });
});
