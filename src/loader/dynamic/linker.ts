// The dynamic linker: maps ELF objects with their segment permissions, relocates them with
// ld.so's scope rules (global scope = the executable and its needed libraries, then
// RTLD_GLOBAL dlopens, in load order; then a dlopen'ed object's local scope; DT_SYMBOLIC
// first searches the object itself), runs nothing itself (initialisers and IRELATIVE
// resolvers are handed back as guest calls), applies RELRO, and answers dlopen/dlsym/
// dlerror/dlclose with glibc's results and error strings.

import { ElfError, ElfFile, ElfType, SegmentType, SymbolType, DynamicFlag, DynamicFlag1, type Relocation, type Segment } from '../../elf/index.js';
import { Perm } from '../../engine/engine.js';
import type { AddressSpace } from '../kernel/address-space.js';
import type { GuestMemory } from '../guest-memory.js';
import { LoaderError, hex } from '../error.js';
import { PAGE, pageDown, pageUp } from '../layout.js';
import type { RelocationBinding } from './bindings.js';
import { LoadedObject, type SymbolDefinition, type SymbolReference } from './loaded-object.js';
import { relocateObject, type IrelativeCall } from './relocate.js';

export const RTLD_LAZY = 0x1;
export const RTLD_NOW = 0x2;
export const RTLD_NOLOAD = 0x4;
export const RTLD_GLOBAL = 0x100;
export const RTLD_NODELETE = 0x1000;
export const RTLD_DEFAULT = 0n;
export const RTLD_NEXT = -1n;

/** Sonames the sandbox's libc image stands in for (their imports are host stubs). */
export const EMULATED_LIBRARIES = [
  'libc.so.6', 'libdl.so.2', 'libpthread.so.0', 'libm.so.6', 'librt.so.1', 'libstdc++.so.6', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2',
];

/** A call the loader needs made in the emulator (an initialiser, an IRELATIVE resolver). */
export interface GuestCall {
  target: bigint;
  args: bigint[];
  purpose: string;
  onReturn?: (rax: bigint) => void;
}

export interface LibraryBytes {
  path: string;
  bytes: Uint8Array;
}

export interface TrapRegistry {
  /** A trap address for an import the sandbox has no stub for. */
  trapFor(symbol: string, requester: string, lazyUndefined: boolean): bigint;
}

export interface TlsAllocator {
  /** Reserves a static TLS block; returns its offset from the thread pointer (negative). */
  allocate(size: bigint, align: bigint, image: Uint8Array): bigint;
  /** The (only) thread's thread pointer, for TLS addresses dlsym returns. */
  readonly threadPointer: bigint;
}

/** The link map at one point, for snapshots: a dlopen after it is undone by restoring it. */
export interface LinkerState {
  objects: {
    object: LoadedObject; refCount: number; global: boolean; localScope: LoadedObject[]; relocated: boolean; initialized: boolean; finalized: boolean;
    ifuncTargets: Map<bigint, bigint>;
  }[];
  /** Shared with the linker: a binding in the list is never changed in place (lazy binding and ifunc resolvers replace it). */
  bindings: RelocationBinding[];
  lastError: string | undefined;
  nextModuleId: number;
  nextHandle: bigint;
}

export class DynamicLinker {
  readonly objects: LoadedObject[] = [];
  readonly bindings: RelocationBinding[] = [];
  private lastError: string | undefined;
  private nextModuleId = 1;
  private nextHandle: bigint;

  constructor(
    private readonly space: AddressSpace,
    private readonly mem: GuestMemory,
    readonly libcImage: LoadedObject,
    private readonly traps: TrapRegistry,
    private readonly tls: TlsAllocator,
    private readonly libraries: readonly LibraryBytes[],
    handleBase: bigint,
  ) {
    this.nextHandle = handleBase;
  }

  saveState(): LinkerState {
    return {
      objects: this.objects.map((object) => ({
        object, refCount: object.refCount, global: object.global, localScope: [...object.localScope],
        relocated: object.relocated, initialized: object.initialized, finalized: object.finalized, ifuncTargets: new Map(object.ifuncTargets),
      })),
      bindings: [...this.bindings],
      lastError: this.lastError,
      nextModuleId: this.nextModuleId,
      nextHandle: this.nextHandle,
    };
  }

