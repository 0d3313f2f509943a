// Applying one object's dynamic relocations as ld.so's elf_machine_rela does on x86-64.
// Every type the loader does not implement is an explicit LoaderError naming it; nothing
// is silently skipped. IRELATIVE resolvers run in the emulator, so they are returned as
// calls to make after the rest of the object is relocated.

import { RelocationType, SymbolBinding, SymbolType, SymbolVisibility, relocationTypeName, type Relocation } from '../../elf/index.js';
import type { GuestMemory } from '../guest-memory.js';
import { LoaderError, hex } from '../error.js';
import type { RelocationBinding } from './bindings.js';
import type { LoadedObject, SymbolDefinition, SymbolReference } from './loaded-object.js';

/** What relocation needs from the linker. */
export interface RelocationContext {
  mem: GuestMemory;
  /** Symbol lookup in `requester`'s scope; `skipRequester` for COPY; `plt` for JUMP_SLOT. */
  lookup(requester: LoadedObject, ref: SymbolReference, options: { skipRequester?: boolean; plt?: boolean }): SymbolDefinition | undefined;
  /** The address of the sandbox's trap for an import without stub, or undefined when not a system import. */
  trapFor(requester: LoadedObject, ref: SymbolReference, reloc: Relocation, lazy: boolean): bigint | undefined;
  tpOffsetOf(object: LoadedObject): bigint;
  moduleIdOf(object: LoadedObject): bigint;
}

/** A slot whose value a GNU ifunc resolver decides: IRELATIVE, or a reference to an IFUNC symbol. */
export interface IrelativeCall {
  slot: bigint;
  resolver: bigint;
  /** The object whose resolver it is (where its choice is remembered). */
  owner: LoadedObject;
  addend: bigint;
  binding: RelocationBinding;
}

