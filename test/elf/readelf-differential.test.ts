// Differential test against GNU readelf: for every ELF under corpus/ plus libc and
// libstdc++, symbols, relocations, program headers, dynamic entries and the build-id must
// equal what `readelf -W` prints.
import { describe, expect, it } from 'vitest';
import { relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  DYNAMIC_TAG_NAMES,
  ElfError,
  ElfFile,
  SYMBOL_BINDING_NAMES,
  SYMBOL_TYPE_NAMES,
  SYMBOL_VISIBILITY_NAMES,
  sectionIndexName,
  versionedName,
  type DynamicEntry,
  type ElfSymbol,
  type Relocation,
} from '../../src/elf/index.js';
import { buildExtraElfFiles, corpusElfFiles, readBytes, REPO_ROOT, SYSTEM_LIBRARIES } from './elf-files.js';
import { readelfBuildId, readelfDynamic, readelfRelocations, readelfRelrAddresses, readelfSegments, readelfSymbols } from './readelf-oracle.js';

const all = [...corpusElfFiles(), ...SYSTEM_LIBRARIES, ...buildExtraElfFiles()];
/** readelf's complaints about a file; corpus/bad-input holds deliberately broken ones. */
function readelfComplaints(path: string): string {
  const run = spawnSync('readelf', ['-a', '-W', path], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: 'C' } });
  return run.stderr.trim();
}
const verdicts = all.map((path) => ({ path, complaints: readelfComplaints(path) }));
const files = verdicts.filter((v) => v.complaints === '').map((v) => v.path);
const broken = verdicts.filter((v) => v.complaints !== '');

it('covers the corpus and the system libraries', () => {
  expect(files.length).toBeGreaterThanOrEqual(SYSTEM_LIBRARIES.length + 2);
});

describe.each(broken.map((v) => [relative(REPO_ROOT, v.path), v.path, v.complaints]))('readelf rejects %s, so must we', (_name, path, complaints) => {
  it(`throws ElfError (readelf: ${complaints.split('\n')[0]})`, () => {
    expect(() => ElfFile.parse(readBytes(path))).toThrow(ElfError);
  });
});

/** The Name column as readelf prints it: `@@` default definition, `@` hidden or reference, " (n)" for references. */
function readelfName(symbol: ElfSymbol): string {
  const v = symbol.version;
  if (!v) return symbol.name;
  // readelf leaves out the version of the symbol that names a version definition itself
  // (libc's `GLIBC_2.10` ABS symbol); the model keeps it.
  if (v.kind === 'definition' && v.name === symbol.name) return symbol.name;
  return v.kind === 'requirement' ? `${versionedName(symbol)} (${v.index})` : versionedName(symbol);
}

function symbolRow(s: ElfSymbol): string {
  const type = SYMBOL_TYPE_NAMES[s.type] ?? `<unknown>: ${s.type}`;
  const bind = SYMBOL_BINDING_NAMES[s.binding] ?? `<unknown>: ${s.binding}`;
  const vis = SYMBOL_VISIBILITY_NAMES[s.visibility]!;
  return `${s.index}: ${s.value.toString(16)} ${s.size} ${type} ${bind} ${vis} ${sectionIndexName(s.sectionIndex)} ${readelfName(s)}`;
}

const FLAG_NAMES: [number, string][] = [[0x1, 'ORIGIN'], [0x2, 'SYMBOLIC'], [0x4, 'TEXTREL'], [0x8, 'BIND_NOW'], [0x10, 'STATIC_TLS']];
const FLAG1_NAMES: [number, string][] = [
  [0x1, 'NOW'], [0x2, 'GLOBAL'], [0x4, 'GROUP'], [0x8, 'NODELETE'], [0x10, 'LOADFLTR'], [0x20, 'INITFIRST'],
  [0x40, 'NOOPEN'], [0x80, 'ORIGIN'], [0x100, 'DIRECT'], [0x200, 'TRANS'], [0x400, 'INTERPOSE'], [0x800, 'NODEFLIB'],
  [0x1000, 'NODUMP'], [0x2000, 'CONFALT'], [0x4000, 'ENDFILTEE'], [0x8000, 'DISPRELDNE'], [0x10000, 'DISPRELPND'],
  [0x20000, 'NODIRECT'], [0x40000, 'IGNMULDEF'], [0x80000, 'NOKSYMS'], [0x100000, 'NOHDR'], [0x200000, 'EDITED'],
  [0x400000, 'NORELOC'], [0x800000, 'SYMINTPOSE'], [0x1000000, 'GLOBAUDIT'], [0x2000000, 'SINGLETON'], [0x4000000, 'STUB'],
  [0x8000000, 'PIE'],
];
const SIZE_TAGS = new Set(['PLTRELSZ', 'RELASZ', 'RELAENT', 'STRSZ', 'SYMENT', 'INIT_ARRAYSZ', 'FINI_ARRAYSZ', 'PREINIT_ARRAYSZ', 'RELSZ', 'RELENT', 'RELRSZ', 'RELRENT', 'SYMINSZ', 'SYMINENT', 'MOVEENT', 'MOVESZ', 'PLTPADSZ', 'GNU_CONFLICTSZ', 'GNU_LIBLISTSZ']);
const COUNT_TAGS = new Set(['VERDEFNUM', 'VERNEEDNUM', 'RELACOUNT', 'RELCOUNT']);

