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

  it('push_of_a_low_half_above_0x7fffffff_is_a_word_sized_push_problem', () => {
    // target 0x7ffff7fbc110: lo32 0xf7fbc110 does not fit push imm32 (sign-extended), so Keystone emits
    // push 0xc110 (66 68 10 c1: a 2-byte push); mov dword ptr [rsp+4], 0x7fff (c7 44 24 04 ff 7f 00 00); ret (c3)
    const target = 0x7fff_f7fb_c110n;
    const t = buildTrampoline({ template: 'push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret' }, SITE, target, { assembler });
    expect(bytesOf(t.bytes)).toEqual([0x66, 0x68, 0x10, 0xc1, 0xc7, 0x44, 0x24, 0x04, 0xff, 0x7f, 0x00, 0x00, 0xc3]);
    expect(t.problems.map((p) => p.code)).toEqual(['word-sized-push-pop', 'misses-target']);
    const problem = t.problems[0]!;
    expect(problem).toMatchObject({ code: 'word-sized-push-pop', at: SITE, bytes: Uint8Array.of(0x66, 0x68, 0x10, 0xc1) });
    expect(problem.message).toMatch(/operand-size prefix 66: it pushes 2 bytes, not 8/);
    expect(problem.message).toMatch(/sign-extends/);
    expect(problem.message).toMatch(/push rax; movabs rax, \{target\}; xchg qword ptr \[rsp\], rax; ret/);
    expect(t.stackDelta).toBe(6); // -2 + 8: the ret pops more than was pushed
  });

  it('word_sized_push_and_pop_of_a_register_are_problems', () => {
    // push ax (66 50) ; pop ax (66 58) ; movabs r11, target ; jmp r11
    const t = buildTrampoline({ template: 'push ax; pop ax; movabs r11, {target}; jmp r11' }, SITE, TARGET, { assembler });
    expect(bytesOf(t.bytes.slice(0, 4))).toEqual([0x66, 0x50, 0x66, 0x58]);
    expect(t.problems.map((p) => [p.code, 'at' in p ? p.at : null])).toEqual([
      ['word-sized-push-pop', SITE],
      ['word-sized-push-pop', SITE + 2n],
    ]);
    expect(t.problems[1]!.message).toMatch(/pops 2 bytes/);
  });

  it('a_push_imm32_that_fits_is_not_word_sized', () => {
    // push 0x34567000 (68 00 70 56 34): 8 bytes, sign-extended
    const t = buildTrampoline({ template: 'push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret' }, SITE, TARGET, { assembler });
    expect(t.bytes[0]).toBe(0x68);
    expect(t.problems).toEqual([]);
  });

  it('push_rax_xchg_form_reaches_the_target_and_keeps_rax', () => {
    // push rax (50) ; movabs rax, target (48 b8 imm64) ; xchg qword ptr [rsp], rax (48 87 04 24) ; ret (c3)
    const target = 0x7fff_f7fb_c110n;
    const t = buildTrampoline({ template: 'push rax; movabs rax, {target}; xchg qword ptr [rsp], rax; ret' }, SITE, target, { assembler });
    expect(bytesOf(t.bytes)).toEqual([0x50, 0x48, 0xb8, 0x10, 0xc1, 0xfb, 0xf7, 0xff, 0x7f, 0x00, 0x00, 0x48, 0x87, 0x04, 0x24, 0xc3]);
    expect(t.transfer).toMatchObject({ kind: 'ret', destination: target });
    expect(t.stackDelta).toBe(0);
    expect(t.clobbers).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('movabs_push_rax_ret_reaches_the_target_and_clobbers_rax', () => {
    // movabs rax, target (48 b8 imm64) ; push rax (50) ; ret (c3)
    const t = buildTrampoline({ template: 'movabs rax, {target}; push rax; ret' }, SITE, TARGET, { assembler });
    expect(t.transfer).toMatchObject({ kind: 'ret', destination: TARGET });
    expect(t.stackDelta).toBe(0);
    expect(t.clobbers).toEqual(['rax']);
    expect(t.problems).toEqual([]);
  });

  it('form_names_parse_to_built_in_forms', () => {
    expect(parseTrampolineSpec('abs-rax')).toBe('abs-rax');
    expect(parseTrampolineSpec(' rel32 ')).toBe('rel32');
    expect(parseTrampolineSpec('abs-indirect')).toBe('abs-indirect');
  });
});

describe('stackDelta counts explicit rsp arithmetic', () => {
  const deltaOf = (template: string): number | null => buildTrampoline({ template }, SITE, TARGET, { assembler }).stackDelta;

  it('sub_rsp_imm8_and_imm32', () => {
    // sub rsp, 8 (48 83 ec 08) ; movabs r11, target ; jmp r11
    expect(deltaOf('sub rsp, 8; movabs r11, {target}; jmp r11')).toBe(-8);
    // sub rsp, 0x100 (48 81 ec 00 01 00 00)
    expect(deltaOf('sub rsp, 0x100; movabs r11, {target}; jmp r11')).toBe(-0x100);
  });

  it('add_rsp_after_a_push', () => {
    // push rbx (53) ; add rsp, 8 (48 83 c4 08) ; movabs r11, target ; jmp r11
    expect(deltaOf('push rbx; add rsp, 8; movabs r11, {target}; jmp r11')).toBe(0);
    expect(deltaOf('add rsp, 0x18; movabs r11, {target}; jmp r11')).toBe(0x18);
  });

  it('lea_rsp_relative_to_rsp', () => {
    // lea rsp, [rsp-8] (48 8d 64 24 f8) ; lea rsp, [rsp+0x10] (48 8d 64 24 10)
    expect(deltaOf('lea rsp, [rsp-8]; movabs r11, {target}; jmp r11')).toBe(-8);
    expect(deltaOf('lea rsp, [rsp+0x10]; movabs r11, {target}; jmp r11')).toBe(0x10);
  });

  it('sub_then_ret_through_a_pushed_address', () => {
    // sub rsp, 8 ; push target via movabs/push ; ret: the ret pops the pushed address, 8 bytes stay reserved
    const t = buildTrampoline({ template: 'sub rsp, 8; movabs rax, {target}; push rax; ret' }, SITE, TARGET, { assembler });
    expect(t.stackDelta).toBe(-8);
    expect(t.transfer?.destination).toBe(TARGET);
  });

  it('unknown_rsp_writes_make_the_delta_unknown_not_wrong', () => {
    // lea rsp, [rax+8] (48 8d 60 08) ; mov rsp, rax (48 89 c4) ; and rsp, -16 (48 83 e4 f0) ;
    // sub esp, 8 (83 ec 08: zeroes the upper half) ; pop rsp (5c) ; leave (c9)
    for (const write of ['lea rsp, [rax+8]', 'mov rsp, rax', 'and rsp, -16', 'sub esp, 8', 'push rax; pop rsp', 'leave']) {
      expect(deltaOf(`${write}; movabs r11, {target}; jmp r11`), write).toBeNull();
    }
  });

  it('push_pop_and_reads_of_rsp_stay_known', () => {
    // push rax ; pop rax ; mov rax, rsp (48 89 e0: reads rsp) ; cmp rsp, 8 ; movabs r11, target ; jmp r11
    expect(deltaOf('push rax; pop rax; mov rax, rsp; cmp rsp, 8; movabs r11, {target}; jmp r11')).toBe(0);
  });
});
