// The interim CLI's work: resolve the target in main and the replacement in patch.so and
// describe both files and functions. Verification proper comes later (src/verify).

import { disassemble, type DisassembledInstruction } from '../asm/disasm.js';
import {
  ElfFile,
  ElfType,
  SYMBOL_BINDING_NAMES,
  SYMBOL_TYPE_NAMES,
  SymbolType,
  sectionIndexName,
  versionedName,
  type ElfSymbol,
} from '../elf/index.js';
import { CliError } from './error.js';
import { closeMatches, type Candidate } from './suggest.js';

export interface FileSummary {
  path: string;
  type: 'executable' | 'pie-executable' | 'shared-object' | 'object';
  pie: boolean;
  buildId?: string;
  interpreter?: string;
  needed: string[];
  soname?: string;
  bindNow: boolean;
}

export interface ResolvedFunction {
  name: string;
  versionedName: string;
  demangled: string;
  address: bigint;
  size: bigint;
  section: string;
  binding: string;
  type: string;
  table: 'symtab' | 'dynsym';
  /** dlsym(RTLD_DEFAULT / handle, name) would find it: defined, non-local, in .dynsym's hash table. */
  exported: boolean;
}

export interface Inspection {
  main: FileSummary;
  patch: FileSummary;
  target: ResolvedFunction;
  replacement: ResolvedFunction;
  /** The target's instructions (its whole size; 16 bytes if the symbol has size 0). */
  targetInstructions: DisassembledInstruction[];
  /** For each listed instruction with a direct branch target: "<name+0x4>" as objdump shows it, else "". */
  targetBranchLabels: string[];
  /** True when the listing was cut because the function was too long to show whole. */
  targetListingTruncated: boolean;
}

const MAX_LISTED_BYTES = 4096;

export function summarizeFile(path: string, elf: ElfFile): FileSummary {
  const type =
    elf.header.type === ElfType.Executable
      ? 'executable'
      : elf.header.type === ElfType.Relocatable
        ? 'object'
        : elf.isPositionIndependent
          ? 'pie-executable'
          : 'shared-object';
  const summary: FileSummary = {
    path,
    type,
    pie: elf.isPositionIndependent,
    needed: elf.dynamic?.needed ?? [],
    bindNow: elf.dynamic?.bindNow ?? false,
  };
  if (elf.buildId !== undefined) summary.buildId = elf.buildId;
  if (elf.interpreter !== undefined) summary.interpreter = elf.interpreter;
  if (elf.dynamic?.soname !== undefined) summary.soname = elf.dynamic.soname;
  return summary;
}

/**
 * The function `query` names in `elf` (mangled or demangled): defined, and unambiguous.
 * `role` ("main", "patch.so") words the errors.
 */
export function resolveFunction(elf: ElfFile, query: string, role: string): ElfSymbol {
  const found = elf.findSymbols(query);
  const defined = found.filter((s) => s.sectionIndex !== 0);
  if (defined.length === 0) {
    if (found.length > 0) {
      throw new CliError(`symbol '${query}' is not defined in ${role}: it is only imported (undefined in ${found[0]!.table === 'symtab' ? '.symtab' : '.dynsym'})`);
    }
    const suggestions = closeMatches(query, functionCandidates(elf));
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : '';
    throw new CliError(`symbol '${query}' not found in ${role}${hint}`);
  }
  const addresses = new Set(defined.map((s) => s.value));
  if (addresses.size > 1) {
    const listed = defined
      .filter((s, i) => defined.findIndex((o) => o.value === s.value) === i)
      .map((s) => `${s.name} at 0x${s.value.toString(16)} (${elf.demangledName(s)})`)
      .join('; ');
    throw new CliError(`symbol '${query}' is ambiguous in ${role}: ${listed}; give the mangled name`);
  }
  const symbol = defined[0]!;
  if (symbol.type !== SymbolType.Func && symbol.type !== SymbolType.GnuIfunc) {
    throw new CliError(`symbol '${query}' in ${role} is ${SYMBOL_TYPE_NAMES[symbol.type] ?? 'not a function'}, not a function`);
  }
  return symbol;
}

function functionCandidates(elf: ElfFile): Candidate[] {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const s of [...elf.symbols, ...elf.dynamicSymbols]) {
    if (s.type !== SymbolType.Func || s.sectionIndex === 0 || seen.has(s.name)) continue;
    seen.add(s.name);
    const demangled = elf.demangledName(s);
    out.push({ label: demangled, spellings: demangled === s.name ? [s.name] : [s.name, demangled] });
  }
  return out;
}

export function describeFunction(elf: ElfFile, symbol: ElfSymbol): ResolvedFunction {
  const section = elf.sections[symbol.sectionIndex]?.name ?? sectionIndexName(symbol.sectionIndex);
  return {
    name: symbol.name,
    versionedName: versionedName(symbol),
    demangled: elf.demangledName(symbol),
    address: symbol.value,
    size: symbol.size,
    section,
    binding: SYMBOL_BINDING_NAMES[symbol.binding] ?? String(symbol.binding),
    type: SYMBOL_TYPE_NAMES[symbol.type] ?? String(symbol.type),
    table: symbol.table,
    exported: elf.exportedSymbols(symbol.name).some((s) => s.value === symbol.value),
  };
}

export function inspect(
  mainPath: string,
  main: ElfFile,
  patchPath: string,
  patch: ElfFile,
  targetQuery: string,
  replacementQuery: string | undefined,
): Inspection {
  const targetSymbol = resolveFunction(main, targetQuery, 'main');
  let replacementSymbol: ElfSymbol;
  if (replacementQuery !== undefined) {
    replacementSymbol = resolveFunction(patch, replacementQuery, 'patch.so');
  } else {
    // Same name by default: try what the user typed, then the target's mangled name.
    try {
      try {
        replacementSymbol = resolveFunction(patch, targetQuery, 'patch.so');
      } catch (error) {
        if (targetQuery === targetSymbol.name) throw error;
        replacementSymbol = resolveFunction(patch, targetSymbol.name, 'patch.so');
      }
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      throw new CliError(`${error.message} (the replacement defaults to the target's name; name it with --with <sym>)`);
    }
  }
  const listedSize = targetSymbol.size === 0n ? 16n : targetSymbol.size;
  const length = Number(listedSize > BigInt(MAX_LISTED_BYTES) ? BigInt(MAX_LISTED_BYTES) : listedSize);
  const bytes = main.read(targetSymbol.value, length);
  const instructions = disassemble(bytes, targetSymbol.value);
  return {
    main: summarizeFile(mainPath, main),
    patch: summarizeFile(patchPath, patch),
    target: describeFunction(main, targetSymbol),
    replacement: describeFunction(patch, replacementSymbol),
    targetInstructions: instructions,
    targetBranchLabels: instructions.map((i) => (i.branchTarget === undefined ? '' : symbolicAddress(main, i.branchTarget))),
    targetListingTruncated: listedSize > BigInt(MAX_LISTED_BYTES),
  };
}

/** "<puts@plt>" for a PLT stub, "<name+0x4>" inside a known function, "<.section>" elsewhere, else "". */
export function symbolicAddress(elf: ElfFile, address: bigint): string {
  const stub = elf.pltStubs().find((s) => s.address === address);
  if (stub?.symbol) return `<${stub.symbol.name}@plt>`;
  const owner = elf.functionContaining(address);
  if (owner) {
    const offset = address - owner.value;
    return `<${owner.name}${offset === 0n ? '' : `+0x${offset.toString(16)}`}>`;
  }
  const section = elf.sectionAt(address);
  return section ? `<${section.name}>` : '';
}
