// Jump-table recovery: hand-made tables for the exact patterns, then gcc -O2 switches.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CodeMap } from '../../src/analysis/code-map.js';
import { compileC, elfImage, imageOf, le32, le64, objdumpSection, TEXT } from './helpers.js';

const at = (offset: number): bigint => TEXT + BigInt(offset);
const T = 0x402000;

describe('hand-made tables', () => {
  // 00 cmp edi, 2; 03 ja 0x40101e; 05 jmp qword ptr [rdi*8+0x402000];
  // 0c/12/18 mov eax, n; ret (cases 0..2); 1e xor eax, eax; ret (default)
  const nonPie = [
    0x83, 0xff, 0x02, //                          00 cmp edi, 2
    0x77, 0x19, //                                03 ja 0x40101e
    0xff, 0x24, 0xfd, ...le32(T), //              05 jmp qword ptr [rdi*8+0x402000]
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, //        0c mov eax, 1; ret
    0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3, //        12 mov eax, 2; ret
    0xb8, 0x03, 0x00, 0x00, 0x00, 0xc3, //        18 mov eax, 3; ret
    0x31, 0xc0, 0xc3, //                          1e xor eax, eax; ret
  ];

  it('absolute_table_bounded_by_cmp_ja_stops_at_the_bound', () => {
    // a 4th qword that also looks like a target must not be read: cmp edi, 2 means 3 entries
    const rodata = { address: BigInt(T), bytes: [at(0x0c), at(0x12), at(0x18), at(0x1e)].flatMap(le64) };
    const map = CodeMap.build(imageOf(nonPie, [{ name: 'f', at: 0, size: 0x21 }], { rodata }));
    expect(map.jumpTables).toEqual([{
      dispatch: at(5), table: BigInt(T), form: 'absolute', entrySize: 8,
      targets: [at(0x0c), at(0x12), at(0x18)], boundFrom: 'cmp', boundAt: at(0),
    }]);
  });

  it('bound_follows_a_register_copy_of_the_index', () => {
    const bytes = [
      0x83, 0xfe, 0x02, //                        00 cmp esi, 2
      0x77, 0x1b, //                              03 ja 0x401020
      0x89, 0xf7, //                              05 mov edi, esi
      0xff, 0x24, 0xfd, ...le32(T), //            07 jmp qword ptr [rdi*8+0x402000]
      0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, //      0e mov eax, 1; ret
      0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3, //      14 mov eax, 2; ret
      0xb8, 0x03, 0x00, 0x00, 0x00, 0xc3, //      1a mov eax, 3; ret
      0x31, 0xc0, 0xc3, //                        20 xor eax, eax; ret
    ];
    const rodata = { address: BigInt(T), bytes: [at(0x0e), at(0x14), at(0x1a), at(0x20)].flatMap(le64) };
    const map = CodeMap.build(imageOf(bytes, [{ name: 'f', at: 0, size: 0x23 }], { rodata }));
    expect(map.jumpTables[0]).toMatchObject({ boundFrom: 'cmp', boundAt: at(0), targets: [at(0x0e), at(0x14), at(0x1a)] });
  });

  it('without_a_cmp_entries_are_read_while_they_stay_in_the_function', () => {
    const bytes = [0x90, 0x90, 0x90, 0x90, 0x90, ...nonPie.slice(5)]; // the cmp/ja replaced by nops
    const rodata = { address: BigInt(T), bytes: [at(0x0c), at(0x12), at(0x18), at(0x1e), at(0x40)].flatMap(le64) };
    const map = CodeMap.build(imageOf(bytes, [{ name: 'f', at: 0, size: 0x21 }], { rodata }));
    expect(map.jumpTables[0]).toMatchObject({ boundFrom: 'function-extent', boundAt: null, targets: [at(0x0c), at(0x12), at(0x18), at(0x1e)] });
  });

  it('an_indirect_jmp_through_a_register_loaded_from_memory_is_not_a_table', () => {
    const map = CodeMap.build(imageOf([
      0x48, 0x8b, 0x07, //                        00 mov rax, qword ptr [rdi]
      0xff, 0xe0, //                              03 jmp rax
    ], [{ name: 'f', at: 0, size: 5 }]));
    expect(map.jumpTables).toEqual([]);
    expect(map.indirectBranches().map((s) => s.kind)).toEqual(['indirect-jmp']);
  });
});

const SWITCH = `
#include <stdio.h>
__attribute__((noinline)) int pick(int x) {
  switch (x) {
    case 10: return puts("ten");
    case 11: return puts("eleven") + 7;
    case 12: return puts("twelve") * 3;
    case 13: return puts("thirteen") - 11;
    /* 14 is a hole: its entry is the default */
    case 15: return puts("fifteen") ^ 5;
    case 16: return puts("sixteen") | 64;
    case 17: return puts("seventeen") + 99;
    default: return -1;
  }
}
int main(int argc, char **argv) { (void)argv; return pick(argc); }
`;

describe('gcc -O2 switch tables', () => {
  for (const [name, flags, form] of [
    ['pie', ['-O2', '-fPIE', '-pie'], 'pie-relative'],
    ['nopie', ['-O2', '-fno-pie', '-no-pie'], 'absolute'],
    ['pie-cet', ['-O2', '-fPIE', '-pie', '-fcf-protection=full'], 'pie-relative'],
  ] as const) {
    it(`recovers_the_8_entry_table_${name}`, () => {
      const path = compileC(`switch-${name}`, SWITCH, [...flags]);
      const map = CodeMap.build(elfImage(path));
      const pick = map.functionNamed('pick')!;
      const tables = map.jumpTables.filter((t) => t.dispatch >= pick.address && t.dispatch < pick.end);
      expect(tables).toHaveLength(1);
      const table = tables[0]!;
      expect(table.form).toBe(form);
      expect(table.boundFrom).toBe('cmp');
      // cases 10..17 after gcc subtracts 10: 8 entries
      expect(table.targets).toHaveLength(8);

      // Every target is an instruction boundary objdump agrees on, inside pick (or its .cold part).
      const boundaries = new Set(objdumpSection(path, '.text').map((i) => i.address));
      for (const target of table.targets) expect(boundaries.has(target)).toBe(true);
      // Semantic check: each real case starts by loading its string for puts; the hole (14)
      // lands on the `mov eax, -1` of the default path.
      table.targets.forEach((target, i) => {
        const text = map.describe(target).text;
        if (i === 4) expect(text).toBe('mov eax, 0xffffffff');
        else expect(text).toMatch(/^(lea rdi, \[rip[+-]0x[0-9a-f]+\]|mov edi, 0x[0-9a-f]+)$/);
      });
      expect(new Set(table.targets.filter((_, i) => i !== 4)).size).toBe(7);

      // The table is where objdump's lea comment / jmp displacement says.
      const disasm = execFileSync('objdump', ['-d', '-M', 'intel', '--no-show-raw-insn', path], { encoding: 'utf8' });
      const dispatchLine = form === 'absolute'
        ? `jmp    QWORD PTR [rdi*8+0x${table.table.toString(16)}]`
        : `# ${table.table.toString(16)} <`;
      expect(disasm).toContain(dispatchLine);
    });
  }
});
