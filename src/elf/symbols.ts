// Elf64_Sym tables (.symtab, .dynsym).

import { SHN_LORESERVE, SHN_ABS, SHN_COMMON, SHN_XINDEX } from './constants.js';
import { ElfError } from './error.js';
import type { FileBytes, StringTable } from './file-bytes.js';
import type { ElfSymbol, SymbolTableKind } from './model.js';

export const SYMBOL_SIZE = 24;

export interface SymbolTableLocation {
  kind: SymbolTableKind;
  offset: number;
  count: number;
  strings: StringTable;
  /** "section header 5 (.dynsym)" or "DT_SYMTAB", for messages. */
  where: string;
  /** Number of sections, to validate st_shndx; 0 when sections are stripped. */
  sectionCount: number;
}

export function parseSymbolTable(file: FileBytes, table: SymbolTableLocation): ElfSymbol[] {
  file.range(table.offset, table.count * SYMBOL_SIZE, `${table.where}: ${table.count} symbols`);
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < table.count; index++) {
    const at = table.offset + index * SYMBOL_SIZE;
    const where = `${table.where} symbol ${index}`;
    const info = file.u8(at + 4, where);
    const sectionIndex = file.u16(at + 6, where);
    if (sectionIndex === SHN_XINDEX) {
      throw new ElfError('unsupported', 'extended section index (SHN_XINDEX) is not supported', { where, offset: at + 6 });
    }
    if (
      table.sectionCount > 0 &&
      sectionIndex >= table.sectionCount &&
      sectionIndex < SHN_LORESERVE
    ) {
      throw new ElfError('malformed', `section index ${sectionIndex} is not below the section count ${table.sectionCount}`, {
        where,
        offset: at + 6,
      });
    }
    symbols.push({
      table: table.kind,
      index,
      name: table.strings.get(file.u32(at, where), where),
      value: file.u64(at + 8, where),
      size: file.u64(at + 16, where),
      type: info & 0xf,
      binding: info >> 4,
      visibility: file.u8(at + 5, where) & 3,
      sectionIndex,
    });
  }
  return symbols;
}

export function isDefined(symbol: ElfSymbol): boolean {
  return symbol.sectionIndex !== 0;
}

/** readelf's Ndx column: UND, ABS, COM or the number. */
export function sectionIndexName(index: number): string {
  if (index === 0) return 'UND';
  if (index === SHN_ABS) return 'ABS';
  if (index === SHN_COMMON) return 'COM';
  return String(index);
}

/** `printf@GLIBC_2.2.5` for a reference or hidden version, `foo@@V2` for a default definition. */
export function versionedName(symbol: ElfSymbol): string {
  const v = symbol.version;
  if (!v) return symbol.name;
  const separator = v.kind === 'definition' && !v.hidden ? '@@' : '@';
  return `${symbol.name}${separator}${v.name}`;
}

