// The dynamic section: raw entries and the summary the loader keys on. Strings (NEEDED,
// SONAME, RPATH, RUNPATH) come from DT_STRTAB through PT_LOAD, as ld.so reads them.

import { DYNAMIC_TAG_NAMES, DynamicFlag, DynamicFlag1, DynamicTag, SectionType, SegmentType } from './constants.js';
import { ElfError, hex } from './error.js';
import { StringTable, type FileBytes } from './file-bytes.js';
import type { DynamicEntry, DynamicInfo, Section, Segment } from './model.js';
import type { AddressMap } from './segments.js';

export interface DynamicTable {
  entries: DynamicEntry[];
  offset: number;
}

/** Reads the entries up to (not including) DT_NULL; undefined when the file has no dynamic section. */
export function parseDynamicEntries(file: FileBytes, segments: readonly Segment[], sections: readonly Section[]): DynamicTable | undefined {
  const segment = segments.find((s) => s.type === SegmentType.Dynamic);
  let offset: number;
  let size: bigint;
  let where: string;
  if (segment) {
    offset = segment.offset;
    size = segment.fileSize;
    where = `program header ${segment.index} (DYNAMIC)`;
  } else {
    const section = sections.find((s) => s.type === SectionType.Dynamic);
    if (!section) return undefined;
    offset = section.offset;
    size = section.size;
    where = `section header ${section.index} (${section.name})`;
  }
  const count = Number(size / 16n);
  const entries: DynamicEntry[] = [];
  for (let i = 0; i < count; i++) {
    const tag = file.u64(offset + i * 16, where);
    const value = file.u64(offset + i * 16 + 8, where);
    if (tag === 0n) return { entries, offset };
    const tagNumber = tag > 0xffff_ffffn ? -1 : Number(tag);
    entries.push({ tag: tagNumber, tagName: DYNAMIC_TAG_NAMES[tagNumber] ?? hex(tag), value });
  }
  throw new ElfError('malformed', `no DT_NULL terminator within ${count} entries at offset ${hex(offset)}`, { where, offset });
}

/** The dynamic string table, located by DT_STRTAB/DT_STRSZ. */
export function dynamicStringTable(file: FileBytes, entries: readonly DynamicEntry[], addresses: AddressMap): StringTable | undefined {
  const address = single(entries, DynamicTag.StrTab);
  if (address === undefined) return undefined;
  const size = single(entries, DynamicTag.StrSz);
  if (size === undefined) {
    throw new ElfError('malformed', 'DT_STRTAB is present but DT_STRSZ is missing', { where: 'dynamic section' });
  }
  const offset = addresses.requireOffset(address, size, 'dynamic section: DT_STRTAB/DT_STRSZ');
  return new StringTable(file.slice(offset, size, 'dynamic string table'), 'the dynamic string table', offset);
}

export function summarizeDynamic(entries: readonly DynamicEntry[], strings: StringTable | undefined): DynamicInfo {
  const text = (entry: DynamicEntry): string => {
    const where = `dynamic entry DT_${entry.tagName}`;
    if (!strings) throw new ElfError('malformed', 'names a string but the file has no DT_STRTAB', { where });
    if (entry.value > 0xffff_ffffn) throw new ElfError('malformed', `string offset ${hex(entry.value)} is absurd`, { where });
    return strings.get(Number(entry.value), where);
  };
  const range = (addressTag: DynamicTag, sizeTag: DynamicTag): { address: bigint; size: bigint } | undefined => {
    const address = single(entries, addressTag);
    if (address === undefined) return undefined;
    return { address, size: single(entries, sizeTag) ?? 0n };
  };
  const counted = (addressTag: DynamicTag, countTag: DynamicTag): { address: bigint; count: number } | undefined => {
    const address = single(entries, addressTag);
    if (address === undefined) return undefined;
    const count = single(entries, countTag) ?? 0n;
    if (count > 0xffffn) {
      throw new ElfError('malformed', `DT_${DYNAMIC_TAG_NAMES[countTag]} is ${count}, far more versions than can exist`, { where: 'dynamic section' });
    }
    return { address, count: Number(count) };
  };
  const info: DynamicInfo = {
    needed: entries.filter((e) => e.tag === DynamicTag.Needed).map(text),
    flags: Number((single(entries, DynamicTag.Flags) ?? 0n) & 0xffff_ffffn),
    flags1: Number((single(entries, DynamicTag.Flags1) ?? 0n) & 0xffff_ffffn),
    bindNow: false,
    pie: false,
  };
  const soname = entries.find((e) => e.tag === DynamicTag.Soname);
  if (soname) info.soname = text(soname);
  const rpath = entries.find((e) => e.tag === DynamicTag.Rpath);
  if (rpath) info.rpath = text(rpath);
  const runpath = entries.find((e) => e.tag === DynamicTag.Runpath);
  if (runpath) info.runpath = text(runpath);
  info.bindNow =
    entries.some((e) => e.tag === DynamicTag.BindNow) ||
    (info.flags & DynamicFlag.BindNow) !== 0 ||
    (info.flags1 & DynamicFlag1.Now) !== 0;
  info.pie = (info.flags1 & DynamicFlag1.Pie) !== 0;
  const assign = <K extends keyof DynamicInfo>(key: K, value: DynamicInfo[K] | undefined): void => {
    if (value !== undefined) info[key] = value;
  };
  assign('init', single(entries, DynamicTag.Init));
  assign('fini', single(entries, DynamicTag.Fini));
  assign('initArray', range(DynamicTag.InitArray, DynamicTag.InitArraySz));
  assign('finiArray', range(DynamicTag.FiniArray, DynamicTag.FiniArraySz));
  assign('preinitArray', range(DynamicTag.PreinitArray, DynamicTag.PreinitArraySz));
  assign('pltGot', single(entries, DynamicTag.PltGot));
  assign('hash', single(entries, DynamicTag.Hash));
  assign('gnuHash', single(entries, DynamicTag.GnuHash));
  assign('symbolTable', single(entries, DynamicTag.SymTab));
  assign('stringTable', single(entries, DynamicTag.StrTab));
  assign('stringTableSize', single(entries, DynamicTag.StrSz));
  assign('rela', range(DynamicTag.Rela, DynamicTag.RelaSz));
  assign('jmpRel', range(DynamicTag.JmpRel, DynamicTag.PltRelSz));
  assign('relr', range(DynamicTag.Relr, DynamicTag.RelrSz));
  assign('verSym', single(entries, DynamicTag.VerSym));
  assign('verDef', counted(DynamicTag.VerDef, DynamicTag.VerDefNum));
  assign('verNeed', counted(DynamicTag.VerNeed, DynamicTag.VerNeedNum));
  return info;
}

/** The value of a tag that may appear at most once; a repeated one is malformed. */
export function single(entries: readonly DynamicEntry[], tag: DynamicTag): bigint | undefined {
  let found: DynamicEntry | undefined;
  for (const entry of entries) {
    if (entry.tag !== tag) continue;
    if (found && found.value !== entry.value) {
      throw new ElfError('malformed', `DT_${entry.tagName} appears twice with different values (${hex(found.value)}, ${hex(entry.value)})`, {
        where: 'dynamic section',
      });
    }
    found = entry;
  }
  return found?.value;
}
