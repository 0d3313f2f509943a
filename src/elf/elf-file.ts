// ElfFile: the whole reader. Parses eagerly (so a malformed file fails at parse(), with an
// ElfError), except .eh_frame, which is parsed on first use. Look-ups by name, demangled
// name and address live here because the loader, the analysis and the CLI all need them.

import { DynamicTag, ElfType, SectionType, SegmentType, SymbolBinding, SymbolType } from './constants.js';
import { demangle } from './demangle.js';
import { parseDynamicEntries, dynamicStringTable, summarizeDynamic, single } from './dynamic.js';
import { FrameIndex, parseFrameRanges, unwindRuleAt, type UnwindRule } from './eh-frame.js';
import { ElfError, hex } from './error.js';
import { FileBytes, StringTable } from './file-bytes.js';
import { parseGnuHashTable, parseSysvHashTable, type SymbolHashTable } from './hash-tables.js';
import { parseElfHeader } from './header.js';
import type {
  DynamicEntry,
  DynamicInfo,
  ElfHeader,
  ElfSymbol,
  FrameRange,
  Note,
  Relocation,
  Section,
  Segment,
  VersionDefinition,
  VersionRequirement,
} from './model.js';
import { buildIdOf, parseNotes } from './notes.js';
import { parseRelaTable, RELA_SIZE } from './relocations.js';
import { parseRelrTable } from './relr.js';
import { findPltStubs, type PltStub } from './plt.js';
import { describeSection, parseSectionHeaders, tableEntryCount } from './sections.js';
import { AddressMap, parseProgramHeaders } from './segments.js';
import { parseSymbolTable, SYMBOL_SIZE, versionedName, type SymbolTableLocation } from './symbols.js';
import { attachVersions, parseVersionDefinitions, parseVersionRequirements, symbolVersionTable, type SymbolVersionTable } from './versions.js';

export interface ParseOptions {
  /** Parse the symbol, version, relocation and note tables when first used, not in parse(). */
  lazyTables?: boolean;
  /**
   * Return the ElfFile already parsed from these very bytes (the same Uint8Array) in this realm:
   * for bytes that never change after parsing (input files, a sysroot's read-only files), which
   * a verification would otherwise parse up to five times.
   */
  reuse?: boolean;
}

/** ElfFiles parsed with `reuse`, by their bytes. */
const parsedFiles = new WeakMap<Uint8Array, ElfFile>();

interface VersionTables {
  definitions: VersionDefinition[];
  requirements: VersionRequirement[];
  /** .gnu.version with what its indexes name; undefined without one. */
  symbolVersions: SymbolVersionTable | undefined;
}

export class ElfFile {
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  readonly segments: readonly Segment[];
  readonly sections: readonly Section[];
  /** Entries of the dynamic section up to DT_NULL (empty for a static file). */
  readonly dynamicEntries: readonly DynamicEntry[];
  readonly dynamic: DynamicInfo | undefined;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2. */
  readonly interpreter: string | undefined;
  readonly gnuHashTable: SymbolHashTable | undefined;
  readonly sysvHashTable: SymbolHashTable | undefined;

  private readonly file: FileBytes;
  private readonly addresses: AddressMap;
  private readonly dynamicStrings: StringTable | undefined;
  // The tables behind the getters below: parsed in parse(), or on first use with lazyTables.
  private symbolCache: ElfSymbol[] | undefined;
  private dynamicSymbolCache: ElfSymbol[] | undefined;
  /** .dynsym entries parsed one by one (exportedSymbols before the whole table was needed). */
  private dynamicSymbolSingles: Map<number, ElfSymbol> | undefined;
  private dynamicSymbolTableCache: SymbolTableLocation | null | undefined;
  private versionCache: VersionTables | undefined;
  private relocationCache: Relocation[] | undefined;
  private relrCache: bigint[] | undefined;
  private noteCache: Note[] | undefined;
  private rawFunctionLookups = 0;
  private frameRangeCache: FrameRange[] | undefined;
  private frameIndexCache: FrameIndex | null | undefined;
  private pltStubCache: PltStub[] | undefined;
  private demangledCache: Map<ElfSymbol, string> | undefined;

