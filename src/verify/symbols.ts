// Finding the function to patch in main and its replacement in patch.so: mangled or
// demangled names, .symtab before .dynsym, bounds from the symbol size or, for a symbol
// without size (stripped or hand-written code), from the .eh_frame FDE that covers it.

import { SymbolType, type ElfFile, type ElfSymbol } from '../elf/index.js';
import { VerifyError } from './error.js';
import { closeMatches, type Candidate } from './suggest.js';

export interface ResolvedFunction {
  /** As in the symbol table (mangled for C++). */
  name: string;
  demangled: string;
  /** Link-time address (for a PIE: relative to its load base). */
  address: bigint;
  size: number;
  sizeFrom: 'symbol' | 'eh_frame';
  table: 'symtab' | 'dynsym';
  /** dlsym(RTLD_DEFAULT / handle, name) finds it: defined, global, in .dynsym's hash table. */
  exported: boolean;
  symbol: ElfSymbol;
}

const isFunction = (s: ElfSymbol): boolean => s.type === SymbolType.Func || s.type === SymbolType.GnuIfunc;

/** The defined function `query` names in `elf`, or undefined. Throws when ambiguous or not a function. */
export function findFunction(elf: ElfFile, query: string, fileLabel: string): ResolvedFunction | undefined {
  const defined = elf.findSymbols(query).filter((s) => s.sectionIndex !== 0);
  if (defined.length === 0) return undefined;
  const addresses = [...new Set(defined.map((s) => s.value))];
  if (addresses.length > 1) {
    const listed = addresses.map((a) => {
      const s = defined.find((d) => d.value === a)!;
      return `${s.name} at 0x${a.toString(16)} (${elf.demangledName(s)})`;
    });
    throw new VerifyError('symbol-not-found', `symbol '${query}' is ambiguous in ${fileLabel}: ${listed.join('; ')}; give the mangled name`);
  }
  const symbol = defined.find(isFunction) ?? defined[0]!;
  if (!isFunction(symbol)) {
    throw new VerifyError('symbol-not-found', `symbol '${query}' in ${fileLabel} is not a function (it is a ${SymbolType[symbol.type] ?? symbol.type} symbol)`);
  }
  let size = Number(symbol.size);
  let sizeFrom: ResolvedFunction['sizeFrom'] = 'symbol';
  if (size === 0) {
    const frame = elf.frameRanges().find((r) => r.start <= symbol.value && symbol.value < r.end);
    if (frame) {
      size = Number(frame.end - symbol.value);
      sizeFrom = 'eh_frame';
    }
  }
  return {
    name: symbol.name,
    demangled: elf.demangledName(symbol),
    address: symbol.value,
    size,
    sizeFrom,
    table: symbol.table,
    exported: elf.exportedSymbols(symbol.name).some((s) => s.value === symbol.value),
    symbol,
  };
}

/** Like findFunction, but a missing symbol is an error naming the closest spellings. */
export function requireFunction(elf: ElfFile, query: string, fileLabel: string): ResolvedFunction {
  const found = findFunction(elf, query, fileLabel);
  if (found) return found;
  const undefinedOnly = elf.findSymbols(query).length > 0;
  if (undefinedOnly) {
    throw new VerifyError('symbol-not-found', `symbol '${query}' not found in ${fileLabel}: it is only imported there (undefined), not defined`);
  }
  const suggestions = closeMatches(query, functionCandidates(elf));
  const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : '';
  throw new VerifyError('symbol-not-found', `function '${query}' not found in ${fileLabel}${hint}`);
}

function functionCandidates(elf: ElfFile): Candidate[] {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const s of [...elf.symbols, ...elf.dynamicSymbols]) {
    if (!isFunction(s) || s.sectionIndex === 0 || seen.has(s.name)) continue;
    seen.add(s.name);
    const demangled = elf.demangledName(s);
    out.push({ label: demangled, spellings: demangled === s.name ? [s.name] : [s.name, demangled] });
  }
  return out;
}