/** Relocates `object`; `lazy`: RTLD_LAZY without BIND_NOW (undefined functions fail at call time). */
export function relocateObject(object: LoadedObject, ctx: RelocationContext, lazy: boolean): { bindings: RelocationBinding[]; irelative: IrelativeCall[] } {
  const elf = object.elf;
  if (!elf) return { bindings: [], irelative: [] };
  const bindings: RelocationBinding[] = [];
  const irelative: IrelativeCall[] = [];
  // DT_RELR (-z pack-relative-relocs) comes first, as in ld.so: each listed word holds a
  // link-time address and gets the load base added. They bind nothing, so no binding record.
  // A slot outside every PT_LOAD: ld.so would fault writing it; here it is a one-line input error.
  const requireInSegment = (offset: bigint, what: string): void => {
    if (!elf.segmentAt(offset) || !elf.segmentAt(offset + 7n)) {
      throw new LoaderError('bad-input', `${object.path}: ${what} at ${hex(offset)} lies outside the object's PT_LOAD segments (ld.so would crash writing it)`);
    }
  };
  for (const address of elf.relativeRelocationAddresses) {
    requireInSegment(address, 'a DT_RELR relocation');
    const slot = object.base + address;
    ctx.mem.writeU64(slot, (ctx.mem.u64(slot) + object.base) & 0xffff_ffff_ffff_ffffn);
  }
  for (const r of dynamicRelocations(object)) {
    if (r.type !== RelocationType.R_X86_64_NONE) requireInSegment(r.offset, `relocation ${relocationTypeName(r.type)}`);
    const slot = object.base + r.offset;
    const binding: RelocationBinding = { object: object.path, offset: slot, type: r.type, typeName: relocationTypeName(r.type), value: 0n };
    const sym = r.symbolIndex !== 0 ? r.symbol : undefined;
    if (sym) {
      binding.symbol = sym.name;
      // A defined symbol's own version counts too (ld.so looks up l_versions[ndx] for any ndx >= 2).
      if (sym.version) binding.version = sym.version.name;
    }
    const resolve = (options: { skipRequester?: boolean; plt?: boolean }): SymbolDefinition | undefined => {
      if (!sym) return undefined;
      if (sym.binding === SymbolBinding.Local) return object.definition(sym);
      const ref: SymbolReference = binding.version ? { name: sym.name, version: binding.version } : { name: sym.name };
      let def = ctx.lookup(object, ref, options);
      // A protected definition in this object binds to itself, whatever the scope says.
      if (sym.sectionIndex !== 0 && sym.visibility === SymbolVisibility.Protected && !options.skipRequester) def = object.definition(sym);
      if (def) binding.boundTo = { object: def.object.path, address: def.address, symbol: def.symbol };
      return def;
    };
    /** An undefined reference: 0 when weak, a trap for an import without stub, else ld.so's error. */
    const unresolvedValue = (): bigint => {
      if (!sym || sym.binding === SymbolBinding.Weak) return 0n;
      const ref: SymbolReference = binding.version ? { name: sym.name, version: binding.version } : { name: sym.name };
      const trap = ctx.trapFor(object, ref, r, lazy && r.type === RelocationType.R_X86_64_JUMP_SLOT);
      if (trap !== undefined) {
        binding.unstubbedImport = true;
        return trap;
      }
      throw new LoaderError('undefined-symbol', `${object.path}: undefined symbol: ${sym.name}${binding.version ? `, version ${binding.version}` : ''}`);
    };
    /**
     * S + A for a symbol reference. For an IFUNC symbol S is what its resolver chose, as ld.so
     * calls it while relocating; undefined when that resolver has yet to run in the emulator
     * (the slot is then written on its return).
     */
    const symbolValue = (options: { plt?: boolean }, addend: bigint): bigint | undefined => {
      const def = resolve(options);
      if (!def) return unresolvedValue() + addend;
      if (def.type !== SymbolType.GnuIfunc || !def.elfSymbol) return def.address + addend;
      const chosen = def.object.ifuncTargets.get(def.address);
      if (chosen !== undefined) return chosen + addend;
      irelative.push({ slot, resolver: def.address, owner: def.object, addend, binding });
      return undefined;
    };
    const writeSymbolValue = (options: { plt?: boolean }, addend: bigint): bigint => {
      const v = symbolValue(options, addend);
      if (v !== undefined) ctx.mem.writeU64(slot, v);
      return v ?? 0n;
    };
    let value: bigint;
    switch (r.type) {
      case RelocationType.R_X86_64_NONE:
        continue;
      case RelocationType.R_X86_64_RELATIVE:
        value = object.base + r.addend;
        binding.boundTo = { object: object.path, address: value, symbol: '' };
        ctx.mem.writeU64(slot, value);
        break;
      case RelocationType.R_X86_64_64:
        value = writeSymbolValue({}, r.addend);
        break;
      case RelocationType.R_X86_64_GLOB_DAT:
        value = writeSymbolValue({}, 0n);
        break;
      case RelocationType.R_X86_64_JUMP_SLOT:
        value = writeSymbolValue({ plt: true }, 0n);
        break;
      case RelocationType.R_X86_64_COPY: {
        const def = resolve({ skipRequester: true });
        if (!def || !sym) throw new LoaderError('undefined-symbol', `${object.path}: undefined symbol: ${sym?.name ?? '?'} (COPY relocation)`);
        const size = sym.size < def.size || def.size === 0n ? sym.size : def.size;
        ctx.mem.write(slot, ctx.mem.read(def.address, Number(size)));
        value = def.address;
        break;
      }
      case RelocationType.R_X86_64_TPOFF64: {
        const def = sym ? resolve({}) : undefined;
        const module = def ? def.object : object;
        const symValue = def ? def.address : 0n;
        value = ctx.tpOffsetOf(module) + symValue + r.addend;
        ctx.mem.writeU64(slot, value);
        break;
      }
      case RelocationType.R_X86_64_DTPMOD64: {
        const def = sym ? resolve({}) : undefined;
        value = ctx.moduleIdOf(def ? def.object : object);
        ctx.mem.writeU64(slot, value);
        break;
      }
      case RelocationType.R_X86_64_DTPOFF64: {
        const def = sym ? resolve({}) : undefined;
        value = (def ? def.address : 0n) + r.addend;
        ctx.mem.writeU64(slot, value);
        break;
      }
      case RelocationType.R_X86_64_IRELATIVE:
        value = object.base + r.addend;
        irelative.push({ slot, resolver: value, owner: object, addend: 0n, binding });
        break;
      default:
        throw new LoaderError(
          'unsupported-relocation',
          `${object.path}: relocation ${relocationTypeName(r.type)} (type ${r.type}) at ${hex(r.offset)} is not supported by the sandbox's loader`,
        );
    }
    binding.value = value;
    bindings.push(binding);
  }
  return { bindings, irelative };
}

/** The relocations ld.so processes: DT_RELA and DT_JMPREL (sections .rela.dyn/.rela.plt). */
function dynamicRelocations(object: LoadedObject): Relocation[] {
  const elf = object.elf!;
  const dyn = elf.dynamic;
  if (!dyn) return [];
  const within = (r: Relocation, table: { address: bigint; size: bigint } | undefined): boolean => {
    if (!table) return false;
    const section = elf.sections.find((s) => s.name === r.source);
    if (!section) return r.source === 'DT_RELA' || r.source === 'DT_JMPREL';
    return section.address >= table.address && section.address < table.address + table.size;
  };
  const rela = elf.relocations.filter((r) => r.source === 'DT_RELA' || within(r, dyn.rela));
  const plt = elf.relocations.filter((r) => r.source === 'DT_JMPREL' || (!rela.includes(r) && within(r, dyn.jmpRel)));
  // ld.so processes DT_RELA before DT_JMPREL; a DT_RELA range may include the PLT one.
  return [...rela, ...plt.filter((r) => !rela.includes(r))];
}