  restoreState(state: LinkerState): void {
    this.objects.length = 0;
    for (const saved of state.objects) {
      const o = saved.object;
      o.refCount = saved.refCount;
      o.global = saved.global;
      o.localScope = [...saved.localScope];
      o.relocated = saved.relocated;
      o.initialized = saved.initialized;
      o.finalized = saved.finalized;
      o.ifuncTargets.clear();
      for (const [k, v] of saved.ifuncTargets) o.ifuncTargets.set(k, v);
      this.objects.push(o);
    }
    this.bindings.length = 0;
    this.bindings.push(...state.bindings);
    this.lastError = state.lastError;
    this.nextModuleId = state.nextModuleId;
    this.nextHandle = state.nextHandle;
  }

  get executable(): LoadedObject | undefined {
    return this.objects.find((o) => o.kind === 'executable');
  }

  /** Objects of the global scope in search order. */
  globalScope(): LoadedObject[] {
    return this.objects.filter((o) => o.global);
  }

  objectContaining(address: bigint): LoadedObject | undefined {
    return this.objects.find((o) => o.contains(address));
  }

  objectByHandle(handle: bigint): LoadedObject | undefined {
    return this.objects.find((o) => o.handle === handle && o.refCount > 0);
  }

  /** Maps the executable (PIE at `pieBase`) and puts the libc image after it in the global scope. */
  loadExecutable(bytes: Uint8Array, path: string, pieBase: bigint): LoadedObject {
    const elf = this.parse(bytes, path);
    if (elf.header.type !== ElfType.Executable && elf.header.type !== ElfType.SharedObject) {
      throw new LoaderError('bad-input', `${path}: not an executable (ELF type ${elf.header.type})`);
    }
    const base = elf.header.type === ElfType.SharedObject ? pieBase : 0n;
    if (elf.dynamic && !elf.segments.some((s) => s.type === SegmentType.Interp)) {
      // The kernel starts such a file without ld.so: nothing relocates it and its first library call crashes.
      throw new LoaderError('bad-input', `${path}: has a dynamic section but no PT_INTERP (program interpreter): the kernel would start it without ld.so and it would crash at its first relocated access`);
    }
    const exe = this.mapObject(elf, path, 'executable', base);
    exe.global = true;
    this.libcImage.global = true;
    this.objects.push(this.libcImage);
    exe.localScope = [exe];
    this.loadNeeded(exe, path);
    if (!exe.localScope.includes(this.libcImage)) exe.localScope.push(this.libcImage);
    return exe;
  }

  /**
   * The executable's DT_NEEDED closure at start-up, breadth-first as ld.so builds the global
   * scope: an emulated system library is the libc image; any other is looked for where ld.so
   * looks (DT_RUNPATH, else DT_RPATH, of the object that needs it, `$ORIGIN` expanded) among
   * the supplied library files, mapped and put in the global scope.
   */
  private loadNeeded(exe: LoadedObject, exePath: string): void {
    const queue: { object: LoadedObject; path: string }[] = [{ object: exe, path: exePath }];
    const libcPosition = this.objects.indexOf(this.libcImage);
    this.objects.splice(libcPosition, 1);
    let libcPlaced = false;
    while (queue.length > 0) {
      const { object, path } = queue.shift()!;
      for (const needed of object.elf?.dynamic?.needed ?? []) {
        if (EMULATED_LIBRARIES.includes(needed)) {
          if (!libcPlaced) {
            this.objects.push(this.libcImage);
            libcPlaced = true;
          }
          continue;
        }
        if (this.objects.some((o) => o.kind === 'library' && o.name === needed)) continue;
        const { found, searched } = this.findNeeded(object, path, needed);
        if (!found) {
          const where = searched.length > 0 ? ` (searched ${searched.join(', ')})` : ' (it has no DT_RUNPATH/DT_RPATH)';
          throw new LoaderError('unsupported', `${path} needs ${needed}, which is neither emulated by the sandbox nor supplied as a library${where}: pass it next to the executable`);
        }
        const lib = this.mapObject(this.parse(found.bytes, found.path), found.path, 'library', undefined);
        lib.global = true;
        lib.localScope = [lib, this.libcImage];
        exe.localScope.push(lib);
        queue.push({ object: lib, path: found.path });
      }
    }
    if (!libcPlaced) this.objects.push(this.libcImage);
  }

