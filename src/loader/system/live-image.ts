// What the guest has loaded, read from the live image: the guest ld.so's link map (r_debug via
// main's DT_DEBUG), each object located through the mappings the kernel layer made for its
// file, what the program's own relocations hold now (the binding record PATCH_BINDS_OWN_COPY
// reads), symbolised addresses, and the libc's version string.

import { ElfError, ElfFile } from '../../elf/index.js';
import { hex } from '../error.js';
import type { RelocationBinding } from '../dynamic/bindings.js';
import type { GuestObject } from '../guest-process.js';
import type { MappedImage } from './exec.js';
import type { Kernel } from './kernel.js';

/** A loaded object as the guest's ld.so lists it in its link map (r_debug). */
export interface LinkMapEntry {
  /** l_name: "" for the executable, the path dlopen or DT_NEEDED found it by otherwise. */
  name: string;
  base: bigint;
  dynamic: bigint;
  /** The node's own address (what dlopen returns as the handle). */
  address: bigint;
}

/** An object of the guest's link map, located through the mappings the kernel layer made for its file. */
export class MappedObject implements GuestObject {
  constructor(
    readonly kind: 'executable' | 'library',
    readonly path: string,
    readonly base: bigint,
    readonly elf: ElfFile | undefined,
    private readonly ranges: readonly { begin: bigint; end: bigint }[],
  ) {}

  contains(address: bigint): boolean {
    return this.ranges.some((r) => address >= r.begin && address < r.end);
  }
}

/** Relocation types whose value is a symbol's address: R_X86_64_64, GLOB_DAT, JUMP_SLOT. */
const SYMBOL_RELOCATIONS = new Set([1, 6, 7]);

export class LiveImage {
  private readonly elfCache = new Map<string, ElfFile | null>();

  constructor(
    private readonly kernel: Kernel,
    private readonly main: MappedImage,
  ) {}

  /** The guest ld.so's link map (r_debug.r_map via main's DT_DEBUG), in load order. */
  linkMap(): LinkMapEntry[] {
    const main = this.main;
    const dyn = main.elf.segments.find((s) => s.type === 2);
    if (!dyn) return [];
    let rDebug = 0n;
    for (let at = main.base + dyn.virtualAddress; ; at += 16n) {
      const tag = this.kernel.mem.u64(at);
      if (tag === 0n) break;
      if (tag === 21n) rDebug = this.kernel.mem.u64(at + 8n); // DT_DEBUG
    }
    if (rDebug === 0n) return [];
    const out: LinkMapEntry[] = [];
    for (let l = this.kernel.mem.u64(rDebug + 8n); l !== 0n && out.length < 512; l = this.kernel.mem.u64(l + 24n)) {
      const nameAt = this.kernel.mem.u64(l + 8n);
      out.push({ base: this.kernel.mem.u64(l), name: nameAt === 0n ? '' : this.kernel.mem.cstring(nameAt), dynamic: this.kernel.mem.u64(l + 16n), address: l });
    }
    return out;
  }

  /** The executable, as the kernel mapped it. */
  get executable(): GuestObject {
    const main = this.main;
    return new MappedObject('executable', main.path, main.base, main.elf, this.rangesOf(main.path));
  }

  /** Every object in the guest ld.so's link map (the executable under its own path). */
  get objects(): GuestObject[] {
    return this.linkMap().map((l) => {
      if (l.name === '') return this.executable;
      const canonical = this.canonical(l.name);
      return new MappedObject('library', l.name, l.base, this.elfOf(canonical), this.rangesOf(canonical));
    });
  }

  /**
   * What the symbol relocations of the program's own objects (main, patch.so and other files
   * of the working directory, not the sysroot's libraries) hold now, read from the live image:
   * each value mapped back to the object that contains it.
   */
  get relocationBindings(): RelocationBinding[] {
    const objects = this.objects;
    const owner = (a: bigint): GuestObject | undefined => objects.find((o) => o.contains(a));
    const out: RelocationBinding[] = [];
    for (const o of objects) {
      if (!o.elf || !this.canonical(o.path).startsWith(`${this.kernel.options.cwd}/`)) continue;
      for (const r of o.elf.relocations) {
        if (!r.symbol || !SYMBOL_RELOCATIONS.has(r.type)) continue;
        const at = o.base + r.offset;
        let value: bigint;
        try {
          value = this.kernel.mem.u64(at);
        } catch {
          continue;
        }
        const address = r.type === 1 ? value - r.addend : value;
        const def = value === 0n ? undefined : owner(address);
        const binding: RelocationBinding = { object: o.path, offset: at, type: r.type, typeName: r.typeName, symbol: r.symbol.name, value };
        if (r.symbol.version && r.symbol.version.kind === 'requirement') binding.version = r.symbol.version.name;
        if (def) binding.boundTo = { object: def.path, address, symbol: r.symbol.name };
        out.push(binding);
      }
    }
    return out;
  }

