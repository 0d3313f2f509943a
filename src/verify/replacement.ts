// Which function of patch.so replaces the target: --with names it; else the patch's exported
// `{new, old}` fix table when its `old` is the target (the seed's convention:
// `struct fix_entry fix_table = { fix_func, need_fix_func }`); else the same name as the
// target; else whatever the fix table's `new` is.

import { RelocationType, type ElfFile } from '../elf/index.js';
import { VerifyError } from './error.js';
import { findFunction, requireFunction, type ResolvedFunction } from './symbols.js';

export const FIX_TABLE_SYMBOL = 'fix_table';

export interface ReplacementChoice {
  how: 'named' | 'same-name' | 'fix-table';
  fn: ResolvedFunction;
  /** For 'fix-table': the table's link-time address and the name its `old` pointer refers to. */
  fixTable?: { address: bigint; oldName: string | null };
}

/** The function a pointer-sized slot at `address` of patch.so is relocated to point at. */
function pointerTarget(patch: ElfFile, address: bigint): { name: string } | null {
  const reloc = patch.relocations.find((r) => r.offset === address);
  if (!reloc) return null;
  if (reloc.type === RelocationType.R_X86_64_RELATIVE) {
    const fn = patch.functionContaining(reloc.addend);
    return fn ? { name: fn.name } : null;
  }
  return reloc.symbol ? { name: reloc.symbol.name } : null;
}

function fromFixTable(patch: ElfFile, fileLabel: string): ReplacementChoice | undefined {
  const table = patch.exportedSymbols(FIX_TABLE_SYMBOL)[0];
  if (!table || table.size < 16n) return undefined;
  const newer = pointerTarget(patch, table.value);
  if (!newer) return undefined;
  const fn = findFunction(patch, newer.name, fileLabel);
  if (!fn) return undefined;
  return { how: 'fix-table', fn, fixTable: { address: table.value, oldName: pointerTarget(patch, table.value + 8n)?.name ?? null } };
}

export function chooseReplacement(patch: ElfFile, patchLabel: string, target: ResolvedFunction, query: { with?: string; symbol: string }, required: boolean): ReplacementChoice | null {
  if (query.with !== undefined) return { how: 'named', fn: requireFunction(patch, query.with, patchLabel) };
  // A fix table that pairs a replacement with this very target says the most.
  const table = fromFixTable(patch, patchLabel);
  if (table && table.fixTable?.oldName === target.name) return table;
  const same = findFunction(patch, query.symbol, patchLabel) ?? (query.symbol !== target.name ? findFunction(patch, target.name, patchLabel) : undefined);
  if (same) return { how: 'same-name', fn: same };
  if (table) return table;
  if (!required) return null;
  throw new VerifyError(
    'symbol-not-found',
    `no replacement for ${target.demangled}: function '${query.symbol}' not found in ${patchLabel}, and it exports no ${FIX_TABLE_SYMBOL} {new, old}; name the replacement with --with <sym>`,
  );
}