  /** ld.so's search for a DT_NEEDED name: DT_RUNPATH (else DT_RPATH) of the needing object. */
  private findNeeded(object: LoadedObject, objectPath: string, needed: string): { found: LibraryBytes | undefined; searched: string[] } {
    const dyn = object.elf?.dynamic;
    const list = dyn?.runpath ?? dyn?.rpath;
    const origin = dirname(objectPath);
    const searched: string[] = [];
    if (needed.includes('/')) searched.push(needed);
    else if (list !== undefined) {
      for (const dir of list.split(':')) searched.push(`${dir.replaceAll('${ORIGIN}', origin).replaceAll('$ORIGIN', origin) || '.'}/${needed}`);
    }
    for (const candidate of searched) {
      const found = this.libraries.find((l) => normalize(l.path) === normalize(candidate));
      if (found) return { found: { path: candidate, bytes: found.bytes }, searched };
    }
    return { found: undefined, searched };
  }

  /** Relocates the executable at start-up, its needed libraries first (as ld.so, last loaded first); returns IRELATIVE resolver calls. */
  relocateExecutable(): GuestCall[] {
    const exe = this.executable!;
    const bindNow = true; // ld.so without LD_BIND_NOT resolves data at start-up; see relocateObject
    const calls: GuestCall[] = [];
    const needed = exe.localScope.filter((o) => o.kind === 'library');
    for (const lib of [...needed].reverse()) calls.push(...this.relocate(lib, !bindNow && !this.wantsBindNow(lib)));
    calls.push(...this.relocate(exe, !bindNow && !this.wantsBindNow(exe)));
    return calls;
  }

  /**
   * dlopen(): the handle and the guest calls to make (IRELATIVE resolvers, then DT_INIT and
   * DT_INIT_ARRAY of each new object, dependencies first); or null with dlerror set.
   */
  dlopen(path: string | null, flags: number): { handle: bigint; calls: GuestCall[] } | null {
    this.lastError = undefined;
    if ((flags & (RTLD_LAZY | RTLD_NOW)) === 0) {
      this.lastError = 'invalid mode for dlopen(): Invalid argument';
      return null;
    }
    if (path === null) return { handle: this.executable!.handle, calls: [] };
    const existing = this.objects.find((o) => o.refCount > 0 && o.kind !== 'executable' && (o.path === path || o.name === basename(path) && o.kind === 'libc-image'));
    if (existing || EMULATED_LIBRARIES.includes(basename(path))) {
      const obj = existing ?? this.libcImage;
      if (obj.kind !== 'libc-image') obj.refCount++;
      if (flags & RTLD_GLOBAL) obj.global = true;
      return { handle: obj.handle, calls: [] };
    }
    if (flags & RTLD_NOLOAD) return { handle: 0n, calls: [] };
    const bytes = this.findLibrary(path);
    if (!bytes) {
      this.lastError = `${path}: cannot open shared object file: No such file or directory`;
      return null;
    }
    const created: LoadedObject[] = [];
    try {
      const elf = this.parse(bytes, path);
      if (elf.header.type !== ElfType.SharedObject) {
        this.lastError = `${path}: cannot dynamically load executable`;
        return null;
      }
      if (elf.dynamic?.pie) {
        // glibc 2.30+ (_dl_map_object_from_fd): a PIE is an ET_DYN that dlopen must refuse.
        this.lastError = `${path}: cannot dynamically load position-independent executable`;
        return null;
      }
      const obj = this.mapObject(elf, path, 'library', undefined);
      created.push(obj);
      obj.global = (flags & RTLD_GLOBAL) !== 0;
      obj.localScope = [obj];
      for (const needed of elf.dynamic?.needed ?? []) {
        if (EMULATED_LIBRARIES.includes(needed)) {
          if (!obj.localScope.includes(this.libcImage)) obj.localScope.push(this.libcImage);
          continue;
        }
        const dep = this.objects.find((o) => o.name === needed && o.refCount > 0);
        if (dep) {
          dep.refCount++;
          obj.localScope.push(dep);
          continue;
        }
        this.lastError = `${needed}: cannot open shared object file: No such file or directory`;
        this.unmapObjects(created);
        return null;
      }
      const lazy = (flags & RTLD_NOW) === 0 && !this.wantsBindNow(obj);
      const calls = this.relocate(obj, lazy);
      calls.push(...this.initCalls(obj));
      return { handle: obj.handle, calls };
    } catch (e) {
      if (e instanceof LoaderError && e.problem === 'undefined-symbol') {
        // glibc: "<path>: undefined symbol: <name>"; the object is unloaded again.
        this.lastError = e.message;
        this.unmapObjects(created);
        return null;
      }
      if (e instanceof ElfError) {
        this.lastError = `${path}: invalid ELF header`;
        this.unmapObjects(created);
        return null;
      }
      throw e;
    }
  }

