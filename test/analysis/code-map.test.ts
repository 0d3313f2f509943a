// CodeMap specification on hand-made code: boundaries, kinds, padding vs unattributed code,
// symbols (aliases, no size), invalid bytes, rip-relative operands.
import { describe, expect, it } from 'vitest';
import { CodeMap } from '../../src/analysis/code-map.js';
import { AnalysisError } from '../../src/analysis/error.js';
import { imageOf, le32, TEXT } from './helpers.js';

const at = (offset: number): bigint => TEXT + BigInt(offset);

describe('branch kinds and targets', () => {
  const map = CodeMap.build(imageOf([
    0xe2, 0xfe, //                   00 loop 0x401000
    0xe3, 0x02, //                   02 jrcxz 0x401006
    0x74, 0x00, //                   04 je 0x401006
    0xe8, ...le32(0), //             06 call 0x40100b
    0xeb, 0x00, //                   0b jmp 0x40100d
    0xff, 0xd0, //                   0d call rax
    0xff, 0x25, ...le32(0), //       0f jmp qword ptr [rip]
  ], [{ name: 'f', at: 0, size: 0x15 }]));

  it('classifies_every_direct_transfer', () => {
    expect(map.directBranches().map((b) => [b.source, b.kind, b.target])).toEqual([
      [at(0x00), 'loop', at(0x00)],
      [at(0x02), 'jrcxz', at(0x06)],
      [at(0x04), 'jcc', at(0x06)],
      [at(0x06), 'call', at(0x0b)],
      [at(0x0b), 'jmp', at(0x0d)],
    ]);
  });

  it('lists_call_sites_and_indirect_branches', () => {
    expect(map.callSites().map((s) => [s.address, s.kind])).toEqual([[at(0x06), 'call'], [at(0x0d), 'indirect-call']]);
    expect(map.indirectBranches().map((s) => [s.address, s.kind])).toEqual([[at(0x0d), 'indirect-call'], [at(0x0f), 'indirect-jmp']]);
  });

  it('records_rip_relative_operands', () => {
    // jmp qword ptr [rip+0] at 0x0f reads the 8 bytes at 0x401015
    expect(map.ripRelativeOperands()).toEqual([{ address: at(0x0f), length: 6, target: at(0x15) }]);
  });
});

describe('regions between functions', () => {
  const map = CodeMap.build(imageOf([
    0xc3, //                                                     00 f: ret
    0xcc, 0xcc, 0xcc, //                                         01 int3 x3          (padding)
    0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, // 04 cs nop word ptr [rax+rax]
    0x66, 0x90, //                                               0e xchg ax, ax (nop)
    0x31, 0xc0, 0xc3, //                                         10 xor eax, eax; ret  (no symbol)
    0x0f, 0x1f, 0x00, //                                         13 nop dword ptr [rax]
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, // 16..22 nop
    0xc3, //                                                     23 g: ret
  ], [{ name: 'f', at: 0, size: 1 }, { name: 'g', at: 0x23, size: 1 }]));

  it('splits_gaps_into_padding_and_unattributed_code', () => {
    expect(map.paddings).toEqual([{ start: at(0x01), end: at(0x10) }, { start: at(0x13), end: at(0x23) }]);
    expect(map.unattributedCode).toEqual([{ start: at(0x10), end: at(0x13) }]);
  });

  it('answers_where_an_address_lies', () => {
    expect(map.regionAt(at(0x00))).toMatchObject({ kind: 'function', function: { name: 'f' } });
    expect(map.regionAt(at(0x05))).toMatchObject({ kind: 'padding' });
    expect(map.regionAt(at(0x11))).toMatchObject({ kind: 'unattributed-code' });
    expect(map.regionAt(at(0x24))).toEqual({ kind: 'unmapped' });
  });

  it('knows_instruction_boundaries', () => {
    expect(map.isInstructionStart(at(0x04))).toBe(true);
    expect(map.isInstructionStart(at(0x05))).toBe(false);
    expect(map.instructionContaining(at(0x08))).toMatchObject({ address: at(0x04), length: 10, kind: 'padding' });
    expect(map.describe(at(0x04)).text).toBe('nop word ptr [rax+rax]'); // iced drops the useless cs prefix
  });
});

describe('symbols', () => {
  it('folds_aliases_and_extends_sizeless_symbols_to_the_next', () => {
    const map = CodeMap.build(imageOf([
      0x31, 0xc0, 0xc3, //             00 f (alias f_alias): xor eax, eax; ret
      0x90, //                         03 asm_stub (size 0): nop
      0xc3, //                         04 ret
      0xc3, //                         05 g: ret
    ], [
      { name: 'f', at: 0, size: 3 },
      { name: 'f_alias', at: 0, size: 3 },
      { name: 'asm_stub', at: 3, size: 0 },
      { name: 'g', at: 5, size: 1 },
    ]));
    expect(map.functions.map((f) => [f.name, f.aliases, f.size, f.sizeFromSymbol])).toEqual([
      ['f', ['f_alias'], 3, true],
      ['asm_stub', [], 2, false],
      ['g', [], 1, true],
    ]);
    expect(map.functionNamed('f_alias')?.address).toBe(at(0));
    expect(map.functionContaining(at(4))?.name).toBe('asm_stub');
    expect(map.locationOf(at(4))).toBe('asm_stub+0x1');
    expect(map.locationOf(at(5))).toBe('g');
    expect(map.locationOf(at(6))).toBe('0x401006');
  });

  it('ignores_symbols_outside_executable_sections', () => {
    const image = imageOf([0xc3], [{ name: 'f', at: 0, size: 1 }]);
    image.functions.push({ name: 'in_data', address: 0x500000n, size: 4 });
    expect(CodeMap.build(image).functions.map((f) => f.name)).toEqual(['f']);
  });
});

describe('undecodable bytes', () => {
  it('become_one_byte_invalid_entries_and_decoding_resynchronises', () => {
    const map = CodeMap.build(imageOf([
      0x06, //                         00 (bad): push es is invalid in 64-bit mode
      0x31, 0xc0, //                   01 xor eax, eax
      0xc3, //                         03 ret
    ], [{ name: 'f', at: 0, size: 4 }]));
    expect([...map.instructions()].map((i) => [i.address, i.length, i.kind])).toEqual([
      [at(0), 1, 'invalid'],
      [at(1), 2, 'other'],
      [at(3), 1, 'return'],
    ]);
  });

  it('an_instruction_cut_by_the_symbol_end_is_not_taken_from_the_next_function', () => {
    const map = CodeMap.build(imageOf([
      0xb8, 0x01, //                   00 f (size 2): the first bytes of mov eax, imm32
      0x00, 0x00, 0x00, //             02 g starts here
      0xc3, //                         05 ret
    ], [{ name: 'f', at: 0, size: 2 }, { name: 'g', at: 2, size: 4 }]));
    expect(map.instructionContaining(at(0))?.kind).toBe('invalid');
    expect(map.isInstructionStart(at(2))).toBe(true);
  });

  it('rejects_addresses_beyond_2_pow_53', () => {
    const map = CodeMap.build(imageOf([0xc3], [{ name: 'f', at: 0, size: 1 }]));
    expect(() => map.functionContaining(1n << 60n)).toThrow(AnalysisError);
  });
});
