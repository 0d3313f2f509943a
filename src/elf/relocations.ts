// Elf64_Rela tables (.rela.dyn, .rela.plt, any SHT_RELA, or DT_RELA/DT_JMPREL).

import { ElfError } from './error.js';
import type { FileBytes } from './file-bytes.js';
import type { ElfSymbol, Relocation } from './model.js';
import { relocationTypeName } from './relocation-types.js';

export const RELA_SIZE = 24;

export function parseRelaTable(
  file: FileBytes,
  offset: number,
  count: number,
  source: string,
  symbols: readonly ElfSymbol[] | undefined,
): Relocation[] {
  file.range(offset, count * RELA_SIZE, `${source}: ${count} relocations`);
  const relocations: Relocation[] = [];
  for (let index = 0; index < count; index++) {
    const at = offset + index * RELA_SIZE;
    const where = `${source} relocation ${index}`;
    const info = file.u64(at + 8, where);
    const symbolIndex = Number(info >> 32n);
    const type = Number(info & 0xffff_ffffn);
    const relocation: Relocation = {
      source,
      index,
      offset: file.u64(at, where),
      type,
      typeName: relocationTypeName(type),
      symbolIndex,
      addend: file.i64(at + 16, where),
    };
    if (symbolIndex !== 0) {
      const symbol = symbols?.[symbolIndex];
      if (!symbol) {
        throw new ElfError('malformed', `symbol index ${symbolIndex} is outside its symbol table (${symbols?.length ?? 0} symbols)`, {
          where,
          offset: at + 8,
        });
      }
      relocation.symbol = symbol;
    }
    relocations.push(relocation);
  }
  return relocations;
}