  private constructor(bytes: Uint8Array, options: ParseOptions) {
    this.bytes = bytes;
    this.file = new FileBytes(bytes);
    this.header = parseElfHeader(this.file);
    this.segments = parseProgramHeaders(this.file, this.header);
    this.sections = parseSectionHeaders(this.file, this.header);
    this.addresses = new AddressMap(this.segments);
    this.interpreter = this.readInterpreter();

    const dynamicTable = parseDynamicEntries(this.file, this.segments, this.sections);
    this.dynamicEntries = dynamicTable?.entries ?? [];
    const dynamicStrings = dynamicTable ? dynamicStringTable(this.file, this.dynamicEntries, this.addresses) : undefined;
    this.dynamicStrings = dynamicStrings;
    this.dynamic = dynamicTable ? summarizeDynamic(this.dynamicEntries, dynamicStrings) : undefined;

    this.gnuHashTable = this.dynamic?.gnuHash !== undefined
      ? parseGnuHashTable(this.file, this.addresses.requireOffset(this.dynamic.gnuHash, 16n, 'DT_GNU_HASH'), `GNU hash table at ${hex(this.dynamic.gnuHash)}`)
      : undefined;
    this.sysvHashTable = this.dynamic?.hash !== undefined
      ? parseSysvHashTable(this.file, this.addresses.requireOffset(this.dynamic.hash, 8n, 'DT_HASH'), `hash table at ${hex(this.dynamic.hash)}`)
      : undefined;

    if (!options.lazyTables) this.parseTables();
  }

  /** Every table now, in this order, so that a malformed file fails here with its first problem. */
  private parseTables(): void {
    void this.symbols;
    void this.dynamicSymbols;
    void this.relocations;
    void this.relativeRelocationAddresses;
    void this.notes;
  }

  /**
   * Parses an ELF64 x86-64 executable, shared object or object file; throws ElfError. With
   * `lazyTables`, the symbol, version, relocation and note tables are parsed when first used
   * (and a problem in one is thrown there): for big files of which a run reads a few entries,
   * e.g. a sysroot's libc.so.6, whose 3,000 dynamic symbols cost a cold start ~25 ms.
   */
  static parse(bytes: Uint8Array, options: ParseOptions = {}): ElfFile {
    if (!options.reuse) return new ElfFile(bytes, options);
    let elf = parsedFiles.get(bytes);
    if (!elf) {
      elf = new ElfFile(bytes, options);
      parsedFiles.set(bytes, elf);
    } else if (!options.lazyTables) elf.parseTables();
    return elf;
  }

  /** .symtab (empty when stripped). */
  get symbols(): readonly ElfSymbol[] {
    if (!this.symbolCache) {
      const symtabSection = this.sections.find((s) => s.type === SectionType.Symtab);
      this.symbolCache = symtabSection ? this.readSectionSymbols(symtabSection, 'symtab') : [];
    }
    return this.symbolCache;
  }

  /** .dynsym, from the section or, when sections are stripped, from DT_SYMTAB. */
  get dynamicSymbols(): readonly ElfSymbol[] {
    if (!this.dynamicSymbolCache) {
      const table = this.dynamicSymbolTable();
      const symbols = table ? parseSymbolTable(this.file, table) : [];
      const versions = this.versionTables(symbols.length);
      if (versions.symbolVersions) attachVersions(this.file, symbols, versions.symbolVersions);
      // Entries already handed out one by one stay the same objects.
      for (const [index, symbol] of this.dynamicSymbolSingles ?? []) symbols[index] = symbol;
      this.dynamicSymbolSingles = undefined;
      this.dynamicSymbolCache = symbols;
    }
    return this.dynamicSymbolCache;
  }

  get versionDefinitions(): readonly VersionDefinition[] {
    return this.versionTables().definitions;
  }

  get versionRequirements(): readonly VersionRequirement[] {
    return this.versionTables().requirements;
  }

  get relocations(): readonly Relocation[] {
    if (!this.relocationCache) {
      // Sections when they list relocation tables; otherwise what DT_RELA/DT_JMPREL point at.
      const hasRelocationSections = this.sections.some((s) => s.type === SectionType.Rela || s.type === SectionType.Rel);
      this.relocationCache = hasRelocationSections ? this.readSectionRelocations() : this.readDynamicRelocations();
    }
    return this.relocationCache;
  }