  /** dlsym(): the address, or null with dlerror set as glibc words it. */
  dlsym(handle: bigint, name: string, callerAddress: bigint): bigint | null {
    return this.dlvsym(handle, name, undefined, callerAddress);
  }

  /** dlvsym() (dlsym when `version` is undefined): the address, or null with dlerror set as glibc words it. */
  dlvsym(handle: bigint, name: string, version: string | undefined, callerAddress: bigint): bigint | null {
    this.lastError = undefined;
    const ref: SymbolReference = version === undefined ? { name } : { name, version };
    // dlsym wants the newest interface (DL_LOOKUP_RETURN_NEWEST), not the oldest version.
    const options = { newest: true };
    let def: SymbolDefinition | undefined;
    let where: string;
    if (handle === RTLD_DEFAULT) {
      const caller = this.objectContaining(callerAddress) ?? this.executable!;
      def = this.lookupInScope(this.scopeOf(caller), ref, options);
      where = '';
    } else if (BigInt.asIntN(64, handle) === RTLD_NEXT) {
      const caller = this.objectContaining(callerAddress);
      const scope = this.globalScope();
      const start = caller ? scope.indexOf(caller) : -1;
      def = this.lookupInScope(start >= 0 ? scope.slice(start + 1) : [], ref, options);
      where = 'RTLD_NEXT: ';
    } else {
      const obj = this.objectByHandle(handle);
      if (!obj) {
        this.lastError = 'invalid handle';
        return null;
      }
      const scope = obj.kind === 'executable' ? this.scopeOf(obj) : obj.localScope;
      def = this.lookupInScope(scope, ref, options);
      where = `${obj.kind === 'executable' ? '' : obj.path + ': '}`;
    }
    if (!def) {
      this.lastError = `${where}undefined symbol: ${name}${version !== undefined ? `, version ${version}` : ''}`;
      return null;
    }
    return this.symbolValue(def);
  }

  /** Re-arms the error after a stub peeked at it to record an event. */
  setError(message: string): void {
    this.lastError = message;
  }

  /** dlerror(): the last error, cleared by reading, as glibc does. */
  dlerror(): string | undefined {
    const e = this.lastError;
    this.lastError = undefined;
    return e;
  }

  /**
   * dlclose() without running anything: the reference count only. See dlcloseCalls for the
   * destructors glibc runs when the count reaches 0.
   */
  dlclose(handle: bigint): number {
    return this.dlcloseCalls(handle).result;
  }

  /**
   * dlclose(): 0 or -1 with dlerror set, and the destructors to run when the count reaches 0
   * (DT_FINI_ARRAY last entry first, then DT_FINI; then those of dependencies it held last).
   * Unloading itself is deferred: mappings stay, as with a patch still referenced, so the
   * verifier sees a jump into a closed object as a dangling target rather than a crash.
   */
  dlcloseCalls(handle: bigint): { result: number; calls: GuestCall[] } {
    const obj = this.objectByHandle(handle);
    if (!obj) {
      this.lastError = 'shared object not open';
      return { result: -1, calls: [] };
    }
    const calls: GuestCall[] = [];
    const release = (o: LoadedObject): void => {
      if (o.kind !== 'library' || o.refCount === 0) return;
      o.refCount--;
      if (o.refCount > 0) return;
      calls.push(...this.objectFiniCalls(o));
      for (const dep of o.localScope) if (dep !== o) release(dep);
    };
    release(obj);
    return { result: 0, calls };
  }

