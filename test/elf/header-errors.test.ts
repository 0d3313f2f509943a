// Every class of bad input gives an ElfError naming what is wrong and where. Hand-built
// headers for the ELF header checks; a real corpus binary with one field overwritten for
// the deeper structures.
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfError, ElfFile, type ElfProblem } from '../../src/elf/index.js';
import { corpusElfFiles, readBytes, SYSTEM_LIBRARIES } from './elf-files.js';

/** A minimal valid ELF64 x86-64 header: ET_DYN, no program or section headers. */
function elfHeader(edit: (view: DataView, bytes: Uint8Array) => void = () => {}): Uint8Array {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */], 0);
  view.setUint16(16, 3, true); // e_type = ET_DYN
  view.setUint16(18, 62, true); // e_machine = EM_X86_64
  view.setUint32(20, 1, true); // e_version
  view.setUint16(52, 64, true); // e_ehsize
  view.setUint16(54, 56, true); // e_phentsize
  view.setUint16(58, 64, true); // e_shentsize
  edit(view, bytes);
  return bytes;
}

function parseError(bytes: Uint8Array): ElfError {
  try {
    ElfFile.parse(bytes);
  } catch (error) {
    if (error instanceof ElfError) return error;
    throw new Error(`expected ElfError, got ${String(error)}`);
  }
  throw new Error('expected ElfError, parse succeeded');
}

function expectProblem(bytes: Uint8Array, problem: ElfProblem, message: RegExp): ElfError {
  const error = parseError(bytes);
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('ElfError');
  expect(error.problem).toBe(problem);
  expect(error.message).toMatch(message);
  return error;
}

describe('ELF header', () => {
  it('accepts the minimal header and yields an empty model', () => {
    const elf = ElfFile.parse(elfHeader());
    expect(elf.segments).toEqual([]);
    expect(elf.sections).toEqual([]);
    expect(elf.symbols).toEqual([]);
    expect(elf.dynamicSymbols).toEqual([]);
    expect(elf.findSymbols('main')).toEqual([]);
  });

  it('rejects an empty file', () => {
    expectProblem(new Uint8Array(0), 'not-elf', /file is empty/);
  });

  it('rejects non-ELF data', () => {
    expectProblem(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'not-elf', /not an ELF file/);
  });

  it('rejects a 32-bit ELF', () => {
    const error = expectProblem(elfHeader((_v, b) => (b[4] = 1)), 'unsupported', /32-bit ELF \(ELFCLASS32\)/);
    expect(error.offset).toBe(4);
  });

  it('rejects a big-endian ELF', () => {
    const error = expectProblem(elfHeader((_v, b) => (b[5] = 2)), 'unsupported', /big-endian/);
    expect(error.offset).toBe(5);
  });

  it('rejects an AArch64 ELF', () => {
    const error = expectProblem(elfHeader((v) => v.setUint16(18, 183, true)), 'unsupported', /AArch64; only x86-64/);
    expect(error.where).toBe('ELF header');
    expect(error.offset).toBe(18);
  });

  it('rejects a core dump', () => {
    expectProblem(elfHeader((v) => v.setUint16(16, 4, true)), 'unsupported', /core dump/);
  });

  it('rejects a header cut short', () => {
    expectProblem(elfHeader().subarray(0, 40), 'truncated', /shorter than the 64-byte ELF64 header/);
  });

  it('rejects a program header table past the end of the file', () => {
    expectProblem(
      elfHeader((v) => {
        v.setBigUint64(32, 0x40n, true); // e_phoff
        v.setUint16(56, 3, true); // e_phnum
      }),
      'truncated',
      /program header table \(3 entries at 0x40\): 0x40 \+ 0xa8 bytes extend past end of file \(0x40 bytes\)/,
    );
  });

  it('rejects an absurd section header offset', () => {
    expectProblem(
      elfHeader((v) => {
        v.setBigUint64(40, 1n << 60n, true); // e_shoff
        v.setUint16(60, 2, true); // e_shnum
      }),
      'truncated',
      /section header table .* extend past end of file/,
    );
  });

  it('rejects a wrong program header entry size', () => {
    expectProblem(
      elfHeader((v) => {
        v.setUint16(54, 32, true);
        v.setUint16(56, 1, true);
      }),
      'malformed',
      /program header entry size is 32, expected 56/,
    );
  });
});

