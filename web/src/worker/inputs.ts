// Reading the user's files the way the CLI does, with the CLI's wording for bad input, so
// a truncated or foreign file reads the same on the page as in a terminal.

import { ElfError, ElfFile, SymbolType } from '../../../src/elf/index.js';
import type { FunctionEntry } from '../protocol.js';

export class InputError extends Error {}

/** The CLI's message: "main 'x' is truncated: <reason>". */
export function parseElf(bytes: Uint8Array, name: string, role: 'main' | 'patch.so'): ElfFile {
  try {
    return ElfFile.parse(bytes);
  } catch (error) {
    if (error instanceof ElfError) {
      const state = error.problem === 'truncated' ? ' is truncated' : error.problem === 'malformed' ? ' is malformed' : '';
      throw new InputError(`${role} '${name}'${state}: ${error.message}`);
    }
    throw error;
  }
}

/** Defined functions of `elf`, demangled, by address: the page's searchable symbol list. */
export function listFunctions(elf: ElfFile): FunctionEntry[] {
  const seen = new Set<string>();
  const out: FunctionEntry[] = [];
  for (const s of [...elf.symbols, ...elf.dynamicSymbols]) {
    if ((s.type !== SymbolType.Func && s.type !== SymbolType.GnuIfunc) || s.sectionIndex === 0 || s.value === 0n || seen.has(s.name)) continue;
    seen.add(s.name);
    out.push({ name: s.name, demangled: elf.demangledName(s), address: s.value, size: Number(s.size) });
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
