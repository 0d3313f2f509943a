import { beforeAll, describe, expect, it } from 'vitest';
import { buildTrampoline, parseTrampolineSpec, rel32Reach } from '../../src/asm/trampoline.js';
import { Assembler } from '../../src/asm/keystone.js';
import { AsmError } from '../../src/asm/error.js';

const SITE = 0x401126n;
const TARGET = 0x7f12_3456_7000n;

let assembler: Assembler;
beforeAll(async () => {
  assembler = await Assembler.load();
});

const bytesOf = (b: Uint8Array): number[] => [...b];

describe('built-in forms', () => {
  it('abs_rax_is_movabs_then_jmp_rax', () => {
    const t = buildTrampoline('abs-rax', SITE, TARGET);
    // movabs rax, 0x7f1234567000; jmp rax
    expect(bytesOf(t.bytes)).toEqual([0x48, 0xb8, 0x00, 0x70, 0x56, 0x34, 0x12, 0x7f, 0x00, 0x00, 0xff, 0xe0]);
    expect(t.length).toBe(12);
    expect(t.instructions.map((i) => i.text)).toEqual(['mov rax, 0x7f1234567000', 'jmp rax']);
    expect(t.transfer).toMatchObject({ kind: 'jmp-register', destination: TARGET, indirect: true, at: SITE + 10n });
    expect(t.clobbers).toEqual(['rax']);
    expect(t.transfersWithCall).toBe(false);
    expect(t.stackDelta).toBe(0);
    expect(t.problems).toEqual([]);
  });

  it('abs_rax_bytes_equal_keystones_encoding', () => {
    const t = buildTrampoline('abs-rax', SITE, TARGET);
    expect(bytesOf(t.bytes)).toEqual(bytesOf(assembler.assemble(`movabs rax, ${TARGET}; jmp rax`, SITE)));
  });

  it('abs_indirect_is_jmp_rip_plus_0_then_the_address', () => {
    const t = buildTrampoline('abs-indirect', SITE, TARGET);
    // jmp qword ptr [rip+0]; dq 0x7f1234567000
    expect(bytesOf(t.bytes)).toEqual([0xff, 0x25, 0, 0, 0, 0, 0x00, 0x70, 0x56, 0x34, 0x12, 0x7f, 0x00, 0x00]);
    expect(t.length).toBe(14);
    // the 8 address bytes are data, not listed as instructions
    expect(t.instructions).toHaveLength(1);
    expect(t.transfer).toMatchObject({ kind: 'jmp-memory', destination: TARGET });
    expect(t.clobbers).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('rel32_in_range_is_e9_and_the_displacement', () => {
    const target = 0x402000n;
    const t = buildTrampoline('rel32', SITE, target);
    // jmp 0x402000 at 0x401126: rel32 = 0x402000 - 0x40112b = 0xed5
    expect(bytesOf(t.bytes)).toEqual([0xe9, 0xd5, 0x0e, 0x00, 0x00]);
    expect(t.transfer).toMatchObject({ kind: 'jmp-direct', destination: target, indirect: false });
    expect(t.reach).toMatchObject({ inRange: true, displacement: 0xed5n });
    expect(t.problems).toEqual([]);
  });

  it('rel32_backwards_encodes_a_negative_displacement', () => {
    // jmp 0x401000 at 0x401126: rel32 = 0x401000 - 0x40112b = -0x12b = 0xfffffed5
    const t = buildTrampoline('rel32', SITE, 0x401000n);
    expect(bytesOf(t.bytes)).toEqual([0xe9, 0xd5, 0xfe, 0xff, 0xff]);
    expect(t.problems).toEqual([]);
  });

  it('rel32_out_of_range_is_a_problem_not_an_exception', () => {
    const t = buildTrampoline('rel32', SITE, TARGET);
    expect(t.bytes).toHaveLength(0);
    expect(t.problems.map((p) => p.code)).toEqual(['rel32-out-of-range']);
    expect(t.reach).toMatchObject({ inRange: false, realProcess: 'out-of-range-under-aslr' });
  });
});

describe('rel32 range edges', () => {
  const site = 0x1_0000_0000n;
  const end = site + 5n;
  it('reaches_exactly_plus_2GiB_minus_1', () => {
    expect(rel32Reach(site, end + 0x7fff_ffffn).inRange).toBe(true);
    expect(rel32Reach(site, end + 0x8000_0000n).inRange).toBe(false);
  });
  it('reaches_exactly_minus_2GiB', () => {
    expect(rel32Reach(site, end - 0x8000_0000n).inRange).toBe(true);
    expect(rel32Reach(site, end - 0x8000_0001n).inRange).toBe(false);
  });
  it('encodes_the_extreme_displacements', () => {
    // jmp +0x7fffffff: e9 ff ff ff 7f ; jmp -0x80000000: e9 00 00 00 80
    expect(bytesOf(buildTrampoline('rel32', site, end + 0x7fff_ffffn).bytes)).toEqual([0xe9, 0xff, 0xff, 0xff, 0x7f]);
    expect(bytesOf(buildTrampoline('rel32', site, end - 0x8000_0000n).bytes)).toEqual([0xe9, 0x00, 0x00, 0x00, 0x80]);
  });
  it('is_in_range_in_a_real_process_only_within_one_object', () => {
    expect(rel32Reach(site, end + 0x1000n).realProcess).toBe('out-of-range-under-aslr');
    expect(rel32Reach(site, end + 0x1000n, { sameObject: true }).realProcess).toBe('in-range');
  });
});

describe('templates (Keystone)', () => {
  it('movabs_r11_jmp_r11_reaches_the_target_and_clobbers_r11', () => {
    const t = buildTrampoline(parseTrampolineSpec('movabs r11, {target}; jmp r11'), SITE, TARGET, { assembler });
    // movabs r11, 0x7f1234567000 (49 bb imm64); jmp r11 (41 ff e3)
    expect(bytesOf(t.bytes)).toEqual([0x49, 0xbb, 0x00, 0x70, 0x56, 0x34, 0x12, 0x7f, 0x00, 0x00, 0x41, 0xff, 0xe3]);
    expect(t.form).toBe('template');
    expect(t.clobbers).toEqual(['r11']);
    expect(t.transfer?.destination).toBe(TARGET);
    expect(t.problems).toEqual([]);
  });

  it('push_mov_rsp4_ret_reaches_the_target_without_clobbering', () => {
    const lo = TARGET & 0xffff_ffffn;
    const hi = TARGET >> 32n;
    // push 0x34567000 (sign-extended); mov dword ptr [rsp+4], 0x7f12; ret
    const t = buildTrampoline({ template: 'push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret' }, SITE, TARGET, { assembler });
    // push 0x34567000 (68 imm32); mov dword ptr [rsp+4], 0x7f12 (c7 44 24 04 imm32); ret (c3)
    expect(bytesOf(t.bytes)).toEqual([0x68, 0x00, 0x70, 0x56, 0x34, 0xc7, 0x44, 0x24, 0x04, 0x12, 0x7f, 0x00, 0x00, 0xc3]);
    expect(lo).toBe(0x34567000n);
    expect(hi).toBe(0x7f12n);
    expect(t.transfer).toMatchObject({ kind: 'ret', destination: TARGET });
    expect(t.stackDelta).toBe(0);
    expect(t.clobbers).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('call_based_template_is_flagged', () => {
    const t = buildTrampoline({ template: 'movabs rax, {target}; call rax' }, SITE, TARGET, { assembler });
    expect(t.transfersWithCall).toBe(true);
    expect(t.stackDelta).toBe(-8);
    expect(t.transfer?.destination).toBe(TARGET);
    expect(t.problems.map((p) => p.code)).toEqual(['uses-call']);
  });

  it('template_that_misses_the_target_is_flagged', () => {
    // loads the target into rax but jumps through rcx
    const t = buildTrampoline({ template: 'movabs rax, {target}; jmp rcx' }, SITE, TARGET, { assembler });
    expect(t.transfer).toMatchObject({ kind: 'jmp-register', destination: null });
    expect(t.problems.map((p) => p.code)).toEqual(['misses-target']);
  });

  it('template_without_a_transfer_is_flagged', () => {
    const t = buildTrampoline({ template: 'movabs rax, {target}' }, SITE, TARGET, { assembler });
    expect(t.problems.map((p) => p.code)).toEqual(['no-transfer']);
  });

  it('bad_template_throws_AsmError_with_keystones_message', () => {
    expect(() => buildTrampoline({ template: 'movabs rax, {target}; jmpx rax' }, SITE, TARGET, { assembler })).toThrow(
      expect.objectContaining({ name: 'AsmError', problem: 'assembly', keystoneMessage: expect.stringMatching(/KS_ERR_ASM_MNEMONICFAIL/) }),
    );
  });

  it('template_needs_the_placeholder', () => {
    expect(() => parseTrampolineSpec('jmp rax')).toThrow(AsmError);
    expect(() => buildTrampoline({ template: 'jmp rax' }, SITE, TARGET, { assembler })).toThrow(/\{target\}/);
  });

  it('form_names_parse_to_built_in_forms', () => {
    expect(parseTrampolineSpec('abs-rax')).toBe('abs-rax');
    expect(parseTrampolineSpec(' rel32 ')).toBe('rel32');
    expect(parseTrampolineSpec('abs-indirect')).toBe('abs-indirect');
  });
});
