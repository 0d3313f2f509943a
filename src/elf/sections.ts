// Section headers and their names from the section name string table (.shstrtab).

import { SectionType } from './constants.js';
import { ElfError, hex } from './error.js';
import { StringTable, type FileBytes } from './file-bytes.js';
import type { ElfHeader, Section } from './model.js';

export function parseSectionHeaders(file: FileBytes, header: ElfHeader): Section[] {
  // Headers first, then names, then contents: so a bad size is reported with the name.
  const raw: (Omit<Section, 'name' | 'offset'> & { nameOffset: number; rawOffset: bigint })[] = [];
  for (let index = 0; index < header.sectionHeaderCount; index++) {
    const at = header.sectionHeaderOffset + index * 64;
    const where = `section header ${index}`;
    raw.push({
      index,
      nameOffset: file.u32(at, where),
      type: file.u32(at + 4, where),
      flags: file.u64(at + 8, where),
      address: file.u64(at + 16, where),
      rawOffset: file.u64(at + 24, where),
      size: file.u64(at + 32, where),
      link: file.u32(at + 40, where),
      info: file.u32(at + 44, where),
      alignment: file.u64(at + 48, where),
      entrySize: file.u64(at + 56, where),
    });
  }
  if (raw.length === 0) return [];

  const nameTableHeader = raw[header.sectionNameTableIndex];
  let names: StringTable | undefined;
  if (header.sectionNameTableIndex !== 0 && nameTableHeader) {
    const where = `section header ${header.sectionNameTableIndex} (section name table)`;
    if (nameTableHeader.type !== SectionType.Strtab) {
      throw new ElfError('malformed', `has type ${hex(nameTableHeader.type)}, not STRTAB`, { where });
    }
    const offset = file.range(nameTableHeader.rawOffset, nameTableHeader.size, `${where}: contents`);
    names = new StringTable(file.slice(offset, nameTableHeader.size, where), 'the section name table', offset);
  }
  return raw.map(({ nameOffset, rawOffset, ...rest }) => {
    const name = names ? names.get(nameOffset, `section header ${rest.index}`) : '';
    // SHT_NOBITS occupies no file space: its offset/size need not fit in the file.
    const occupiesFile = rest.type !== SectionType.Nobits && rest.type !== SectionType.Null;
    const offset = occupiesFile
      ? file.range(rawOffset, rest.size, `section header ${rest.index} (${name || 'unnamed'}): contents`)
      : Number(rawOffset > BigInt(file.size) ? BigInt(file.size) : rawOffset);
    return { ...rest, name, offset };
  });
}

/** "section header 12 (.dynsym)", the way errors name a section. */
export function describeSection(section: Section): string {
  return `section header ${section.index} (${section.name || 'unnamed'})`;
}

/** Checks that a table section's size is a whole number of `entrySize`-byte entries. */
export function tableEntryCount(section: Section, entrySize: number): number {
  const where = describeSection(section);
  if (section.entrySize !== BigInt(entrySize)) {
    throw new ElfError('malformed', `entry size is ${section.entrySize}, expected ${entrySize}`, { where, offset: section.offset });
  }
  if (section.size % BigInt(entrySize) !== 0n) {
    throw new ElfError('malformed', `size ${hex(section.size)} is not a multiple of the entry size ${entrySize}`, {
      where,
      offset: section.offset,
    });
  }
  return Number(section.size / BigInt(entrySize));
}