  /**
   * _dl_fini at exit, after the atexit handlers: the destructors of every initialised object
   * still open, in glibc's order (the executable first, then the others in load order with an
   * object before the dependencies it needs: the reverse-postorder of a depth-first walk from
   * the last loaded, as _dl_sort_maps builds for fini; measured natively on glibc 2.36).
   */
  finiCalls(): GuestCall[] {
    const open = this.objects.filter((o) => o.elf && o.refCount > 0);
    const order: LoadedObject[] = [];
    const seen = new Set<LoadedObject>();
    const visit = (o: LoadedObject): void => {
      if (seen.has(o)) return;
      seen.add(o);
      for (const dep of o.localScope) if (dep !== o && open.includes(dep)) visit(dep);
      order.unshift(o);
    };
    const exe = open.filter((o) => o.kind === 'executable');
    const rest = open.filter((o) => o.kind !== 'executable');
    for (let i = rest.length - 1; i >= 0; i--) visit(rest[i]!);
    return [...exe, ...order].flatMap((o) => this.objectFiniCalls(o));
  }

  private objectFiniCalls(obj: LoadedObject): GuestCall[] {
    const dyn = obj.elf?.dynamic;
    if (!dyn || !obj.initialized || obj.finalized) return [];
    obj.finalized = true;
    const calls: GuestCall[] = [];
    if (dyn.finiArray) {
      for (let i = dyn.finiArray.size / 8n - 1n; i >= 0n; i--) {
        const fn = this.mem.u64(obj.base + dyn.finiArray.address + i * 8n);
        if (fn !== 0n && fn !== 0xffffffffffffffffn) calls.push({ target: fn, args: [], purpose: `DT_FINI_ARRAY[${i}] of ${obj.path}` });
      }
    }
    if (dyn.fini) calls.push({ target: obj.base + dyn.fini, args: [], purpose: `DT_FINI of ${obj.path}` });
    return calls;
  }

  /**
   * _dl_fixup for a function RTLD_LAZY left unbound (its PLT slots hold `trap`): the lookup
   * is made now, in the requester's scope, so a library loaded since (RTLD_GLOBAL) can define
   * it. On success the slots are rebound and the function's address returned.
   */
  bindLazily(requesterPath: string, symbol: string, trap: bigint): bigint | undefined {
    const requester = this.objects.find((o) => o.path === requesterPath && o.refCount > 0);
    if (!requester) return undefined;
    let target: bigint | undefined;
    for (let i = 0; i < this.bindings.length; i++) {
      const b = this.bindings[i]!;
      if (b.object !== requesterPath || b.symbol !== symbol || !b.unstubbedImport || b.value !== trap) continue;
      const def = this.lookup(requester, b.version !== undefined ? { name: symbol, version: b.version } : { name: symbol }, { plt: true });
      if (!def) return undefined;
      target = this.symbolValue(def);
      this.mem.writeU64(b.offset, target);
      // Replaced, not changed in place: saved states share the binding objects.
      const { unstubbedImport: _, ...bound } = b;
      this.bindings[i] = { ...bound, value: target, boundTo: { object: def.object.path, address: def.address, symbol: def.symbol } };
    }
    return target;
  }

  /** Symbol lookup for relocations of `requester`, as ld.so's _dl_lookup_symbol_x. */
  lookup(requester: LoadedObject, ref: SymbolReference, options: { skipRequester?: boolean; plt?: boolean }): SymbolDefinition | undefined {
    const scope = this.scopeOf(requester);
    return this.lookupInScope(options.skipRequester ? scope.filter((o) => o !== requester) : scope, ref, options);
  }

  moduleIdOf(object: LoadedObject): bigint {
    if (!object.tls) throw new LoaderError('bad-input', `${object.path}: TLS relocation but no PT_TLS segment`);
    return BigInt(object.tls.moduleId);
  }

  tpOffsetOf(object: LoadedObject): bigint {
    if (!object.tls) throw new LoaderError('bad-input', `${object.path}: TLS relocation but no PT_TLS segment`);
    return object.tls.tpOffset;
  }

  /** Objects with a TLS module id, for __tls_get_addr. */
  tlsModule(moduleId: bigint): LoadedObject | undefined {
    return this.objects.find((o) => o.tls && BigInt(o.tls.moduleId) === moduleId);
  }

  private scopeOf(requester: LoadedObject): LoadedObject[] {
    const scope: LoadedObject[] = [];
    const add = (o: LoadedObject): void => {
      if (!scope.includes(o) && o.refCount > 0) scope.push(o);
    };
    if (requester.elf && this.isSymbolic(requester)) add(requester);
    for (const o of this.globalScope()) add(o);
    for (const o of requester.localScope) add(o);
    return scope;
  }

