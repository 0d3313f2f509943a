// The trampoline's own bytes, judged before anything runs: user templates through Keystone at
// a patch site, and what checkTrampolineForm must say about each (or must not).
import { beforeAll, describe, expect, it } from 'vitest';
import { Assembler } from '../../src/asm/keystone.js';
import { buildTrampoline } from '../../src/asm/trampoline.js';
import { checkTrampolineForm } from '../../src/verify/checks/trampoline-form.js';
import { checkWrittenTransfer } from '../../src/verify/checks/written-transfer.js';
import { readWrittenTrampoline } from '../../src/verify/written-trampoline.js';
import { hasVarargsPrologue, isVariadicFunction, takesVarargs } from '../../src/verify/variadic.js';

const SITE = 0x555555555280n;
const TARGET = 0x7ffff7fbc110n;
let assembler: Assembler;
beforeAll(async () => {
  assembler = await Assembler.load();
});

const codes = (template: string, variadic = false): string[] =>
  checkTrampolineForm(buildTrampoline({ template }, SITE, TARGET, { assembler }), { variadic }).map((f) => f.code);

describe('registers the trampoline writes', () => {
  it('silent for movabs r11 / jmp r11 and for the built-in forms', () => {
    expect(codes('movabs r11, {target}; jmp r11')).toEqual([]);
    expect(checkTrampolineForm(buildTrampoline('abs-rax', SITE, TARGET))).toEqual([]);
    expect(checkTrampolineForm(buildTrampoline('abs-indirect', SITE, TARGET), { variadic: true })).toEqual([]);
  });
  it('mov rdi, {target}; jmp rdi clobbers the first argument', () => {
    const [finding] = checkTrampolineForm(buildTrampoline({ template: 'movabs rdi, {target}; jmp rdi' }, SITE, TARGET, { assembler }));
    expect(finding).toMatchObject({ code: 'REGISTER_CLOBBERED', severity: 'error', address: SITE });
    expect(finding!.message).toContain('rdi is an argument register');
  });
  it('a callee-saved scratch register (rbx) is reported too', () => {
    expect(codes('movabs rbx, {target}; jmp rbx')).toEqual(['REGISTER_CLOBBERED']);
  });
  it('rax is fine, except in front of a variadic function (al counts its vector registers)', () => {
    expect(codes('movabs rax, {target}; jmp rax')).toEqual([]);
    const [finding] = checkTrampolineForm(buildTrampoline('abs-rax', SITE, TARGET), { variadic: true });
    expect(finding!.message).toContain('rax holds al, the number of vector registers a variadic call passes');
  });
});

describe('the stack rule for push/ret and other forms', () => {
  it('silent for push/ret forms that push exactly the 8-byte address', () => {
    expect(codes('push rax; movabs rax, {target}; xchg rax, [rsp]; ret')).toEqual([]);
    // Explicit rsp arithmetic is left to the run to judge (the byte-level count sees push/pop/ret only).
    expect(codes('sub rsp, 8; mov dword ptr [rsp], {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret')).toEqual([]);
  });
  it('a push left on the stack before the jump: the replacement starts 8 bytes low and misaligned', () => {
    const [finding] = checkTrampolineForm(buildTrampoline({ template: 'push rbp; movabs rax, {target}; jmp rax' }, SITE, TARGET, { assembler }));
    expect(finding).toMatchObject({ code: 'STACK_IMBALANCE', severity: 'error' });
    expect(finding!.message).toContain('8 bytes below');
    expect(finding!.message).toContain('misaligned');
  });
  it('an assembler-shortened push (data16 push imm16) then ret: rsp 6 bytes above, and the address is wrong', () => {
    // Keystone encodes `push 0xf7fbc110` (too large for a sign-extended imm32) as 66 68 imm16.
    const found = codes('push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret');
    expect(found).toContain('STACK_IMBALANCE');
  });
  it('call instead of jmp is reported once, as the call it is', () => {
    const findings = checkTrampolineForm(buildTrampoline({ template: 'movabs rax, {target}; call rax' }, SITE, TARGET, { assembler }));
    expect(findings.map((f) => f.code)).toEqual(['STACK_IMBALANCE']);
    expect(findings[0]!.message).toContain('call rax');
  });
  it('a template whose bytes lead elsewhere: the replacement cannot be reached', () => {
    expect(codes('movabs rax, {target}; mov rax, 0x1234; jmp rax')).toContain('PATCH_NOT_REACHED');
  });
});

