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
   * weak, defined, non-local symbols; a versioned reference needs the same version name unless
   * the definition is unversioned; an unversioned reference takes the default (non-hidden) one.
   * `allowCanonicalPlt`: an executable's undefined function with a PLT address is the
   * function's address for non-PLT references (function pointer equality).
   */
  lookup(ref: SymbolReference, allowCanonicalPlt = false): SymbolDefinition | undefined {
    const syn = this.synthetic.get(ref.name);
    if (syn) return { object: this, address: syn.address, symbol: ref.name, type: syn.type, size: syn.size };
    const candidates = this.byName.get(ref.name);
    if (!candidates) return undefined;
    let fallback: ElfSymbol | undefined;
    for (const s of candidates) {
      if (s.binding !== SymbolBinding.Global && s.binding !== SymbolBinding.Weak && s.binding !== SymbolBinding.GnuUnique) continue;
      if (s.sectionIndex === 0) {
        const canonical = allowCanonicalPlt && this.kind === 'executable' && s.value !== 0n && s.type === SymbolType.Func;
        if (!canonical) continue;
      }
      if (s.value === 0n && s.type !== SymbolType.Tls && s.sectionIndex !== 0xfff1) continue;
      if (ref.version !== undefined) {
        if (s.version && s.version.name !== ref.version) continue;
        return this.definition(s);
      }
      if (s.version?.hidden) {
        fallback ??= s;
        continue;
      }
      return this.definition(s);
    }
    // Only a hidden version exists: ld.so accepts it for the base version index 2 (newest).
    if (fallback && fallback.version && fallback.version.index === 2) return this.definition(fallback);
    return undefined;
  }

  definition(s: ElfSymbol): SymbolDefinition {
    const address = s.type === SymbolType.Tls ? s.value : s.sectionIndex === 0xfff1 ? s.value : this.base + s.value;
    return { object: this, address, symbol: s.name, elfSymbol: s, type: s.type, size: s.size };
  }
}
