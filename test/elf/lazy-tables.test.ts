// ElfFile.parse with lazyTables (the sysroot's libraries) and reuse (one parse per file): the
// same model as the eager parse, a malformed table still an ElfError (at first use), and a
// symbol handed out by exportedSymbols before the whole table is the table's own entry.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfError, ElfFile } from '../../src/elf/index.js';
import { corpusElfFiles, SYSTEM_LIBRARIES } from './elf-files.js';

function eager(bytes: Uint8Array): ElfFile | undefined {
  try {
    return ElfFile.parse(bytes);
  } catch {
    return undefined;
  }
}

const files = [...corpusElfFiles(), ...SYSTEM_LIBRARIES];

describe('lazily parsed tables', () => {
  it.each(files)('%s: the same symbols, versions, relocations and notes', (path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const full = eager(bytes);
    if (!full) return; // a deliberately broken file: the next test covers errors
    const lazy = ElfFile.parse(bytes, { lazyTables: true });
    // A few look-ups through the hash table first, as the system model does for libc.so.6.
    const names = full.dynamicSymbols.filter((s) => s.sectionIndex !== 0 && s.name !== '').slice(0, 5).map((s) => s.name);
    const early = names.map((n) => lazy.exportedSymbols(n));
    expect(early).toEqual(names.map((n) => full.exportedSymbols(n)));
    expect(lazy.dynamicSymbols).toEqual(full.dynamicSymbols);
    for (const found of early) for (const s of found) expect(lazy.dynamicSymbols[s.index]).toBe(s);
    expect(lazy.symbols).toEqual(full.symbols);
    expect(lazy.versionDefinitions).toEqual(full.versionDefinitions);
    expect(lazy.versionRequirements).toEqual(full.versionRequirements);
    expect(lazy.relocations).toEqual(full.relocations);
    expect(lazy.relativeRelocationAddresses).toEqual(full.relativeRelocationAddresses);
    expect(lazy.notes).toEqual(full.notes);
    expect(lazy.buildId).toEqual(full.buildId);
  });

  it.each(files)('%s: functionContaining from the raw tables picks what the parsed tables pick', (path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const full = eager(bytes);
    if (!full) return;
    const functions = [...full.symbols, ...full.dynamicSymbols].filter((s) => (s.type === 2 || s.type === 10) && s.sectionIndex !== 0);
    const step = Math.max(1, Math.floor(functions.length / 10));
    const addresses = functions.filter((_, i) => i % step === 0).flatMap((f) => [f.value, f.value + f.size - 1n, f.value + f.size]);
    for (const address of [0n, ...addresses]) {
      // A fresh lazy parse per address: its first look-ups take the raw path.
      const lazy = ElfFile.parse(bytes, { lazyTables: true });
      expect(lazy.functionContaining(address), `at 0x${address.toString(16)}`).toEqual(full.functionContaining(address));
    }
  });

  it('a malformed symbol table is the eager parse error, thrown when the table is first used', () => {
    const libc = files.find((f) => /libc\.so\.6$/.test(f)) ?? files.find((f) => eager(new Uint8Array(readFileSync(f)))?.dynamicSymbols.length)!;
    const bytes = new Uint8Array(readFileSync(libc));
    const elf = ElfFile.parse(bytes);
    const dynsym = elf.sections.find((s) => s.name === '.dynsym')!;
    const broken = bytes.slice();
    // The name offset of symbol 1 far past .dynstr.
    new DataView(broken.buffer).setUint32(dynsym.offset + 24, 0x7fff_fff0, true);
    let eagerError: unknown;
    try {
      ElfFile.parse(broken);
    } catch (e) {
      eagerError = e;
    }
    expect(eagerError).toBeInstanceOf(ElfError);
    const lazy = ElfFile.parse(broken, { lazyTables: true });
    expect(lazy.segments.length).toBeGreaterThan(0);
    expect(() => lazy.dynamicSymbols).toThrow((eagerError as ElfError).message);
  });
});

describe('reused parses', () => {
  it('the same bytes give the same ElfFile; other bytes, or no reuse, a new one', () => {
    const bytes = new Uint8Array(readFileSync(files[0]!));
    const first = ElfFile.parse(bytes, { reuse: true });
    expect(ElfFile.parse(bytes, { reuse: true })).toBe(first);
    expect(ElfFile.parse(bytes.slice(), { reuse: true })).not.toBe(first);
    expect(ElfFile.parse(bytes)).not.toBe(first);
  });

  it('an eager parse of bytes first parsed lazily still checks every table', () => {
    const libc = SYSTEM_LIBRARIES[0] ?? files[0]!;
    const bytes = new Uint8Array(readFileSync(libc));
    const elf = ElfFile.parse(bytes, { lazyTables: true, reuse: true });
    const dynsym = elf.sections.find((s) => s.name === '.dynsym')!;
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(dynsym.offset + 24, 0x7fff_fff0, true);
    expect(() => ElfFile.parse(bytes, { reuse: true })).toThrow(ElfError);
  });
});
