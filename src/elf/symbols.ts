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

/**
 * The entries [first, first+count) of a symbol table (all of it by default). The table's range
 * is checked once; each entry's fields are read straight from the bytes (a cold start reads
 * libc.so.6's 3,000 entries: a bounds check and a message per field cost more than the rest).
 */
export function parseSymbolTable(file: FileBytes, table: SymbolTableLocation, first = 0, count = table.count - first): ElfSymbol[] {
  file.range(table.offset, table.count * SYMBOL_SIZE, `${table.where}: ${table.count} symbols`);
  const bytes = file.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const symbols: ElfSymbol[] = [];
  for (let index = first; index < first + count; index++) {
    const at = table.offset + index * SYMBOL_SIZE;
    const info = bytes[at + 4]!;
    const sectionIndex = view.getUint16(at + 6, true);
    if (sectionIndex === SHN_XINDEX) {
      throw new ElfError('unsupported', 'extended section index (SHN_XINDEX) is not supported', { where: `${table.where} symbol ${index}`, offset: at + 6 });
    }
    if (
      table.sectionCount > 0 &&
      sectionIndex >= table.sectionCount &&
      sectionIndex < SHN_LORESERVE
    ) {
      throw new ElfError('malformed', `section index ${sectionIndex} is not below the section count ${table.sectionCount}`, {
        where: `${table.where} symbol ${index}`,
        offset: at + 6,
      });
    }
    symbols.push({
      table: table.kind,
      index,
      name: table.strings.get(view.getUint32(at, true), table.where, index),
      value: view.getBigUint64(at + 8, true),
      size: view.getBigUint64(at + 16, true),
      type: info & 0xf,
      binding: info >> 4,
      visibility: bytes[at + 5]! & 3,
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