describe('structures inside a real file', () => {
  const path = corpusElfFiles().find((p) => p.endsWith('seed-classic/main')) ?? SYSTEM_LIBRARIES[0]!;
  let original: Uint8Array;
  let elf: ElfFile;
  beforeAll(() => {
    original = readBytes(path);
    elf = ElfFile.parse(original);
  });

  const withEdit = (edit: (view: DataView) => void): Uint8Array => {
    const copy = original.slice();
    edit(new DataView(copy.buffer));
    return copy;
  };
  const sectionHeaderAt = (name: string): { index: number; at: number } => {
    const section = elf.sectionNamed(name)!;
    return { index: section.index, at: elf.header.sectionHeaderOffset + section.index * 64 };
  };

  it('reports a symbol table whose size claims 2^60 bytes, naming the section', () => {
    const { index, at } = sectionHeaderAt('.dynsym');
    const error = expectProblem(
      withEdit((v) => v.setBigUint64(at + 32, 24n << 56n, true)),
      'truncated',
      new RegExp(`section header ${index} \\(\\.dynsym\\): contents: 0x[0-9a-f]+ \\+ 0x18000000000000000? bytes extend past end of file \\(0x[0-9a-f]+ bytes\\)`),
    );
    expect(error.where).toBe(`section header ${index} (.dynsym): contents`);
    expect(error.offset).toBe(elf.sectionNamed('.dynsym')!.offset);
  });

  it('reports a section whose size is not a whole number of entries', () => {
    const { index, at } = sectionHeaderAt('.dynsym');
    expectProblem(withEdit((v) => v.setBigUint64(at + 32, 25n, true)), 'malformed', new RegExp(`section header ${index} \\(\\.dynsym\\): size 0x19 is not a multiple of the entry size 24`));
  });

  it('reports a symbol name offset outside the string table', () => {
    const dynsym = elf.sectionNamed('.dynsym')!;
    const symbolOne = dynsym.offset + 24;
    expectProblem(withEdit((v) => v.setUint32(symbolOne, 0x7fff_ffff, true)), 'malformed', /symbol 1: name offset 0x7fffffff is outside .*\.dynstr/);
  });

  it('reports a relocation naming a symbol past its table', () => {
    const rela = elf.sectionNamed('.rela.plt') ?? elf.sectionNamed('.rela.dyn')!;
    expectProblem(withEdit((v) => v.setUint32(rela.offset + 12, 0x00ff_ffff, true)), 'malformed', /relocation 0: symbol index 16777215 is outside its symbol table/);
  });

  it('reports a section name offset outside .shstrtab', () => {
    const { at } = sectionHeaderAt('.text');
    expectProblem(withEdit((v) => v.setUint32(at, 0xffff_fff0, true)), 'malformed', /section header \d+: name offset 0xfffffff0 is outside the section name table/);
  });

  it('reports a dynamic section without its DT_NULL terminator', () => {
    const dynamic = elf.segments.find((s) => s.typeName === 'DYNAMIC')!;
    expectProblem(
      withEdit((v) => {
        for (let i = 0; i < Number(dynamic.fileSize) / 16; i++) {
          if (v.getBigUint64(dynamic.offset + i * 16, true) === 0n) v.setBigUint64(dynamic.offset + i * 16, 0x15n, true); // DT_NULL -> DT_DEBUG
        }
      }),
      'malformed',
      /no DT_NULL terminator/,
    );
  });

  it('reports a truncated file by the first structure that no longer fits', () => {
    const error = expectProblem(original.subarray(0, 0x1000), 'truncated', /extend past end of file \(0x1000 bytes\)/);
    expect(error.where).toMatch(/section header table|program header/);
  });

  it('reports a version index that no definition declares', () => {
    const versym = elf.sectionNamed('.gnu.version')!;
    const undefinedSymbol = elf.dynamicSymbols.find((s) => s.version)!;
    expectProblem(withEdit((v) => v.setUint16(versym.offset + undefinedSymbol.index * 2, 0x7777, true)), 'malformed', /version index 30583, which no version definition or requirement declares/);
  });
});