  /** Addresses relocated by SHT_RELR / DT_RELR (relative, implicit addend); usually empty. */
  get relativeRelocationAddresses(): readonly bigint[] {
    this.relrCache ??= this.readRelr();
    return this.relrCache;
  }

  get notes(): readonly Note[] {
    this.noteCache ??= this.readNotes();
    return this.noteCache;
  }

  get buildId(): string | undefined {
    return buildIdOf(this.notes);
  }

  get isPositionIndependent(): boolean {
    if (this.header.type !== ElfType.SharedObject) return false;
    return this.dynamic?.pie === true || this.interpreter !== undefined;
  }

  get isSharedLibrary(): boolean {
    return this.header.type === ElfType.SharedObject && !this.isPositionIndependent;
  }

  // ---- addresses and bytes

  sectionNamed(name: string): Section | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The allocated section whose address range contains `address`. */
  sectionAt(address: bigint): Section | undefined {
    return this.sections.find((s) => s.address !== 0n && (s.flags & 2n) !== 0n && address >= s.address && address - s.address < s.size);
  }

  /** The PT_LOAD segment whose memory image contains `address`. */
  segmentAt(address: bigint): Segment | undefined {
    return this.addresses.segmentAt(address);
  }

  offsetOf(address: bigint, length = 1n): number | undefined {
    return this.addresses.offsetOf(address, length);
  }

  addressOf(offset: number): bigint | undefined {
    return this.addresses.addressOf(offset);
  }

