// The ELF model the reader produces: plain data, no behaviour. Addresses and sizes that
// are 64-bit in the file are bigints; file offsets are numbers (always checked < file size).

import type { ElfType } from './constants.js';

export interface ElfHeader {
  type: ElfType;
  machine: number;
  osAbi: number;
  entry: bigint;
  programHeaderOffset: number;
  programHeaderEntrySize: number;
  programHeaderCount: number;
  sectionHeaderOffset: number;
  sectionHeaderEntrySize: number;
  sectionHeaderCount: number;
  sectionNameTableIndex: number;
  flags: number;
}

/** A program header (PT_*). */
export interface Segment {
  index: number;
  type: number;
  /** readelf's spelling: LOAD, DYNAMIC, GNU_RELRO, ... or "0x<n>" if unknown. */
  typeName: string;
  /** PF_R | PF_W | PF_X bits. */
  flags: number;
  readable: boolean;
  writable: boolean;
  executable: boolean;
  offset: number;
  virtualAddress: bigint;
  physicalAddress: bigint;
  fileSize: bigint;
  memorySize: bigint;
  alignment: bigint;
}

/** A section header with its resolved name. */
export interface Section {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  address: bigint;
  offset: number;
  size: bigint;
  link: number;
  info: number;
  alignment: bigint;
  entrySize: bigint;
}

/**
 * A symbol's GNU version. `definition`: from .gnu.version_d (the object defines this
 * version); `requirement`: from .gnu.version_r (needed from `file`).
 */
export interface SymbolVersion {
  /** The .gnu.version index (without the hidden bit). */
  index: number;
  name: string;
  /** True when the hidden bit is set: readelf prints `@`, only explicit `name@VER` binds. */
  hidden: boolean;
  kind: 'definition' | 'requirement';
  /** For requirements: the library that must provide it (vn_file). */
  file?: string;
}

export type SymbolTableKind = 'symtab' | 'dynsym';

export interface ElfSymbol {
  table: SymbolTableKind;
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  type: number;
  binding: number;
  visibility: number;
  /** st_shndx: 0 = undefined, SHN_ABS, SHN_COMMON or a section index. */
  sectionIndex: number;
  /** Only for .dynsym entries of a file with symbol versioning. */
  version?: SymbolVersion;
}

/** One Elf64_Rela entry. */
export interface Relocation {
  /** Where it came from: a section name (".rela.dyn") or "DT_RELA"/"DT_JMPREL" when sections are stripped. */
  source: string;
  index: number;
  offset: bigint;
  type: number;
  typeName: string;
  symbolIndex: number;
  /** The symbol named by symbolIndex, when it is not 0. */
  symbol?: ElfSymbol;
  addend: bigint;
}

export interface DynamicEntry {
  tag: number;
  /** readelf's spelling: NEEDED, FLAGS_1, ... or "0x<n>" if unknown. */
  tagName: string;
  value: bigint;
}

/** One version defined by the object (.gnu.version_d). */
export interface VersionDefinition {
  index: number;
  flags: number;
  hash: number;
  /** names[0] is the version, the rest are its parents. */
  names: string[];
}

/** One library the object needs versions from (.gnu.version_r). */
export interface VersionRequirement {
  file: string;
  versions: { index: number; name: string; hash: number; flags: number }[];
}

export interface Note {
  owner: string;
  type: number;
  descriptor: Uint8Array;
  offset: number;
}

/** Summary of the dynamic section, with the values the loader keys on. */
export interface DynamicInfo {
  needed: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags: number;
  flags1: number;
  bindNow: boolean;
  pie: boolean;
  init?: bigint;
  fini?: bigint;
  initArray?: { address: bigint; size: bigint };
  finiArray?: { address: bigint; size: bigint };
  preinitArray?: { address: bigint; size: bigint };
  pltGot?: bigint;
  hash?: bigint;
  gnuHash?: bigint;
  symbolTable?: bigint;
  stringTable?: bigint;
  stringTableSize?: bigint;
  rela?: { address: bigint; size: bigint };
  jmpRel?: { address: bigint; size: bigint };
  relr?: { address: bigint; size: bigint };
  verSym?: bigint;
  verDef?: { address: bigint; count: number };
  verNeed?: { address: bigint; count: number };
}

/** A pc range covered by an .eh_frame FDE: function bounds that survive stripping. */
export interface FrameRange {
  start: bigint;
  end: bigint;
  fdeOffset: number;
}
