// Look-ups the loader, the analysis and the CLI rely on, checked against readelf/nm facts
// of the corpus and system libraries, and the section-stripped path against the full one.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfFile, initDemangler, SymbolType, versionedName } from '../../src/elf/index.js';
import { buildExtraElfFiles, corpusElfFiles, readBytes, SYSTEM_LIBRARIES, withoutSectionHeaders } from './elf-files.js';

beforeAll(async () => {
  await initDemangler();
});

const goodFiles = [...corpusElfFiles(), ...SYSTEM_LIBRARIES].filter((p) => {
  try {
    ElfFile.parse(readBytes(p));
    return true;
  } catch {
    return false;
  }
});

describe('section-stripped files are read through the dynamic segment', () => {
  it.each(goodFiles)('%s: same .dynsym, versions and dynamic relocations', (path) => {
    const full = ElfFile.parse(readBytes(path));
    if (full.dynamicEntries.length === 0) return;
    const stripped = ElfFile.parse(withoutSectionHeaders(readBytes(path)));
    expect(stripped.sections).toEqual([]);
    expect(stripped.dynamicSymbols.map(versionedName)).toEqual(full.dynamicSymbols.map(versionedName));
    expect(stripped.dynamicSymbols.map((s) => [s.value, s.size, s.type, s.binding])).toEqual(full.dynamicSymbols.map((s) => [s.value, s.size, s.type, s.binding]));
    const key = (r: { offset: bigint; type: number; symbolIndex: number; addend: bigint }): string => `${r.offset}:${r.type}:${r.symbolIndex}:${r.addend}`;
    const dynamicRelocations = full.relocations.filter((r) => r.source === '.rela.dyn' || r.source === '.rela.plt');
    expect(stripped.relocations.map(key).sort()).toEqual(dynamicRelocations.map(key).sort());
    expect(stripped.buildId).toBe(full.buildId);
    expect(stripped.frameRanges()).toEqual(full.frameRanges());
  });
});

describe('hash-table look-ups find what a linear scan finds', () => {
  it.each(goodFiles)('%s', (path) => {
    const elf = ElfFile.parse(readBytes(path));
    const exported = elf.dynamicSymbols.filter((s) => s.sectionIndex !== 0 && s.binding !== 0);
    if (exported.length === 0) return;
    expect(elf.gnuHashTable ?? elf.sysvHashTable).toBeDefined();
    for (const symbol of exported) expect(elf.exportedSymbols(symbol.name)).toContain(symbol);
    expect(elf.exportedSymbols('no_such_symbol_anywhere_42')).toEqual([]);
  });
});

describe('libc and libstdc++', () => {
  const libc = SYSTEM_LIBRARIES.find((p) => p.includes('libc.so'));
  const libstdcxx = SYSTEM_LIBRARIES.find((p) => p.includes('libstdc++'));

  it.runIf(libc)('finds versioned printf and memcpy like readelf', () => {
    const elf = ElfFile.parse(readBytes(libc!));
    expect(elf.exportedSymbols('printf').map(versionedName)).toEqual(['printf@@GLIBC_2.2.5']);
    // memcpy has an old hidden version and a default one.
    expect(elf.exportedSymbols('memcpy').map(versionedName).sort()).toEqual(['memcpy@@GLIBC_2.14', 'memcpy@GLIBC_2.2.5']);
    expect(elf.symbolsNamed('memcpy@GLIBC_2.2.5')).toHaveLength(1);
    expect(elf.dynamic?.soname).toBe('libc.so.6');
    expect(elf.versionDefinitions[0]?.names[0]).toBe('libc.so.6');
  });

  it.runIf(libstdcxx)('finds a C++ function by its demangled name and by address', () => {
    const elf = ElfFile.parse(readBytes(libstdcxx!));
    const [symbol] = elf.findSymbols('std::__throw_bad_alloc()');
    expect(symbol?.name).toBe('_ZSt17__throw_bad_allocv');
    expect(elf.findSymbols('std::__throw_bad_alloc').map((s) => s.name)).toContain('_ZSt17__throw_bad_allocv');
    expect(elf.functionContaining(symbol!.value + 1n)?.value).toBe(symbol!.value);
    expect(elf.symbolsAt(symbol!.value).map((s) => s.name)).toContain('_ZSt17__throw_bad_allocv');
  });
});