function flagWords(value: bigint, table: [number, string][]): string {
  return table.filter(([bit]) => (BigInt(bit) & value) !== 0n).map(([, name]) => name).join(' ');
}

/** What readelf prints for a dynamic entry, derived from our parsed value and strings. */
function dynamicText(elf: ElfFile, e: DynamicEntry): string {
  const strings: Record<string, [string, () => string | undefined]> = {
    NEEDED: ['Shared library', () => elf.dynamic!.needed[elf.dynamicEntries.filter((x) => x.tag === 1).indexOf(e)]],
    SONAME: ['Library soname', () => elf.dynamic!.soname],
    RPATH: ['Library rpath', () => elf.dynamic!.rpath],
    RUNPATH: ['Library runpath', () => elf.dynamic!.runpath],
  };
  const str = strings[e.tagName];
  if (str) return `${str[0]}: [${str[1]()}]`;
  if (e.tagName === 'FLAGS') return flagWords(e.value, FLAG_NAMES);
  if (e.tagName === 'FLAGS_1') return `Flags: ${flagWords(e.value, FLAG1_NAMES)}`;
  if (e.tagName === 'PLTREL') return e.value === 7n ? 'RELA' : e.value === 17n ? 'REL' : e.value.toString(16);
  if (SIZE_TAGS.has(e.tagName)) return `${e.value} (bytes)`;
  if (COUNT_TAGS.has(e.tagName)) return `${e.value}`;
  return `0x${e.value.toString(16)}`;
}

function relocationSymbolName(elf: ElfFile, r: Relocation): string | undefined {
  if (!r.symbol) return undefined;
  if (r.symbol.name === '' && r.symbol.type === 3) return elf.sections[r.symbol.sectionIndex]?.name;
  return versionedName(r.symbol);
}

describe.each(files.map((p) => [relative(REPO_ROOT, p), p]))('readelf agrees on %s', (_name, path) => {
  let parsed: ElfFile | undefined;
  const load = (): ElfFile => (parsed ??= ElfFile.parse(readBytes(path)));

  it('symbol tables (.symtab and .dynsym)', () => {
    const elf = load();
    const oracle = readelfSymbols(path);
    const expectedDyn = (oracle.get('.dynsym') ?? []).map((s) => `${s.index}: ${s.value.toString(16)} ${s.size} ${s.type} ${s.bind} ${s.vis} ${s.ndx} ${s.name}`);
    const expectedSym = (oracle.get('.symtab') ?? []).map((s) => `${s.index}: ${s.value.toString(16)} ${s.size} ${s.type} ${s.bind} ${s.vis} ${s.ndx} ${s.name}`);
    expect(elf.dynamicSymbols.map(symbolRow)).toEqual(expectedDyn);
    expect(elf.symbols.map(symbolRow)).toEqual(expectedSym);
    expect(elf.symbols.length + elf.dynamicSymbols.length).toBeGreaterThan(0);
  });

  it('relocations', () => {
    const elf = load();
    const expected = readelfRelocations(path).map((r) => ({
      section: r.section,
      offset: r.offset,
      info: r.info,
      type: r.type,
      symbolName: r.symbolName,
      addend: r.addend,
    }));
    const actual = elf.relocations.map((r) => ({
      section: r.source,
      offset: r.offset,
      info: (BigInt(r.symbolIndex) << 32n) | BigInt(r.type),
      type: r.typeName,
      symbolName: relocationSymbolName(elf, r),
      addend: r.addend,
    }));
    expect(actual).toEqual(expected);
    expect(elf.relativeRelocationAddresses).toEqual(readelfRelrAddresses(path));
  });

  it('program headers and interpreter', () => {
    const elf = load();
    const oracle = readelfSegments(path);
    const flags = (f: number): string => `${f & 4 ? 'R' : ' '}${f & 2 ? 'W' : ' '}${f & 1 ? 'E' : ' '}`;
    expect(
      elf.segments.map((s) => ({
        type: s.typeName,
        offset: BigInt(s.offset),
        vaddr: s.virtualAddress,
        paddr: s.physicalAddress,
        filesz: s.fileSize,
        memsz: s.memorySize,
        flags: flags(s.flags),
        align: s.alignment,
      })),
    ).toEqual(oracle.segments);
    expect(elf.interpreter).toBe(oracle.interpreter);
  });

  it('dynamic section and build-id', () => {
    const elf = load();
    const expected = readelfDynamic(path).filter((e) => e.tagName !== 'NULL');
    const actual = elf.dynamicEntries.map((e) => ({
      tag: BigInt(e.tag),
      tagName: DYNAMIC_TAG_NAMES[e.tag] ?? e.tagName,
      text: dynamicText(elf, e),
    }));
    expect(actual).toEqual(expected);
    expect(elf.buildId).toBe(readelfBuildId(path));
  });
});