  /** The file bytes that PT_LOAD maps at [address, address+length); an ElfError if not file-backed. */
  read(address: bigint, length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ElfError('not-found', `cannot read ${length} bytes`, { where: `read at ${hex(address)}` });
    }
    const offset = this.addresses.offsetOf(address, BigInt(length));
    if (offset === undefined) {
      throw new ElfError('not-found', `${hex(address)} + ${length} bytes is not file-backed by one PT_LOAD segment`, {
        where: `read at ${hex(address)}`,
      });
    }
    return this.file.slice(offset, length, `read at ${hex(address)}`);
  }

  // ---- symbols

  /**
   * Symbols whose mangled name is `name` (also accepting `name@VER` / `name@@VER` as readelf
   * prints them), .symtab entries first, then .dynsym.
   */
  symbolsNamed(name: string): ElfSymbol[] {
    const matches: ElfSymbol[] = [];
    for (const symbol of [...this.symbols, ...this.dynamicSymbols]) {
      if (symbol.name === name || (symbol.version && versionedName(symbol) === name)) matches.push(symbol);
    }
    return matches;
  }

  /** The demangled form of a symbol's name (needs initDemangler() to have completed). */
  demangledName(symbol: ElfSymbol): string {
    this.demangledCache ??= new Map();
    let text = this.demangledCache.get(symbol);
    if (text === undefined) {
      text = demangle(symbol.name);
      this.demangledCache.set(symbol, text);
    }
    return text;
  }

  /**
   * Symbols a user means by `query`: the mangled name exactly; else the demangled name
   * (`ns::Foo::bar(int)`, spaces not significant, or as c++filt prints it with a template's
   * return type); else the demangled name without its
   * parameter list (`ns::Foo::bar`, possibly several overloads). Defined symbols win over
   * undefined ones; .symtab entries come before .dynsym.
   */
  findSymbols(query: string): ElfSymbol[] {
    const preferDefined = (found: ElfSymbol[]): ElfSymbol[] => {
      const defined = found.filter((s) => s.sectionIndex !== 0);
      return defined.length > 0 ? defined : found;
    };
    const exact = this.symbolsNamed(query);
    if (exact.length > 0) return preferDefined(exact);
    const wanted = normalizeSignature(query);
    const all = [...this.symbols, ...this.dynamicSymbols].filter((s) => s.name !== '' && s.type !== SymbolType.File && s.type !== SymbolType.Section);
    const byDemangled = all.filter((s) => normalizeSignature(this.demangledName(s)) === wanted);
    if (byDemangled.length > 0) return preferDefined(byDemangled);
    // c++filt prints the return type of function templates; our demangler leaves it out.
    const withReturnType = all.filter((s) => {
      const signature = normalizeSignature(this.demangledName(s));
      return signature.includes('(') && wanted.length > signature.length && wanted.endsWith(signature) && /[\w&*> ]$/.test(wanted.slice(0, wanted.length - signature.length));
    });
    if (withReturnType.length > 0) return preferDefined(withReturnType);
    const byBareName = all.filter((s) => normalizeSignature(withoutParameters(this.demangledName(s))) === wanted);
    return preferDefined(byBareName);
  }

  /** Symbols whose value is exactly `address` (both tables). */
  symbolsAt(address: bigint): ElfSymbol[] {
    return [...this.symbols, ...this.dynamicSymbols].filter((s) => s.sectionIndex !== 0 && s.value === address && s.type !== SymbolType.Section && s.type !== SymbolType.File);
  }

  /**
   * The function symbol whose [value, value+size) contains `address`: the smallest such,
   * .symtab first, global before local for aliases. Size-0 functions match only their entry.
   */
  functionContaining(address: bigint): ElfSymbol | undefined {
    // A lazily parsed file answers its first few questions from the raw tables (symbolising one
    // address in libc.so.6 built 3,000 symbol objects); after that, the parsed tables are cheaper.
    if ((!this.symbolCache || !this.dynamicSymbolCache) && this.rawFunctionLookups < 4) {
      this.rawFunctionLookups++;
      return this.rawFunctionContaining(address);
    }
    let best: ElfSymbol | undefined;
    // Both tables in turn, not a concatenated copy: symbolising a libc address read 3,000 entries twice.
    for (const table of [this.symbols, this.dynamicSymbols]) {
      for (const symbol of table) {
        if ((symbol.type !== SymbolType.Func && symbol.type !== SymbolType.GnuIfunc) || symbol.sectionIndex === 0) continue;
        const inside = symbol.size === 0n ? address === symbol.value : address >= symbol.value && address - symbol.value < symbol.size;
        if (!inside) continue;
        if (!best || symbol.size < best.size || (symbol.size === best.size && best.binding === SymbolBinding.Local && symbol.binding !== SymbolBinding.Local)) {
          best = symbol;
        }
      }
    }
    return best;
  }

  /** functionContaining over the tables' bytes: the same choice, only the chosen entry parsed. */
  private rawFunctionContaining(address: bigint): ElfSymbol | undefined {
    const symtabSection = this.sections.find((s) => s.type === SectionType.Symtab);
    const tables: { location: SymbolTableLocation; dynamic: boolean }[] = [];
    if (symtabSection) tables.push({ location: this.sectionSymbolTable(symtabSection, 'symtab'), dynamic: false });
    const dynamic = this.dynamicSymbolTable();
    if (dynamic) tables.push({ location: dynamic, dynamic: true });
    const bytes = this.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let best: { table: number; index: number; size: bigint; local: boolean } | undefined;
    for (let t = 0; t < tables.length; t++) {
      const { location } = tables[t]!;
      this.file.range(location.offset, location.count * SYMBOL_SIZE, `${location.where}: ${location.count} symbols`);
      for (let index = 0; index < location.count; index++) {
        const at = location.offset + index * SYMBOL_SIZE;
        const info = bytes[at + 4]!;
        const type = info & 0xf;
        if ((type !== SymbolType.Func && type !== SymbolType.GnuIfunc) || view.getUint16(at + 6, true) === 0) continue;
        const value = view.getBigUint64(at + 8, true);
        const size = view.getBigUint64(at + 16, true);
        const inside = size === 0n ? address === value : address >= value && address - value < size;
        if (!inside) continue;
        const local = info >> 4 === SymbolBinding.Local;
        if (!best || size < best.size || (size === best.size && best.local && !local)) best = { table: t, index, size, local };
      }
    }
    if (!best) return undefined;
    const { location, dynamic: isDynamic } = tables[best.table]!;
    if (isDynamic) return this.dynamicSymbolAt(best.index);
    return this.symbolCache ? this.symbolCache[best.index] : parseSymbolTable(this.file, location, best.index, 1)[0];
  }

  /**
   * What `dlsym` would find in this object for `name`: defined, non-local .dynsym entries
   * reached through DT_GNU_HASH (or DT_HASH), the way ld.so searches. Several results mean
   * several versions; the one without the hidden bit is the default.
   */
  exportedSymbols(name: string): ElfSymbol[] {
    const table = this.gnuHashTable ?? this.sysvHashTable;
    const candidates = table ? table.candidates(name) : this.dynamicSymbols.map((s) => s.index);
    const found: ElfSymbol[] = [];
    for (const index of candidates) {
      const symbol = this.dynamicSymbolAt(index);
      if (!symbol || symbol.name !== name || symbol.sectionIndex === 0) continue;
      if (symbol.binding === SymbolBinding.Local) continue;
      found.push(symbol);
    }
    return found;
  }

  /** The .dynsym entry at `index` (with its version), without parsing the whole table when it has not been yet. */
  private dynamicSymbolAt(index: number): ElfSymbol | undefined {
    if (this.dynamicSymbolCache) return this.dynamicSymbolCache[index];
    const table = this.dynamicSymbolTable();
    if (!table || !Number.isInteger(index) || index < 0 || index >= table.count) return undefined;
    this.dynamicSymbolSingles ??= new Map();
    let symbol = this.dynamicSymbolSingles.get(index);
    if (!symbol) {
      symbol = parseSymbolTable(this.file, table, index, 1)[0]!;
      const versions = this.versionTables(table.count);
      if (versions.symbolVersions) attachVersions(this.file, [symbol], versions.symbolVersions);
      this.dynamicSymbolSingles.set(index, symbol);
    }
    return symbol;
  }

  /** PLT stubs with the function each reaches (`puts@plt`); needs section headers. */
  pltStubs(): readonly PltStub[] {
    this.pltStubCache ??= findPltStubs(this.file, this.sections, this.relocations);
    return this.pltStubCache;
  }

  /** FDE pc ranges from .eh_frame (via PT_GNU_EH_FRAME when sections are stripped), sorted by start. */
  frameRanges(): readonly FrameRange[] {
    this.frameRangeCache ??= this.readFrameRanges();
    return this.frameRangeCache;
  }

  /** The .eh_frame unwind rule at a link-time pc (CFA and saved registers), or null when there is none usable. */
  unwindRule(address: bigint): UnwindRule | null {
    const section = this.sectionNamed('.eh_frame');
    if (!section || section.type !== SectionType.Progbits) return null;
    try {
      // Through .eh_frame_hdr's sorted table when there is one; else every FDE's range, parsed once.
      const index = this.frameIndex();
      const fdeAddress = index?.fdeAddressFor(address);
      if (index && (fdeAddress === undefined || fdeAddress < section.address || fdeAddress - section.address >= section.size)) return null;
      if (fdeAddress !== undefined) {
        return unwindRuleAt(this.file, section.offset, section.address, describeSection(section), section.offset + Number(fdeAddress - section.address), address, true);
      }
      const range = this.frameRanges().find((r) => address >= r.start && address < r.end);
      if (!range) return null;
      return unwindRuleAt(this.file, section.offset, section.address, describeSection(section), range.fdeOffset, address);
    } catch (e) {
      if (e instanceof ElfError) return null;
      throw e;
    }
  }

  /** .eh_frame_hdr's FDE table (PT_GNU_EH_FRAME), or null without a usable one. */
  private frameIndex(): FrameIndex | null {
    if (this.frameIndexCache === undefined) {
      const header = this.segments.find((s) => s.type === SegmentType.GnuEhFrame);
      this.frameIndexCache = header
        ? FrameIndex.parse(this.file, header.offset, Number(header.fileSize), header.virtualAddress, `program header ${header.index} (GNU_EH_FRAME)`)
        : null;
    }
    return this.frameIndexCache;
  }

  // ---- parsing helpers

  private readInterpreter(): string | undefined {
    const segment = this.segments.find((s) => s.type === SegmentType.Interp);
    if (!segment) return undefined;
    const bytes = this.file.slice(segment.offset, segment.fileSize, `program header ${segment.index} (INTERP)`);
    const nul = bytes.indexOf(0);
    if (nul < 0) {
      throw new ElfError('malformed', 'interpreter path is not NUL-terminated', { where: `program header ${segment.index} (INTERP)`, offset: segment.offset });
    }
    return new TextDecoder().decode(bytes.subarray(0, nul));
  }

  private linkedStrings(section: Section): StringTable {
    const where = describeSection(section);
    const link = this.sections[section.link];
    if (!link || section.link === 0 || link.type !== SectionType.Strtab) {
      throw new ElfError('malformed', `sh_link ${section.link} does not name a string table`, { where, offset: this.header.sectionHeaderOffset + section.index * 64 + 40 });
    }
    return new StringTable(this.file.slice(link.offset, link.size, describeSection(link)), describeSection(link), link.offset);
  }

  private readSectionSymbols(section: Section, kind: 'symtab' | 'dynsym'): ElfSymbol[] {
    return parseSymbolTable(this.file, this.sectionSymbolTable(section, kind));
  }

  private sectionSymbolTable(section: Section, kind: 'symtab' | 'dynsym'): SymbolTableLocation {
    const count = tableEntryCount(section, SYMBOL_SIZE);
    return {
      kind,
      offset: section.offset,
      count,
      strings: this.linkedStrings(section),
      where: describeSection(section),
      sectionCount: this.sections.length,
    };
  }

  /** Where .dynsym is: the section, else (sections stripped) DT_SYMTAB; null when there is none. */
  private dynamicSymbolTable(): SymbolTableLocation | null {
    if (this.dynamicSymbolTableCache === undefined) {
      const dynsymSection = this.sections.find((s) => s.type === SectionType.Dynsym);
      this.dynamicSymbolTableCache = dynsymSection ? this.sectionSymbolTable(dynsymSection, 'dynsym') : this.dynamicSymbolLocation(this.dynamicStrings);
    }
    return this.dynamicSymbolTableCache;
  }

  /** .dynsym without section headers: DT_SYMTAB, counted by the hash table as ld.so would. */
  private dynamicSymbolLocation(strings: StringTable | undefined): SymbolTableLocation | null {
    const address = this.dynamic?.symbolTable;
    if (address === undefined) return null;
    const entrySize = single(this.dynamicEntries, DynamicTag.SymEnt) ?? BigInt(SYMBOL_SIZE);
    if (entrySize !== BigInt(SYMBOL_SIZE)) {
      throw new ElfError('malformed', `DT_SYMENT is ${entrySize}, expected ${SYMBOL_SIZE}`, { where: 'dynamic section' });
    }
    const table = this.gnuHashTable ?? this.sysvHashTable;
    if (!table) {
      throw new ElfError('malformed', 'sections are stripped and there is no DT_GNU_HASH or DT_HASH to count the dynamic symbols', { where: 'dynamic section' });
    }
    if (!strings) throw new ElfError('malformed', 'DT_SYMTAB without DT_STRTAB', { where: 'dynamic section' });
    const count = table.symbolCount;
    const offset = this.addresses.requireOffset(address, BigInt(count) * BigInt(SYMBOL_SIZE), `DT_SYMTAB (${count} symbols)`);
    return { kind: 'dynsym', offset, count, strings, where: 'DT_SYMTAB', sectionCount: 0 };
  }

  /** The version tables, once: `symbolCount` (.dynsym's) checks .gnu.version's size. */
  private versionTables(symbolCount = this.dynamicSymbolTable()?.count ?? 0): VersionTables {
    this.versionCache ??= this.readVersions(symbolCount, this.dynamicStrings);
    return this.versionCache;
  }

  private readVersions(symbolCount: number, dynamicStrings: StringTable | undefined): VersionTables {
    let definitions: VersionDefinition[] = [];
    let requirements: VersionRequirement[] = [];
    let versymOffset: number | undefined;
    if (this.sections.length > 0) {
      for (const section of this.sections) {
        if (section.type === SectionType.GnuVerdef) {
          definitions = parseVersionDefinitions(this.file, section.offset, section.info, this.linkedStrings(section));
        } else if (section.type === SectionType.GnuVerneed) {
          requirements = parseVersionRequirements(this.file, section.offset, section.info, this.linkedStrings(section));
        } else if (section.type === SectionType.GnuVersym) {
          if (tableEntryCount(section, 2) !== symbolCount) {
            throw new ElfError('malformed', `has ${tableEntryCount(section, 2)} entries but .dynsym has ${symbolCount}`, {
              where: describeSection(section),
              offset: section.offset,
            });
          }
          versymOffset = section.offset;
        }
      }
    } else if (this.dynamic && dynamicStrings) {
      const { verDef, verNeed, verSym } = this.dynamic;
      if (verDef) {
        const offset = this.addresses.requireOffset(verDef.address, 20n, 'DT_VERDEF');
        definitions = parseVersionDefinitions(this.file, offset, verDef.count, dynamicStrings);
      }
      if (verNeed) {
        const offset = this.addresses.requireOffset(verNeed.address, 16n, 'DT_VERNEED');
        requirements = parseVersionRequirements(this.file, offset, verNeed.count, dynamicStrings);
      }
      if (verSym !== undefined) {
        versymOffset = this.addresses.requireOffset(verSym, BigInt(symbolCount * 2), 'DT_VERSYM');
      }
    }
    const symbolVersions = versymOffset !== undefined ? symbolVersionTable(this.file, versymOffset, symbolCount, definitions, requirements) : undefined;
    return { definitions, requirements, symbolVersions };
  }

  private readSectionRelocations(): Relocation[] {
    const relocations: Relocation[] = [];
    for (const section of this.sections) {
      if (section.type === SectionType.Rel) {
        throw new ElfError('unsupported', 'SHT_REL relocations (without addend) do not occur on x86-64 and are not supported', {
          where: describeSection(section),
          offset: section.offset,
        });
      }
      if (section.type !== SectionType.Rela) continue;
      const count = tableEntryCount(section, RELA_SIZE);
      let symbols: readonly ElfSymbol[] | undefined;
      if (section.link !== 0) {
        const linked = this.sections[section.link];
        if (linked?.type === SectionType.Symtab) symbols = this.symbols;
        else if (linked?.type === SectionType.Dynsym) symbols = this.dynamicSymbols;
        else {
          throw new ElfError('malformed', `sh_link ${section.link} does not name a symbol table`, { where: describeSection(section), offset: section.offset });
        }
      }
      relocations.push(...parseRelaTable(this.file, section.offset, count, section.name, symbols));
    }
    return relocations;
  }

  /** DT_RELA and DT_JMPREL when section headers are stripped (what ld.so processes). */
  private readDynamicRelocations(): Relocation[] {
    const dynamic = this.dynamic;
    if (!dynamic) return [];
    const relocations: Relocation[] = [];
    const entrySize = single(this.dynamicEntries, DynamicTag.RelaEnt);
    if (entrySize !== undefined && entrySize !== BigInt(RELA_SIZE)) {
      throw new ElfError('malformed', `DT_RELAENT is ${entrySize}, expected ${RELA_SIZE}`, { where: 'dynamic section' });
    }
    const pltKind = single(this.dynamicEntries, DynamicTag.PltRel);
    if (dynamic.jmpRel && pltKind !== undefined && pltKind !== BigInt(DynamicTag.Rela)) {
      throw new ElfError('unsupported', `DT_PLTREL is ${pltKind}; only DT_RELA PLT relocations exist on x86-64`, { where: 'dynamic section' });
    }
    for (const [source, table] of [['DT_RELA', dynamic.rela], ['DT_JMPREL', dynamic.jmpRel]] as const) {
      if (!table || table.size === 0n) continue;
      if (table.size % BigInt(RELA_SIZE) !== 0n) {
        throw new ElfError('malformed', `size ${hex(table.size)} is not a multiple of ${RELA_SIZE}`, { where: source });
      }
      const offset = this.addresses.requireOffset(table.address, table.size, source);
      relocations.push(...parseRelaTable(this.file, offset, Number(table.size / BigInt(RELA_SIZE)), source, this.dynamicSymbols));
    }
    return relocations;
  }

  private readRelr(): bigint[] {
    const section = this.sections.find((s) => s.type === SectionType.Relr);
    if (section) return parseRelrTable(this.file, section.offset, Number(section.size), describeSection(section));
    const relr = this.sections.length === 0 ? this.dynamic?.relr : undefined;
    if (!relr || relr.size === 0n) return [];
    const offset = this.addresses.requireOffset(relr.address, relr.size, 'DT_RELR/DT_RELRSZ');
    return parseRelrTable(this.file, offset, Number(relr.size), 'DT_RELR');
  }

  private readNotes(): Note[] {
    const notes: Note[] = [];
    const noteSegments = this.segments.filter((s) => s.type === SegmentType.Note);
    if (noteSegments.length > 0) {
      for (const s of noteSegments) {
        notes.push(...parseNotes(this.file, s.offset, Number(s.fileSize), Number(s.alignment), `program header ${s.index} (NOTE)`));
      }
    } else {
      for (const s of this.sections.filter((x) => x.type === SectionType.Note)) {
        notes.push(...parseNotes(this.file, s.offset, Number(s.size), Number(s.alignment), describeSection(s)));
      }
    }
    return notes;
  }

  private readFrameRanges(): FrameRange[] {
    const section = this.sectionNamed('.eh_frame');
    if (section && section.type === SectionType.Progbits) {
      return parseFrameRanges(this.file, section.offset, Number(section.size), section.address, describeSection(section));
    }
    // Stripped sections: .eh_frame_hdr (PT_GNU_EH_FRAME) points at .eh_frame, which runs to
    // its terminator inside the same PT_LOAD.
    const header = this.segments.find((s) => s.type === SegmentType.GnuEhFrame);
    if (!header) return [];
    const where = `program header ${header.index} (GNU_EH_FRAME)`;
    const version = this.file.u8(header.offset, where);
    const pointerEncoding = this.file.u8(header.offset + 1, where);
    if (version !== 1 || pointerEncoding !== 0x1b) {
      throw new ElfError('unsupported', `.eh_frame_hdr version ${version} / encoding ${hex(pointerEncoding)} is not supported`, { where, offset: header.offset });
    }
    const frameAddress = BigInt.asUintN(64, header.virtualAddress + 4n + BigInt(this.file.i32(header.offset + 4, where)));
    const offset = this.addresses.requireOffset(frameAddress, 4n, `${where}: eh_frame_ptr`);
    const load = this.addresses.segmentAt(frameAddress);
    const loadEnd = load ? load.offset + Number(load.fileSize) : offset;
    return parseFrameRanges(this.file, offset, loadEnd - offset, frameAddress, `.eh_frame at ${hex(frameAddress)}`);
  }
}