describe('function bounds from .eh_frame', () => {
  it.each(goodFiles.filter((p) => p.includes('corpus')))('%s: every sized FUNC in .text starts an FDE range', (path) => {
    const elf = ElfFile.parse(readBytes(path));
    const ranges = elf.frameRanges();
    // Cross-check with readelf's own count of FDEs.
    const fdes = execFileSync('readelf', ['--debug-dump=frames', path], { encoding: 'utf8' }).split('\n').filter((l) => / FDE cie=/.test(l)).length;
    expect(ranges.length).toBe(fdes);
    const starts = new Set(ranges.map((r) => r.start));
    const text = elf.sectionNamed('.text');
    for (const f of elf.symbols) {
      if (f.type !== SymbolType.Func || f.size === 0n || !text || f.sectionIndex !== text.index) continue;
      expect(starts.has(f.value), `${f.name} at 0x${f.value.toString(16)}`).toBe(true);
    }
  });
});

describe('addresses and bytes', () => {
  it.each(goodFiles.filter((p) => p.includes('corpus')))('%s: offsetOf/addressOf round-trip and read() returns the bytes at the file offset', (path) => {
    const bytes = readBytes(path);
    const elf = ElfFile.parse(bytes);
    const text = elf.sectionNamed('.text');
    if (!text) return;
    expect(elf.offsetOf(text.address)).toBe(text.offset);
    expect(elf.addressOf(text.offset)).toBe(text.address);
    expect(elf.read(text.address, 16)).toEqual(bytes.subarray(text.offset, text.offset + 16));
    expect(elf.sectionAt(text.address + 1n)?.name).toBe('.text');
    expect(elf.segmentAt(text.address)?.executable).toBe(true);
    expect(() => elf.read(0xffff_ffff_0000n, 4)).toThrow(/not file-backed/);
  });
});

describe('a versioned C++ shared object built at test time', () => {
  const built = buildExtraElfFiles().find((p) => p.endsWith('versioned.so'));

  it.runIf(built)('resolves demangled names, default vs hidden versions, and what dlsym would see', () => {
    const elf = ElfFile.parse(readBytes(built!));
    const [bar] = elf.findSymbols('ns::Foo::bar(int)');
    expect(bar?.name).toBe('_ZN2ns3Foo3barEi');
    expect(elf.findSymbols('ns::Foo::bar').map((s) => s.name)).toContain('_ZN2ns3Foo3barEi');
    const exportedBar = elf.exportedSymbols('_ZN2ns3Foo3barEi');
    expect(exportedBar.map(versionedName)).toEqual(['_ZN2ns3Foo3barEi@@V1']);
    expect(exportedBar[0]!.version).toMatchObject({ name: 'V1', hidden: false, kind: 'definition' });
    const api = elf.exportedSymbols('api');
    expect(api.map(versionedName).sort()).toEqual(['api@@V2', 'api@V1']);
    expect(api.find((s) => s.version?.name === 'V1')!.version!.hidden).toBe(true);
    // .symtab spells it literally (from .symver), .dynsym through its version: one address.
    expect(new Set(elf.symbolsNamed('api@@V2').map((s) => s.value)).size).toBe(1);
    expect(elf.symbolsNamed('api@@V2').map((s) => s.table).sort()).toEqual(['dynsym', 'symtab']);
    const vtable = elf.symbols.find((s) => s.name === '_ZTVN2ns3FooE');
    expect(vtable && elf.demangledName(vtable)).toBe('vtable for ns::Foo');
    expect(elf.versionDefinitions.map((d) => d.names[0])).toEqual(['versioned.so', 'V1', 'V2']);
    const needed = elf.versionRequirements.flatMap((r) => r.versions.map((v) => `${r.file}:${v.name}`));
    expect(needed).toContain('libstdc++.so.6:CXXABI_1.3');
  });
});

describe('PLT stubs agree with objdump\'s name@plt labels', () => {
  it.each(goodFiles)('%s', (path) => {
    const elf = ElfFile.parse(readBytes(path));
    const dump = execFileSync('objdump', ['-d', '-w', '-j', '.plt', '-j', '.plt.sec', '-j', '.plt.got', path], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
    const expected = [...dump.matchAll(/^([0-9a-f]+) <([^>*]+)@plt>:$/gm)].map((m) => `${BigInt('0x' + m[1]).toString(16)} ${m[2]}`);
    const actual = elf.pltStubs().filter((s) => s.symbol).map((s) => `${s.address.toString(16)} ${s.symbol!.name}`);
    expect(actual).toEqual(expected);
  });
});