  private lookupInScope(scope: readonly LoadedObject[], ref: SymbolReference, options: { plt?: boolean; newest?: boolean }): SymbolDefinition | undefined {
    for (const o of scope) {
      const def = o.lookup(ref, { allowCanonicalPlt: !options.plt, newest: options.newest ?? false });
      if (def) return def;
    }
    return undefined;
  }

  private isSymbolic(o: LoadedObject): boolean {
    const dyn = o.elf?.dynamic;
    return !!dyn && ((dyn.flags & DynamicFlag.Symbolic) !== 0 || o.elf!.dynamicEntries.some((e) => e.tag === 16));
  }

  private wantsBindNow(o: LoadedObject): boolean {
    const dyn = o.elf?.dynamic;
    return !!dyn && (dyn.bindNow || (dyn.flags & DynamicFlag.BindNow) !== 0 || (dyn.flags1 & DynamicFlag1.Now) !== 0);
  }

  private relocate(obj: LoadedObject, lazy: boolean): GuestCall[] {
    const { bindings, irelative } = relocateObject(obj, {
      mem: this.mem,
      lookup: (r, ref, opts) => this.lookup(r, ref, opts),
      trapFor: (r, ref, reloc, lazyUndefined) => this.trapForImport(r, ref, reloc, lazyUndefined),
      tpOffsetOf: (o) => this.tpOffsetOf(o),
      moduleIdOf: (o) => this.moduleIdOf(o),
    }, lazy);
    this.bindings.push(...bindings);
    obj.relocated = true;
    this.applyRelro(obj);
    return this.ifuncResolverCalls(obj, irelative);
  }

  /**
   * One guest call per ifunc resolver: its choice fills every slot waiting for it and is
   * remembered, so dlsym of an exported IFUNC symbol returns the chosen function as ld.so's
   * does. Exported ifuncs nothing references yet are resolved now too, for that dlsym.
   */
  private ifuncResolverCalls(obj: LoadedObject, slots: readonly IrelativeCall[]): GuestCall[] {
    const byResolver = new Map<bigint, { owner: LoadedObject; slots: IrelativeCall[] }>();
    for (const s of slots) {
      const entry = byResolver.get(s.resolver);
      if (entry) entry.slots.push(s);
      else byResolver.set(s.resolver, { owner: s.owner, slots: [s] });
    }
    for (const sym of obj.elf?.dynamicSymbols ?? []) {
      if (sym.type !== SymbolType.GnuIfunc || sym.sectionIndex === 0) continue;
      const resolver = obj.base + sym.value;
      if (!byResolver.has(resolver) && !obj.ifuncTargets.has(resolver)) byResolver.set(resolver, { owner: obj, slots: [] });
    }
    return [...byResolver].map(([resolver, { owner, slots: waiting }]): GuestCall => ({
      target: resolver,
      args: [],
      purpose: `ifunc resolver at ${hex(resolver)} for ${owner.path}`,
      onReturn: (chosen) => {
        owner.ifuncTargets.set(resolver, chosen);
        for (const s of waiting) {
          // RELRO may cover the slot; the write ignores page permissions like ld.so's relocation pass.
          this.mem.writeU64(s.slot, chosen + s.addend);
          // Replaced, not changed in place: saved states share the binding objects.
          const at = this.bindings.indexOf(s.binding);
          s.binding = { ...s.binding, value: chosen + s.addend };
          if (at >= 0) this.bindings[at] = s.binding;
        }
      },
    }));
  }

  /** The address dlsym returns for a definition: an ifunc's choice, a TLS variable in this thread's block. */
  private symbolValue(def: SymbolDefinition): bigint {
    if (def.type === SymbolType.Tls && def.object.tls) return this.tls.threadPointer + def.object.tls.tpOffset + def.address;
    if (def.type === SymbolType.GnuIfunc && def.elfSymbol) return def.object.ifuncTargets.get(def.address) ?? def.address;
    return def.address;
  }

  /** A trap for an import from an emulated system library; undefined for a genuinely undefined symbol. */
  private trapForImport(requester: LoadedObject, ref: SymbolReference, reloc: Relocation, lazyUndefined: boolean): bigint | undefined {
    const file = reloc.symbol?.version?.file;
    const fromSystem = file !== undefined ? EMULATED_LIBRARIES.includes(file) : requester.kind === 'executable';
    if (fromSystem) return this.traps.trapFor(ref.name, requester.path, false);
    if (lazyUndefined) return this.traps.trapFor(ref.name, requester.path, true);
    return undefined;
  }

