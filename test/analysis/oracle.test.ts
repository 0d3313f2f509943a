// Whole-.text cross-checks against objdump: instruction boundaries and direct branch targets.
import { describe, expect, it } from 'vitest';
import { CodeMap } from '../../src/analysis/code-map.js';
import { compileC, elfImage, objdumpSection } from './helpers.js';

const PROGRAM = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int table[64];
__attribute__((noinline)) int classify(int x) {
  switch (x) {
    case 0: return puts("zero");
    case 1: return puts("one") + 7;
    case 2: return puts("two") * 3;
    case 3: return puts("three") - 11;
    case 4: return puts("four") ^ 5;
    case 5: return puts("five") | 64;
    case 6: return puts("six") + 99;
    default: return -1;
  }
}
__attribute__((noinline)) long sum(const int *v, int n) { long s = 0; for (int i = 0; i < n; i++) s += v[i] * (i & 3); return s; }
__attribute__((noinline)) int search(const char *s, char c) { int n = 0; while (*s) { if (*s == c) n++; s++; } return n; }
int main(int argc, char **argv) {
  for (int i = 0; i < 64; i++) table[i] = rand() % 17;
  printf("%ld %d %d\\n", sum(table, 64), search(argv[0], '/'), classify(argc));
  return (int)strlen(argv[0]) & 1;
}
`;

function compareWithObjdump(path: string, section: string): { checked: number; branches: number } {
  const map = CodeMap.build(elfImage(path));
  const oracle = objdumpSection(path, section);
  expect(oracle.length).toBeGreaterThan(10);
  const first = oracle[0]!.address;
  const last = oracle[oracle.length - 1]!.address;
  const ours = [...map.instructionAddresses()].filter((a) => a >= first && a <= last);
  expect(ours).toEqual(oracle.map((i) => i.address));

  const ourTargets = new Map(map.directBranches().map((b) => [b.source, b.target]));
  let branches = 0;
  for (const insn of oracle) {
    if (insn.target === null) continue;
    branches++;
    expect({ at: insn.address, text: insn.text, target: ourTargets.get(insn.address) }).toEqual({ at: insn.address, text: insn.text, target: insn.target });
  }
  return { checked: oracle.length, branches };
}

describe('oracle: objdump -d over a whole section', () => {
  for (const [name, flags] of [
    ['O2-pie', ['-O2', '-fPIE', '-pie']],
    ['O0-nopie', ['-O0', '-fno-pie', '-no-pie']],
    ['O2-cet', ['-O2', '-fcf-protection=full']],
  ] as const) {
    it(`instruction_boundaries_and_branch_targets_match_${name}`, () => {
      const path = compileC(`oracle-${name}`, PROGRAM, [...flags]);
      const { branches } = compareWithObjdump(path, '.text');
      expect(branches).toBeGreaterThan(5);
    });
  }

  it('matches_on_a_static_glibc_text', () => {
    const path = compileC('oracle-static', PROGRAM, ['-O2', '-static']);
    const image = elfImage(path);
    const text = image.sections.find((s) => s.name === '.text')!;
    expect(text.bytes.length).toBeGreaterThan(300_000);
    const map = CodeMap.build(image);
    expect(map.instructionCount).toBeGreaterThan(50_000);
    const { checked } = compareWithObjdump(path, '.text');
    expect(checked).toBeGreaterThan(50_000);
  });
});
