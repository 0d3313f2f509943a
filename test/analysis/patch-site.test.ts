// PatchSite specification: hand-made code with its assembly, where each check must fire and
// where it must stay silent. Offsets are from TEXT (0x401000); N is the overwrite length.
import { describe, expect, it } from 'vitest';
import { CodeMap } from '../../src/analysis/code-map.js';
import { analyzePatchSite } from '../../src/analysis/patch-site.js';
import { AnalysisError } from '../../src/analysis/error.js';
import { imageOf, le32, TEXT } from './helpers.js';

const at = (offset: number): bigint => TEXT + BigInt(offset);

describe('branches into the overwritten bytes', () => {
  it('loop_head_exactly_at_entry_is_silent', () => {
    const map = CodeMap.build(imageOf([
      0xff, 0xc8, //                   00 dec eax            <- loop head = entry
      0x85, 0xc0, //                   02 test eax, eax
      0x75, 0xfa, //                   04 jne 0x401000
      0x48, 0x83, 0xc4, 0x08, //       06 add rsp, 8
      0x48, 0x83, 0xec, 0x08, //       0a sub rsp, 8
      0x90, //                         0e nop
      0xc3, //                         0f ret
    ], [{ name: 'f', at: 0, size: 16 }]));
    const site = analyzePatchSite(map, 'f', 12);
    expect(map.branchesInto(at(0), at(1)).map((b) => b.source)).toEqual([at(4)]); // the edge exists...
    expect(site.branchesInto).toEqual([]); // ...but landing on the entry is what the trampoline is for
  });

  it('loop_head_at_entry_plus_4_is_reported_with_its_source', () => {
    const map = CodeMap.build(imageOf([
      0x31, 0xc0, //                   00 xor eax, eax
      0x31, 0xd2, //                   02 xor edx, edx
      0x01, 0xf8, //                   04 add eax, edi       <- loop head
      0xff, 0xca, //                   06 dec edx
      0x75, 0xfa, //                   08 jne 0x401004
      0x0f, 0x1f, 0x44, 0x00, 0x00, // 0a nop dword ptr [rax+rax]
      0xc3, //                         0f ret
      0xe9, ...le32(0x04 - 0x15), //   10 g: jmp 0x401004 (from another function)
    ], [{ name: 'f', at: 0, size: 0x10 }, { name: 'g', at: 0x10, size: 5 }]));
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.branchesInto.map((b) => ({ source: b.source, target: b.target, offset: b.offset, kind: b.kind, fn: b.sourceFunction, inRange: b.sourceInRange, text: b.sourceText }))).toEqual([
      { source: at(0x08), target: at(4), offset: 4, kind: 'jcc', fn: 'f', inRange: true, text: 'jne 0x401004' },
      { source: at(0x10), target: at(4), offset: 4, kind: 'jmp', fn: 'g', inRange: false, text: 'jmp 0x401004' },
    ]);
  });

  it('branch_to_entry_plus_N_is_just_past_the_range_and_silent', () => {
    const image = imageOf([
      0x48, 0x89, 0xf8, //             00 mov rax, rdi
      0x48, 0x01, 0xf0, //             03 add rax, rsi
      0x48, 0x83, 0xc0, 0x01, //       06 add rax, 1
      0x66, 0x90, //                   0a nop
      0x48, 0xff, 0xc0, //             0c inc rax            <- entry+12
      0xc3, //                         0f ret
      0xeb, 0xfa, //                   10 g: jmp 0x40100c
      0xc3, //                         12 ret
    ], [{ name: 'f', at: 0, size: 0x10 }, { name: 'g', at: 0x10, size: 3 }]);
    const map = CodeMap.build(image);
    expect(analyzePatchSite(map, 'f', 12).branchesInto).toEqual([]);
    // one byte longer and the same jmp lands inside
    expect(analyzePatchSite(map, 'f', 13).branchesInto.map((b) => b.offset)).toEqual([12]);
  });

  it('jump_table_entry_inside_the_range_is_reported_as_jump_table', () => {
    const T = 0x402000;
    const image = imageOf([
      0x83, 0xff, 0x03, //                         00 cmp edi, 3
      0x77, 0x22, //                               03 ja 0x401027
      0x48, 0x8d, 0x15, ...le32(T - 0x40100c), //  05 lea rdx, [rip+0xff4]   (0x402000)
      0x48, 0x63, 0x04, 0xba, //                   0c movsxd rax, dword ptr [rdx+rdi*4]
      0x48, 0x01, 0xd0, //                         10 add rax, rdx
      0xff, 0xe0, //                               13 jmp rax
      0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, //       15 mov eax, 1; ret       (case 0)
      0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3, //       1b mov eax, 2; ret       (case 1)
      0xb8, 0x03, 0x00, 0x00, 0x00, 0xc3, //       21 mov eax, 3; ret       (case 2)
      0x31, 0xc0, 0xc3, //                         27 xor eax, eax; ret     (default)
    ], [{ name: 'f', at: 0, size: 0x2a }], {
      // case 3 re-enters at f+5, inside the first 12 bytes
      rodata: { address: BigInt(T), bytes: [0x401015, 0x40101b, 0x401021, 0x401005].flatMap((t) => le32(t - T)) },
    });
    const map = CodeMap.build(image);
    expect(map.jumpTables).toHaveLength(1);
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.branchesInto.map((b) => ({ kind: b.kind, source: b.source, target: b.target, table: b.table, text: b.sourceText }))).toEqual([
      { kind: 'jump-table', source: at(0x13), target: at(5), table: BigInt(T), text: 'jmp rax' },
    ]);
    // with the abs-rel32 length the range ends before the lea: silent
    expect(analyzePatchSite(map, 'f', 5).branchesInto).toEqual([]);
  });
});