  canonical(path: string): string {
    try {
      return this.kernel.vfs.resolve(path, this.kernel.cwd).path;
    } catch {
      return path;
    }
  }

  private rangesOf(canonicalPath: string): { begin: bigint; end: bigint }[] {
    return this.kernel.space.list().filter((m) => m.name === canonicalPath).map((m) => ({ begin: m.begin, end: m.end }));
  }

  /** The ELF file a mapping or link-map name refers to, parsed from the VFS (cached). */
  elfOf(path: string): ElfFile | undefined {
    if (this.elfCache.has(path)) return this.elfCache.get(path) ?? undefined;
    let elf: ElfFile | null = null;
    try {
      const r = this.kernel.vfs.resolve(path, this.kernel.cwd);
      // One parse per file, whichever name it is asked by (libc.so.6 by its link-map name and its canonical path).
      if (this.elfCache.has(r.path)) elf = this.elfCache.get(r.path)!;
      // Tables on first use: of libc.so.6 a run reads a few symbols and one unwind rule, not 3,000 entries.
      else if (r.node.kind === 'file') elf = ElfFile.parse(this.kernel.vfs.contents(r.node), { lazyTables: true, reuse: true });
      this.elfCache.set(r.path, elf);
    } catch (e) {
      if (!(e instanceof ElfError) && !(e instanceof Error)) throw e;
    }
    this.elfCache.set(path, elf);
    return elf ?? undefined;
  }

  /** "printf+0x1a (/usr/lib/x86_64-linux-gnu/libc.so.6)" for an address. */
  describe(address: bigint): string {
    const m = this.kernel.space.find(address);
    if (!m) return hex(address);
    if (m.name.startsWith('[')) return `${hex(address)} (${m.name})`;
    const first = this.kernel.space.list().find((x) => x.name === m.name)!;
    const elf = this.elfOf(m.name);
    const base = this.main.path === m.name ? this.main.base : first.begin;
    const fn = elf?.functionContaining(address - base);
    if (fn) return `${fn.name}+${hex(address - base - fn.value)} (${m.name})`;
    return `${hex(address)} (${m.name}+${hex(address - base)})`;
  }

  /** "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36" from the loaded libc.so.6, shortened. */
  libcVersion(): string | undefined {
    const libc = this.kernel.space.list().find((m) => /\/libc\.so\.6$/.test(m.name));
    if (!libc) return undefined;
    try {
      const r = this.kernel.vfs.resolve(libc.name, '/');
      if (r.node.kind !== 'file') return undefined;
      // Decoding all of libc.so.6 (2 MB) to search it cost ~80 ms of a cold start: find the bytes
      // first, in .rodata (150 KB) where the banner is when the section headers say so.
      const file = this.kernel.vfs.contents(r.node);
      const rodata = this.elfOf(libc.name)?.sectionNamed('.rodata');
      const bytes = rodata && rodata.offset + Number(rodata.size) <= file.length ? file.subarray(rodata.offset, rodata.offset + Number(rodata.size)) : file;
      const at = indexOfAscii(bytes, 'GNU C Library (');
      if (at < 0) return undefined;
      const text = new TextDecoder('latin1').decode(bytes.subarray(at, at + 200));
      const m = /GNU C Library \(([^)]*)\) [a-z ]*version (\d+\.\d+)/.exec(text);
      return m ? `glibc ${m[2]} (${m[1]})` : undefined;
    } catch {
      return undefined;
    }
  }

}

/** The first offset of an ASCII string in bytes, or -1 (found by its last character, '(' being rarer in code than 'G'). */
function indexOfAscii(bytes: Uint8Array, text: string): number {
  const last = text.length - 1;
  for (let end = bytes.indexOf(text.charCodeAt(last), last); end >= 0; end = bytes.indexOf(text.charCodeAt(last), end + 1)) {
    let i = last - 1;
    while (i >= 0 && bytes[end - last + i] === text.charCodeAt(i)) i--;
    if (i < 0) return end - last;
  }
  return -1;
}