// c++filt expands the standard abbreviations in some places where our demangler keeps
// them short (and spells integer literals differently); compare in one canonical form.
const spaced = (text: string): RegExp => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s*'), 'g');
const STANDARD_ABBREVIATIONS: [RegExp, string][] = [
  [spaced('std::basic_string<char, std::char_traits<char>, std::allocator<char> >'), 'std::string'],
  [spaced('std::basic_ostream<char, std::char_traits<char> >'), 'std::ostream'],
  [spaced('std::basic_istream<char, std::char_traits<char> >'), 'std::istream'],
  [spaced('std::basic_iostream<char, std::char_traits<char> >'), 'std::iostream'],
  // ...and the constructor/destructor names inside them: std::ostream::basic_ostream().
  [/std::(string|ostream|istream|iostream)::(~?)basic_\1\b/g, 'std::$1::$2$1'],
  [/\((?:unsigned long|long|unsigned int|int)\)(-?\d+)/g, '$1'],
  [/decltype\(nullptr\)/g, 'std::nullptr_t'],
  [/\b(-?\d+)(?:ul|l|u)\b/g, '$1'],
];

/**
 * Canonical form of a C++ signature for comparison: standard abbreviations and literal
 * suffixes folded, spaces kept only between identifier characters.
 */
export function normalizeSignature(text: string): string {
  let out = text;
  for (const [pattern, replacement] of STANDARD_ABBREVIATIONS) out = out.replace(pattern, replacement);
  return out
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/ ?([^\w ]) ?/g, '$1');
}

/** `ns::Foo::bar(int) const` -> `ns::Foo::bar`; names without a parameter list are unchanged. */
export function withoutParameters(demangled: string): string {
  if (!demangled.endsWith(')') && !/\)\s*(const|volatile|&|&&|\s)*$/.test(demangled)) return demangled;
  // Find the '(' that opens the outermost trailing parameter list.
  let depth = 0;
  for (let i = demangled.length - 1; i >= 0; i--) {
    const c = demangled[i];
    if (c === ')') depth++;
    else if (c === '(') {
      depth--;
      if (depth === 0) return demangled.slice(0, i);
    }
  }
  return demangled;
}