describe('return addresses inside the overwritten bytes', () => {
  // 00 push rbp; 01 call g; 06 pop rbp; 07 add rax, 1; 0b ret; 0c nop dword ptr [rax]; 10 g: ret
  const image = imageOf([
    0x55, //                             00 push rbp
    0xe8, ...le32(0x10 - 0x06), //       01 call 0x401010
    0x5d, //                             06 pop rbp
    0x48, 0x83, 0xc0, 0x01, //           07 add rax, 1
    0xc3, //                             0b ret
    0x0f, 0x1f, 0x40, 0x00, //           0c nop dword ptr [rax]
    0xc3, //                             10 g: ret
  ], [{ name: 'f', at: 0, size: 0x0c }, { name: 'g', at: 0x10, size: 1 }]);
  const map = CodeMap.build(image);

  it('call_ending_strictly_inside_the_range_is_reported', () => {
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.returnAddressesInRange).toHaveLength(1);
    const r = site.returnAddressesInRange[0]!;
    expect(r.returnAddress).toBe(at(6));
    expect(r.offset).toBe(6);
    expect(r.callee).toBe(at(0x10));
    expect(r.call.text).toBe('call 0x401010');
    expect([...r.call.bytes]).toEqual([0xe8, 0x0a, 0x00, 0x00, 0x00]);
  });

  it('call_ending_exactly_at_the_range_end_is_silent', () => {
    expect(analyzePatchSite(map, 'f', 6).returnAddressesInRange).toEqual([]);
  });

  it('call_ending_after_the_range_is_silent_but_partial', () => {
    const site = analyzePatchSite(map, 'f', 5);
    expect(site.returnAddressesInRange).toEqual([]);
    expect(site.partial).toMatchObject({ address: at(1), text: 'call 0x401010', bytesOverwritten: 4, partial: true });
  });
});

describe('overrun past the function end', () => {
  const image = imageOf([
    0x31, 0xc0, //                                               00 xor eax, eax
    0xc3, //                                                     02 ret
    0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, // 03 cs nop word ptr [rax+rax]
    0x0f, 0x1f, 0x00, //                                         0d nop dword ptr [rax]
    0x31, 0xc0, 0xc3, //                                         10 g: xor eax, eax; ret
  ], [{ name: 'f', at: 0, size: 3 }, { name: 'g', at: 0x10, size: 3 }]);
  const map = CodeMap.build(image);

  it('into_padding_only_is_a_warning', () => {
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.overrun).toEqual({
      functionEnd: at(3),
      bytesPastFunction: 9,
      spans: [{ start: at(3), end: at(12), region: 'padding', function: null }],
      severity: 'warning',
    });
  });

  it('into_the_next_function_is_an_error_naming_it', () => {
    const site = analyzePatchSite(map, 'f', 0x12);
    expect(site.overrun?.severity).toBe('error');
    expect(site.overrun?.spans).toEqual([
      { start: at(3), end: at(0x10), region: 'padding', function: null },
      { start: at(0x10), end: at(0x12), region: 'function', function: 'g' },
    ]);
    expect(site.covered.filter((c) => c.function === 'g').map((c) => c.text)).toEqual(['xor eax, eax']);
  });

  it('fitting_exactly_is_no_overrun', () => {
    expect(analyzePatchSite(map, 'g', 3).overrun).toBeNull();
  });

  it('past_the_end_of_the_section_is_an_error', () => {
    const site = analyzePatchSite(map, 'g', 5);
    expect(site.overrun?.spans).toEqual([{ start: at(0x13), end: at(0x15), region: 'unmapped', function: null }]);
    expect(site.overrun?.severity).toBe('error');
  });
});