describe('recognising a variadic function', () => {
  it('from the demangled C++ signature', () => {
    expect(takesVarargs('log_line(char const*, ...)')).toBe(true);
    expect(takesVarargs('f(...)')).toBe(true);
    expect(takesVarargs('need_fix_func(int)')).toBe(false);
  });
  it("from gcc's va_start prologue: test al, al before al is written", () => {
    // sub rsp, 0xd8; mov [rsp+0x28], rsi; test al, al; je +0x20
    const prologue = Uint8Array.of(0x48, 0x81, 0xec, 0xd8, 0, 0, 0, 0x48, 0x89, 0x74, 0x24, 0x28, 0x84, 0xc0, 0x74, 0x20);
    expect(hasVarargsPrologue(prologue, SITE)).toBe(true);
    expect(isVariadicFunction('logf', prologue, SITE)).toBe(true);
  });
  it('not when al is written first (xor eax, eax; test al, al) or the test comes after a branch', () => {
    expect(hasVarargsPrologue(Uint8Array.of(0x31, 0xc0, 0x84, 0xc0), SITE)).toBe(false);
    expect(hasVarargsPrologue(Uint8Array.of(0x74, 0x02, 0x84, 0xc0), SITE)).toBe(false);
    expect(isVariadicFunction('need_fix_func', null, SITE)).toBe(false);
  });
});

describe('a trampoline the program wrote', () => {
  // movabs rax, 0x7ffff7fbc110; call rax (ff d0) / jmp rax (ff e0)
  const written = (last: number): Uint8Array => Uint8Array.of(0x48, 0xb8, 0x10, 0xc1, 0xfb, 0xf7, 0xff, 0x7f, 0, 0, 0xff, last);
  it('call rax: STACK_IMBALANCE at the call', () => {
    const [finding] = checkWrittenTransfer(readWrittenTrampoline(written(0xd0), SITE));
    expect(finding).toMatchObject({ code: 'STACK_IMBALANCE', severity: 'error', address: SITE + 10n });
    expect(finding!.message).toContain('"call rax"');
  });
  it('jmp rax: silent', () => {
    expect(checkWrittenTransfer(readWrittenTrampoline(written(0xe0), SITE))).toEqual([]);
  });
});

describe('the stack the trampoline leaves', () => {
  it('push {target_lo32} assembles to a 2-byte push (66 68 imm16): STACK_IMBALANCE naming the prefix', () => {
    // push 0xf7fbc110 -> 66 68 10 c1  push 0xc110 (word); mov dword ptr [rsp+4], 0x7fff; ret
    const findings = checkTrampolineForm(
      buildTrampoline({ template: 'push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret' }, SITE, TARGET, { assembler }),
    );
    const stack = findings.find((f) => f.code === 'STACK_IMBALANCE');
    expect(stack).toBeDefined();
    expect(stack!.evidence[0]!.bytes?.[0]).toBe(0x66);
    expect(stack!.hint).toContain('push rax');
  });
  it('sub rsp, 8 before the jump is judged from the bytes', () => {
    expect(codes('sub rsp, 8; movabs rax, {target}; jmp rax')).toContain('STACK_IMBALANCE');
    expect(codes('sub rsp, 8; add rsp, 8; movabs rax, {target}; jmp rax')).not.toContain('STACK_IMBALANCE');
  });
});