  private initCalls(obj: LoadedObject): GuestCall[] {
    const dyn = obj.elf?.dynamic;
    if (!dyn) return [];
    const calls: GuestCall[] = [];
    if (dyn.init) calls.push({ target: obj.base + dyn.init, args: [], purpose: `DT_INIT of ${obj.path}` });
    if (dyn.initArray) {
      for (let i = 0n; i < dyn.initArray.size / 8n; i++) {
        const fn = this.mem.u64(obj.base + dyn.initArray.address + i * 8n);
        if (fn !== 0n && fn !== 0xffffffffffffffffn) calls.push({ target: fn, args: [], purpose: `DT_INIT_ARRAY[${i}] of ${obj.path}` });
      }
    }
    obj.initialized = true;
    return calls;
  }

  /** Guest calls for the executable's initialisers (run by __libc_start_main, with argc/argv/envp). */
  executableInitCalls(argc: bigint, argv: bigint, envp: bigint): GuestCall[] {
    const exe = this.executable!;
    const dyn = exe.elf?.dynamic;
    // _dl_init runs the needed libraries' initialisers (dependencies first) before the executable's.
    const calls: GuestCall[] = exe.localScope.filter((o) => o.kind === 'library' && !o.initialized).reverse().flatMap((o) => this.initCalls(o));
    const arrayCalls = (table: { address: bigint; size: bigint } | undefined, label: string): void => {
      if (!table) return;
      for (let i = 0n; i < table.size / 8n; i++) {
        const fn = this.mem.u64(exe.base + table.address + i * 8n);
        if (fn !== 0n && fn !== 0xffffffffffffffffn) calls.push({ target: fn, args: [argc, argv, envp], purpose: `${label}[${i}] of ${exe.path}` });
      }
    };
    arrayCalls(dyn?.preinitArray, 'DT_PREINIT_ARRAY');
    if (dyn?.init) calls.push({ target: exe.base + dyn.init, args: [argc, argv, envp], purpose: `DT_INIT of ${exe.path}` });
    arrayCalls(dyn?.initArray, 'DT_INIT_ARRAY');
    exe.initialized = true;
    return calls;
  }

  private parse(bytes: Uint8Array, path: string): ElfFile {
    try {
      return ElfFile.parse(bytes, { reuse: true });
    } catch (e) {
      if (e instanceof ElfError) throw new LoaderError('bad-input', `${path}: ${e.message}`);
      throw e;
    }
  }

  private findLibrary(path: string): Uint8Array | undefined {
    const exact = this.libraries.find((l) => l.path === path);
    if (exact) return exact.bytes;
    // "./patch.so", "/srv/app/patch.so" and "patch.so" all name the supplied patch.so.
    const base = basename(path);
    return this.libraries.find((l) => basename(l.path) === base)?.bytes;
  }

  /** Maps PT_LOAD segments (pages shared by two segments get both permissions), PT_TLS, and the object record. */
  private mapObject(elf: ElfFile, path: string, kind: 'executable' | 'library', fixedBase: bigint | undefined): LoadedObject {
    const loads = elf.segments.filter((s) => s.type === SegmentType.Load);
    if (loads.length === 0) throw new LoaderError('bad-input', `${path}: no PT_LOAD segment`);
    const low = pageDown(loads.reduce((m, s) => (s.virtualAddress < m ? s.virtualAddress : m), loads[0]!.virtualAddress));
    const high = pageUp(loads.reduce((m, s) => (s.virtualAddress + s.memorySize > m ? s.virtualAddress + s.memorySize : m), 0n));
    this.checkSegmentSizes(loads, path, low, high, fixedBase);
    const base = fixedBase ?? this.space.reserve(high - low) - low;
    const runs = permissionRuns(loads);
    // Map writable first so file bytes can be placed, then set the final permissions per run of pages.
    for (const r of runs) this.space.mapFixed(base + r.begin, r.end - r.begin, Perm.RW, path);
    for (const s of loads) {
      if (s.fileSize > 0n) this.mem.write(base + s.virtualAddress, elf.bytes.subarray(s.offset, s.offset + Number(s.fileSize)));
    }
    for (const r of runs) this.space.mprotectInternal(base + r.begin, r.end - r.begin, r.perms);
    const handle = this.nextHandle;
    this.nextHandle += 0x10n;
    const obj = new LoadedObject(kind, path, base, elf, handle);
    obj.mapStart = base + low;
    obj.mapEnd = base + high;
    const tlsSeg = elf.segments.find((s) => s.type === SegmentType.Tls);
    if (tlsSeg) {
      const image = elf.bytes.subarray(tlsSeg.offset, tlsSeg.offset + Number(tlsSeg.fileSize));
      const tpOffset = this.tls.allocate(tlsSeg.memorySize, tlsSeg.alignment === 0n ? 1n : tlsSeg.alignment, image);
      obj.tls = { moduleId: this.nextModuleId++, tpOffset, size: tlsSeg.memorySize };
    }
    this.objects.push(obj);
    return obj;
  }

