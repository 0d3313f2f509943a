// Section headers and their names from the section name string table (.shstrtab).

import { SectionType } from './constants.js';
import { ElfError, hex } from './error.js';
import { StringTable, type FileBytes } from './file-bytes.js';
import type { ElfHeader, Section } from './model.js';

export function parseSectionHeaders(file: FileBytes, header: ElfHeader): Section[] {
  const raw: (Omit<Section, 'name'> & { nameOffset: number })[] = [];
  for (let index = 0; index < header.sectionHeaderCount; index++) {
    const at = header.sectionHeaderOffset + index * 64;
    const where = `section header ${index}`;
    const type = file.u32(at + 4, where);
    const size = file.u64(at + 32, where);
    const rawOffset = file.u64(at + 24, where);
    // SHT_NOBITS occupies no file space: its offset/size need not fit in the file.
    const offset =
      type === SectionType.Nobits || type === SectionType.Null
        ? Number(rawOffset > BigInt(file.size) ? BigInt(file.size) : rawOffset)
        : file.range(rawOffset, size, `${where}: contents`);
    raw.push({
      index,
      nameOffset: file.u32(at, where),
      type,
      flags: file.u64(at + 8, where),
      address: file.u64(at + 16, where),
      offset,
      size,
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
    if (nameTableHeader.type !== SectionType.Strtab) {
      throw new ElfError('malformed', `section name table (section ${header.sectionNameTableIndex}) has type ${hex(nameTableHeader.type)}, not STRTAB`, {
        where: 'ELF header',
        offset: 62,
      });
    }
    names = new StringTable(
      file.slice(nameTableHeader.offset, nameTableHeader.size, `section header ${header.sectionNameTableIndex} (section names)`),
      'the section name table',
      nameTableHeader.offset,
    );
  }
  return raw.map(({ nameOffset, ...rest }) => ({
    ...rest,
    name: names ? names.get(nameOffset, `section header ${rest.index}`) : '',
  }));
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
