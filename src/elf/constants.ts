// Numeric constants of the ELF64 / x86-64 psABI / GNU extensions that the reader decodes,
// as typed enums, plus the names readelf prints for them (used in messages and tests).

export enum ElfType {
  None = 0,
  Relocatable = 1,
  Executable = 2,
  SharedObject = 3,
  Core = 4,
}

export const EM_X86_64 = 62;

export enum SegmentType {
  Null = 0,
  Load = 1,
  Dynamic = 2,
  Interp = 3,
  Note = 4,
  Shlib = 5,
  Phdr = 6,
  Tls = 7,
  GnuEhFrame = 0x6474e550,
  GnuStack = 0x6474e551,
  GnuRelro = 0x6474e552,
  GnuProperty = 0x6474e553,
}

export const SEGMENT_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL', 1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 5: 'SHLIB', 6: 'PHDR', 7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME', 0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
};

/** Segment permission bits (p_flags). */
export enum SegmentFlag {
  X = 1,
  W = 2,
  R = 4,
}

export enum SectionType {
  Null = 0,
  Progbits = 1,
  Symtab = 2,
  Strtab = 3,
  Rela = 4,
  Hash = 5,
  Dynamic = 6,
  Note = 7,
  Nobits = 8,
  Rel = 9,
  Dynsym = 11,
  InitArray = 14,
  FiniArray = 15,
  PreinitArray = 16,
  Group = 17,
  SymtabShndx = 18,
  Relr = 19,
  GnuHash = 0x6ffffff6,
  GnuVerdef = 0x6ffffffd,
  GnuVerneed = 0x6ffffffe,
  GnuVersym = 0x6fffffff,
}

/** Special section indices in st_shndx. */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export enum SymbolType {
  NoType = 0,
  Object = 1,
  Func = 2,
  Section = 3,
  File = 4,
  Common = 5,
  Tls = 6,
  GnuIfunc = 10,
}

export const SYMBOL_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOTYPE', 1: 'OBJECT', 2: 'FUNC', 3: 'SECTION', 4: 'FILE', 5: 'COMMON', 6: 'TLS', 10: 'IFUNC',
};

export enum SymbolBinding {
  Local = 0,
  Global = 1,
  Weak = 2,
  GnuUnique = 10,
}

export const SYMBOL_BINDING_NAMES: Readonly<Record<number, string>> = {
  0: 'LOCAL', 1: 'GLOBAL', 2: 'WEAK', 10: 'UNIQUE',
};

export enum SymbolVisibility {
  Default = 0,
  Internal = 1,
  Hidden = 2,
  Protected = 3,
}

export const SYMBOL_VISIBILITY_NAMES: Readonly<Record<number, string>> = {
  0: 'DEFAULT', 1: 'INTERNAL', 2: 'HIDDEN', 3: 'PROTECTED',
};

/** d_tag values of the dynamic section that the reader or the loader interprets. */
export enum DynamicTag {
  Null = 0,
  Needed = 1,
  PltRelSz = 2,
  PltGot = 3,
  Hash = 4,
  StrTab = 5,
  SymTab = 6,
  Rela = 7,
  RelaSz = 8,
  RelaEnt = 9,
  StrSz = 10,
  SymEnt = 11,
  Init = 12,
  Fini = 13,
  Soname = 14,
  Rpath = 15,
  Symbolic = 16,
  Rel = 17,
  RelSz = 18,
  RelEnt = 19,
  PltRel = 20,
  Debug = 21,
  TextRel = 22,
  JmpRel = 23,
  BindNow = 24,
  InitArray = 25,
  FiniArray = 26,
  InitArraySz = 27,
  FiniArraySz = 28,
  Runpath = 29,
  Flags = 30,
  PreinitArray = 32,
  PreinitArraySz = 33,
  SymtabShndx = 34,
  RelrSz = 35,
  Relr = 36,
  RelrEnt = 37,
  GnuPrelinked = 0x6ffffdf5,
  GnuConflictSz = 0x6ffffdf6,
  GnuLiblistSz = 0x6ffffdf7,
  Checksum = 0x6ffffdf8,
  PltPadSz = 0x6ffffdf9,
  MoveEnt = 0x6ffffdfa,
  MoveSz = 0x6ffffdfb,
  Feature1 = 0x6ffffdfc,
  PosFlag1 = 0x6ffffdfd,
  SymInSz = 0x6ffffdfe,
  SymInEnt = 0x6ffffdff,
  GnuHash = 0x6ffffef5,
  TlsDescPlt = 0x6ffffef6,
  TlsDescGot = 0x6ffffef7,
  GnuConflict = 0x6ffffef8,
  GnuLiblist = 0x6ffffef9,
  Config = 0x6ffffefa,
  DepAudit = 0x6ffffefb,
  Audit = 0x6ffffefc,
  PltPad = 0x6ffffefd,
  MoveTab = 0x6ffffefe,
  SymInfo = 0x6ffffeff,
  VerSym = 0x6ffffff0,
  RelaCount = 0x6ffffff9,
  RelCount = 0x6ffffffa,
  Flags1 = 0x6ffffffb,
  VerDef = 0x6ffffffc,
  VerDefNum = 0x6ffffffd,
  VerNeed = 0x6ffffffe,
  VerNeedNum = 0x6fffffff,
  Auxiliary = 0x7ffffffd,
  Filter = 0x7fffffff,
}