  /**
   * Before anything is mapped: the object's segments must fit the user address space at their
   * load address and the guest's address-space limit, naming the segment that does not.
   */
  private checkSegmentSizes(loads: readonly Segment[], path: string, low: bigint, high: bigint, fixedBase: bigint | undefined): void {
    const biggest = loads.reduce((a, b) => (b.memorySize > a.memorySize ? b : a));
    const name = (s: Segment): string => `program header ${s.index} (PT_LOAD at ${hex(s.virtualAddress)}, p_memsz ${hex(s.memorySize)})`;
    const limit = BigInt(this.space.reservationLimit);
    if (high - low > limit) {
      throw new LoaderError('limit', `${path}: ${name(biggest)}: the PT_LOAD segments span ${hex(high - low)} bytes, more than the guest's address-space limit of ${hex(limit)} bytes (--max-memory)`);
    }
    if (fixedBase !== undefined) {
      const last = loads.reduce((a, b) => (b.virtualAddress + b.memorySize > a.virtualAddress + a.memorySize ? b : a));
      if (fixedBase + high > 1n << 47n) {
        throw new LoaderError('bad-input', `${path}: ${name(last)}: loaded at ${hex(fixedBase)} it ends at ${hex(fixedBase + high)}, beyond the 47-bit user address space`);
      }
    }
  }

  /** PT_GNU_RELRO: read-only once relocated, as ld.so's _dl_protect_relro (page-rounded down at both ends). */
  private applyRelro(obj: LoadedObject): void {
    const relro = obj.elf?.segments.find((s) => s.type === SegmentType.GnuRelro);
    if (!relro) return;
    const start = pageDown(obj.base + relro.virtualAddress);
    const end = pageDown(obj.base + relro.virtualAddress + relro.memorySize);
    if (end > start) this.space.mprotectInternal(start, end - start, Perm.Read);
  }

  private unmapObjects(objs: LoadedObject[]): void {
    for (const o of objs) {
      o.refCount = 0;
      this.space.munmap(o.mapStart, o.mapEnd - o.mapStart);
      const i = this.objects.indexOf(o);
      if (i >= 0) this.objects.splice(i, 1);
    }
  }
}

/**
 * The pages PT_LOAD segments cover, in runs of equal permissions (a page shared by two segments
 * gets both): computed from the segments' boundaries, so a huge p_memsz costs nothing here.
 */
function permissionRuns(loads: readonly Segment[]): { begin: bigint; end: bigint; perms: Perm }[] {
  const ranges = loads.map((s) => ({
    begin: pageDown(s.virtualAddress),
    end: pageUp(s.virtualAddress + s.memorySize),
    perms: ((s.readable ? Perm.Read : 0) | (s.writable ? Perm.Write : 0) | (s.executable ? Perm.Exec : 0)) as Perm,
  })).filter((r) => r.end > r.begin);
  const cuts = [...new Set(ranges.flatMap((r) => [r.begin, r.end]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const runs: { begin: bigint; end: bigint; perms: Perm }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const begin = cuts[i]!;
    const end = cuts[i + 1]!;
    const covering = ranges.filter((r) => r.begin <= begin && end <= r.end);
    if (covering.length === 0) continue;
    const perms = covering.reduce<number>((p, r) => p | r.perms, 0) as Perm;
    const prev = runs[runs.length - 1];
    if (prev && prev.end === begin && prev.perms === perms) prev.end = end;
    else runs.push({ begin, end, perms });
  }
  return runs;
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash > 0 ? path.slice(0, slash) : slash === 0 ? '/' : '.';
}

/** "./a/../b//c" and "b/c" name the same supplied file. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  return (path.startsWith('/') ? '/' : '') + parts.join('/');
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}
