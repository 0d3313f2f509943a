// Data that points into the overwritten bytes, each kind found where gcc puts it: a relocated
// pointer in a PIE (R_X86_64_RELATIVE), an absolute word in a non-PIE's .data (no relocation
// at all), an address taken with a rip-relative lea; none for a pointer at the entry itself.
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePatchSite, CodeMap } from '../../src/analysis/index.js';
import { codeImageFromElf } from '../../src/analysis/from-elf.js';
import { ElfFile, initDemangler } from '../../src/elf/index.js';
import { checkDataReferences, dataReferencesInto } from '../../src/verify/checks/data-refs.js';
import type { StaticContext } from '../../src/verify/context.js';
import { requireFunction } from '../../src/verify/symbols.js';
import { compileC, hasGcc, readBytes, tempDir } from '../loader/native.js';

const SOURCE = `
__attribute__((noinline)) int target(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * x; return s; }
void *table[] = { (char *)target + 6, (void *)target };
__attribute__((noinline)) void *inner(void) { return (char *)target + 6; }
int main(int argc, char **argv) { (void)argv; return target(argc) + (inner() != 0) + (table[0] != 0); }
`;

function context(path: string): { elf: ElfFile; ctx: StaticContext } {
  const elf = ElfFile.parse(readBytes(path));
  const codeMap = CodeMap.build(codeImageFromElf(elf));
  const target = requireFunction(elf, 'target', 'main');
  return { elf, ctx: { codeMap, target, mainName: 'main', loadBias: 0n, site: analyzePatchSite(codeMap, 'target', 12), main: elf } };
}

describe.skipIf(!hasGcc)('data references into the overwritten bytes', () => {
  const dir = hasGcc ? tempDir('data-refs') : '';
  beforeAll(() => initDemangler());

  it('PIE: the table entry is an R_X86_64_RELATIVE relocation, the address-taking is a rip-relative lea', () => {
    const { elf, ctx } = context(compileC(dir, 'pie', SOURCE, ['-O2', '-fPIE', '-pie']));
    const refs = dataReferencesInto(elf, ctx);
    const start = ctx.site.range.start;
    expect(refs.map((r) => ({ kind: r.kind, offset: Number(r.target - start) })).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'relocation', offset: 6 },
      { kind: 'rip-relative lea', offset: 6 },
    ]);
    expect(refs.find((r) => r.kind === 'relocation')).toMatchObject({ detail: 'R_X86_64_RELATIVE', section: '.data' });
    const [finding] = checkDataReferences(elf, ctx);
    expect(finding).toMatchObject({ code: 'BRANCH_INTO_PATCHED_BYTES', severity: 'error' });
    expect(finding!.evidence.map((e) => e.label)).toEqual(['landing point', 'R_X86_64_RELATIVE relocation in .data', 'address taken by']);
  });

  it('non-PIE: the table entry is a plain word in .data, found without any relocation', () => {
    const { elf, ctx } = context(compileC(dir, 'nopie', SOURCE, ['-O2', '-fno-pie', '-no-pie']));
    const refs = dataReferencesInto(elf, ctx).filter((r) => r.kind === 'data word');
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatchObject({ section: '.data', target: ctx.site.range.start + 6n });
  });

  it('a pointer to the entry itself (the other table entry) is not a reference into the bytes', () => {
    const { elf, ctx } = context(compileC(dir, 'pie2', SOURCE, ['-O2', '-fPIE', '-pie']));
    expect(dataReferencesInto(elf, ctx).every((r) => r.target !== ctx.site.range.start)).toBe(true);
  });
});
