// An object in the link map: the executable, a dlopen'ed library, or the sandbox's libc
// image (the host stubs). Lookups answer "does this object define `name` (at `version`)",
// with ld.so's rules for versions and default (non-hidden) definitions.

import { SymbolBinding, SymbolType, type ElfFile, type ElfSymbol } from '../../elf/index.js';

export type ObjectKind = 'executable' | 'library' | 'libc-image';

/** A definition found by symbol lookup. */
export interface SymbolDefinition {
  object: LoadedObject;
  /** Absolute run-time address (for TLS symbols: the offset within the module's block). */
  address: bigint;
  symbol: string;
  /** The ELF symbol, absent for the libc image's synthetic definitions. */
  elfSymbol?: ElfSymbol;
  type: number;
  size: bigint;
}

/** What a reference asks for: a name, maybe a version (from .gnu.version_r). */
export interface SymbolReference {
  name: string;
  version?: string;
}

export interface TlsModule {
  moduleId: number;
  /** Offset of the block from the thread pointer (negative: TLS variant II). */
  tpOffset: bigint;
  size: bigint;
}

export class LoadedObject {
  /** dlopen reference count; the executable and the libc image are never unloaded. */
  refCount = 1;
  /** In the global scope (the executable, its needed libraries, RTLD_GLOBAL dlopens). */
  global = false;
  /** Objects in this object's local scope, itself first, breadth-first over DT_NEEDED. */
  localScope: LoadedObject[] = [];
  tls: TlsModule | undefined;
  relocated = false;
  initialized = false;
  /** Its DT_FINI_ARRAY/DT_FINI were handed out (at dlclose or exit); they run once. */
  finalized = false;
  /** GNU ifunc resolver address -> the function it chose (resolvers run once per object, in the emulator). */
  readonly ifuncTargets = new Map<bigint, bigint>();
  /** The [begin, end) span of its mappings. */
  mapStart = 0n;
  mapEnd = 0n;
  private readonly byName = new Map<string, ElfSymbol[]>();
  private readonly synthetic = new Map<string, { address: bigint; type: number; size: bigint }>();

  constructor(
    readonly kind: ObjectKind,
    /** The path it was opened by, as dlopen/link_map l_name shows it. */
    readonly path: string,
    readonly base: bigint,
    readonly elf: ElfFile | undefined,
    /** A handle value for dlopen: a guest address unique to this object. */
    readonly handle: bigint,
  ) {
    if (elf) {
      for (const s of elf.dynamicSymbols) {
        if (s.index === 0 || s.name === '') continue;
        const list = this.byName.get(s.name);
        if (list) list.push(s);
        else this.byName.set(s.name, [s]);
      }
    }
  }

  get name(): string {
    const slash = this.path.lastIndexOf('/');
    return slash >= 0 ? this.path.slice(slash + 1) : this.path;
  }

  contains(address: bigint): boolean {
    return address >= this.mapStart && address < this.mapEnd;
  }

  /** For the libc image: a definition made by the sandbox (a stub entry or a data object). */
  defineSynthetic(name: string, address: bigint, type: number, size: bigint): void {
    this.synthetic.set(name, { address, type, size });
  }

  /**
   * This object's exported definition of `ref`, as ld.so's check_match decides: only global or
   * weak, defined, non-local symbols. A versioned reference needs the same version name unless
   * the definition is unversioned. An unversioned reference (an object built without version
   * information, or dlsym) takes an unversioned definition or, for a relocation, the oldest
   * version (index 2, even hidden: old binaries keep their old ABI); dlsym (`newest`) skips that
   * rule; failing those, the one non-hidden versioned definition if there is exactly one.
   * `allowCanonicalPlt`: an executable's undefined function with a PLT address is the
   * function's address for non-PLT references (function pointer equality).
   */
  lookup(ref: SymbolReference, options: { allowCanonicalPlt?: boolean; newest?: boolean } = {}): SymbolDefinition | undefined {
    const syn = this.synthetic.get(ref.name);
    if (syn) return { object: this, address: syn.address, symbol: ref.name, type: syn.type, size: syn.size };
    const candidates = this.byName.get(ref.name);
    if (!candidates) return undefined;
    let onlyVersioned: ElfSymbol | undefined;
    let versionedCount = 0;
    for (const s of candidates) {
      if (s.binding !== SymbolBinding.Global && s.binding !== SymbolBinding.Weak && s.binding !== SymbolBinding.GnuUnique) continue;
      if (s.sectionIndex === 0) {
        const canonical = options.allowCanonicalPlt && this.kind === 'executable' && s.value !== 0n && s.type === SymbolType.Func;
        if (!canonical) continue;
      }
      if (s.value === 0n && s.type !== SymbolType.Tls && s.sectionIndex !== 0xfff1) continue;
      if (ref.version !== undefined) {
        if (s.version && s.version.name !== ref.version) continue;
        return this.definition(s);
      }
      if (!s.version || s.version.index < (options.newest ? 2 : 3)) return this.definition(s);
      if (!s.version.hidden && versionedCount++ === 0) onlyVersioned = s;
    }
    return versionedCount === 1 && onlyVersioned ? this.definition(onlyVersioned) : undefined;
  }

  definition(s: ElfSymbol): SymbolDefinition {
    const address = s.type === SymbolType.Tls ? s.value : s.sectionIndex === 0xfff1 ? s.value : this.base + s.value;
    return { object: this, address, symbol: s.name, elfSymbol: s, type: s.type, size: s.size };
  }
}