describe('covered instructions, endbr64, rip-relative, pages', () => {
  it('names_the_partially_overwritten_instruction_with_its_bytes', () => {
    const map = CodeMap.build(imageOf([
      0x55, //                         00 push rbp
      0x48, 0x89, 0xe5, //             01 mov rbp, rsp
      0x48, 0x83, 0xec, 0x10, //       04 sub rsp, 0x10
      0x89, 0x7d, 0xfc, //             08 mov dword ptr [rbp-4], edi
      0x8b, 0x45, 0xfc, //             0b mov eax, dword ptr [rbp-4]
      0xc9, //                         0e leave
      0xc3, //                         0f ret
    ], [{ name: 'f', at: 0, size: 16 }]));
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.range).toEqual({ start: at(0), end: at(12), length: 12 });
    expect(site.covered.map((c) => [c.text, c.bytesOverwritten, c.partial])).toEqual([
      ['push rbp', 1, false],
      ['mov rbp, rsp', 3, false],
      ['sub rsp, 0x10', 4, false],
      ['mov dword ptr [rbp-4], edi', 3, false],
      ['mov eax, dword ptr [rbp-4]', 1, true],
    ]);
    expect([...site.partial!.bytes]).toEqual([0x8b, 0x45, 0xfc]);
    expect(site.entryEndbr64).toBe(false);
  });

  it('sees_endbr64_at_the_entry', () => {
    const map = CodeMap.build(imageOf([
      0xf3, 0x0f, 0x1e, 0xfa, //       00 endbr64
      0x31, 0xc0, //                   04 xor eax, eax
      0x0f, 0x1f, 0x44, 0x00, 0x00, // 06 nop dword ptr [rax+rax]
      0x66, 0x90, //                   0b nop
      0x90, 0x90, //                   0d nop; nop
      0xc3, //                         0f ret
    ], [{ name: 'f', at: 0, size: 16 }]));
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.entryEndbr64).toBe(true);
    expect(site.covered[0]!.text).toBe('endbr64');
  });

  it('lists_rip_relative_operands_in_the_range_with_their_targets', () => {
    const map = CodeMap.build(imageOf([
      0x48, 0x8b, 0x05, ...le32(0x1000 - 7), // 00 mov rax, [rip+0xff9]   (0x402000)
      0x48, 0x8d, 0x0d, ...le32(0x10), //       07 lea rcx, [rip+0x10]   (0x40101e)
      0x48, 0x01, 0xc8, //                      0e add rax, rcx
      0xc3, //                                  11 ret
    ], [{ name: 'f', at: 0, size: 0x12 }]));
    const site = analyzePatchSite(map, 'f', 12);
    expect(site.ripRelative.map((r) => [r.address, r.target, r.partial])).toEqual([
      [at(0), 0x402000n, false],
      [at(7), 0x40101en, true],
    ]);
  });

  it('counts_the_pages_the_write_touches', () => {
    const bytes = new Array(0x20).fill(0x90);
    bytes[0x1f] = 0xc3;
    const image = imageOf(bytes, [{ name: 'f', at: 0x0a, size: 0x16 }, { name: 'h', at: 0, size: 0x0a }], { base: 0x401ff0n });
    const map = CodeMap.build(image);
    expect(analyzePatchSite(map, 'f', 12).pages).toEqual({ first: 0x401000n, last: 0x402000n, count: 2, pageSize: 4096 });
    expect(analyzePatchSite(map, 'h', 5).pages.count).toBe(1);
  });

  it('rejects_a_zero_length_and_an_unknown_name', () => {
    const map = CodeMap.build(imageOf([0xc3], [{ name: 'f', at: 0, size: 1 }]));
    expect(() => analyzePatchSite(map, 'f', 0)).toThrow(AnalysisError);
    expect(() => analyzePatchSite(map, 'nope', 12)).toThrow(/no function symbol "nope"/);
  });
});