/** The names readelf prints in parentheses for each tag. */
export const DYNAMIC_TAG_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL', 1: 'NEEDED', 2: 'PLTRELSZ', 3: 'PLTGOT', 4: 'HASH', 5: 'STRTAB', 6: 'SYMTAB', 7: 'RELA',
  8: 'RELASZ', 9: 'RELAENT', 10: 'STRSZ', 11: 'SYMENT', 12: 'INIT', 13: 'FINI', 14: 'SONAME', 15: 'RPATH',
  16: 'SYMBOLIC', 17: 'REL', 18: 'RELSZ', 19: 'RELENT', 20: 'PLTREL', 21: 'DEBUG', 22: 'TEXTREL',
  23: 'JMPREL', 24: 'BIND_NOW', 25: 'INIT_ARRAY', 26: 'FINI_ARRAY', 27: 'INIT_ARRAYSZ', 28: 'FINI_ARRAYSZ',
  29: 'RUNPATH', 30: 'FLAGS', 32: 'PREINIT_ARRAY', 33: 'PREINIT_ARRAYSZ', 34: 'SYMTAB_SHNDX', 35: 'RELRSZ',
  36: 'RELR', 37: 'RELRENT',
  0x6ffffdf5: 'GNU_PRELINKED', 0x6ffffdf6: 'GNU_CONFLICTSZ', 0x6ffffdf7: 'GNU_LIBLISTSZ', 0x6ffffdf8: 'CHECKSUM',
  0x6ffffdf9: 'PLTPADSZ', 0x6ffffdfa: 'MOVEENT', 0x6ffffdfb: 'MOVESZ', 0x6ffffdfc: 'FEATURE_1',
  0x6ffffdfd: 'POSFLAG_1', 0x6ffffdfe: 'SYMINSZ', 0x6ffffdff: 'SYMINENT', 0x6ffffef5: 'GNU_HASH',
  0x6ffffef6: 'TLSDESC_PLT', 0x6ffffef7: 'TLSDESC_GOT', 0x6ffffef8: 'GNU_CONFLICT', 0x6ffffef9: 'GNU_LIBLIST',
  0x6ffffefa: 'CONFIG', 0x6ffffefb: 'DEPAUDIT', 0x6ffffefc: 'AUDIT', 0x6ffffefd: 'PLTPAD', 0x6ffffefe: 'MOVETAB',
  0x6ffffeff: 'SYMINFO', 0x6ffffff0: 'VERSYM', 0x6ffffff9: 'RELACOUNT', 0x6ffffffa: 'RELCOUNT',
  0x6ffffffb: 'FLAGS_1', 0x6ffffffc: 'VERDEF', 0x6ffffffd: 'VERDEFNUM', 0x6ffffffe: 'VERNEED',
  0x6fffffff: 'VERNEEDNUM', 0x7ffffffd: 'AUXILIARY', 0x7fffffff: 'FILTER',
};

/** DT_FLAGS bits. */
export enum DynamicFlag {
  Origin = 0x1,
  Symbolic = 0x2,
  TextRel = 0x4,
  BindNow = 0x8,
  StaticTls = 0x10,
}

/** DT_FLAGS_1 bits the tool cares about (names as readelf prints them). */
export enum DynamicFlag1 {
  Now = 0x1,
  Global = 0x2,
  Group = 0x4,
  NoDelete = 0x8,
  LoadFltr = 0x10,
  InitFirst = 0x20,
  NoOpen = 0x40,
  Origin = 0x80,
  Direct = 0x100,
  Interpose = 0x400,
  NoDefLib = 0x800,
  NoDump = 0x1000,
  Confalt = 0x2000,
  EndFiltee = 0x4000,
  DispRelDne = 0x8000,
  DispRelPnd = 0x10000,
  NoDirect = 0x20000,
  Pie = 0x8000000,
}

/** Version index values in .gnu.version. */
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
export const VERSYM_HIDDEN = 0x8000;
export const VERSYM_VERSION = 0x7fff;
export const VER_FLG_BASE = 0x1;

export const NT_GNU_BUILD_ID = 3;
