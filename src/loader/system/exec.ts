// Kernel-style exec for the system model, as binfmt_elf's load_elf_binary does it: map the
// executable's PT_LOAD segments (a PIE at the no-ASLR base), map its PT_INTERP (ld.so) from
// the VFS at the top of the mmap area, set the program break after the executable, build the
// initial stack (argc, argv, envp, auxv with no vDSO), and point rip at ld.so's entry.

import { Perm } from '../../engine/engine.js';
import { ElfError, ElfFile, type ParseOptions } from '../../elf/index.js';
import { encodeUtf8 } from '../guest-memory.js';
import { LoaderError, hex } from '../error.js';
import { PAGE, PIE_BASE, STACK_SIZE, STACK_TOP, pageDown, pageUp } from '../layout.js';
import { VfsError } from './vfs.js';
import type { Kernel } from './kernel.js';
import { writeStartTable } from '../startup-stack.js';

export const AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
  AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
  AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51;

/**
 * AT_HWCAP is cpuid leaf 1's edx on x86: the core's model (wasm/assembly/system.ts cpuid) has
 * FPU, TSC, CX8, CMOV, MMX, FXSR, SSE, SSE2. AT_HWCAP2 0: no FSGSBASE, no ring-3 mwait.
 */
const HWCAP = (1n << 0n) | (1n << 4n) | (1n << 8n) | (1n << 15n) | (1n << 23n) | (1n << 24n) | (1n << 25n) | (1n << 26n);
/** The kernel's signal frame minimum for an fxsave (no xsave) CPU, rounded up. */
const MINSIGSTKSZ = 2048n;
const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6;
const ET_EXEC = 2;

/** One ELF image the kernel mapped. */
export interface MappedImage {
  path: string;
  elf: ElfFile;
  /** Load bias: run-time address minus link-time address. */
  base: bigint;
  entry: bigint;
  /** Run-time address of the program headers. */
  phdr: bigint;
  /** End of the highest segment (for the program break). */
  end: bigint;
}

export interface ExecResult {
  main: MappedImage;
  interpreter: MappedImage | undefined;
  rsp: bigint;
  rip: bigint;
  /** AT_RANDOM's 16 bytes (the stack protector canary and pointer guard come from them). */
  random: Uint8Array;
}

/** `lazyTables` for the sysroot's interpreter: exec maps its segments, ld.so reads its own tables. */
function parse(bytes: Uint8Array, path: string, options: ParseOptions = {}): ElfFile {
  try {
    return ElfFile.parse(bytes, { reuse: true, ...options });
  } catch (e) {
    if (e instanceof ElfError) throw new LoaderError('bad-input', `${path} is not a loadable ELF file: ${e.message}`);
    throw e;
  }
}

function readVfsFile(k: Kernel, path: string, cwd: string, role: string): { bytes: Uint8Array; path: string } {
  try {
    const r = k.vfs.resolve(path, cwd);
    if (r.node.kind !== 'file') throw new LoaderError('bad-input', `${role} ${path} is not a regular file in the sandbox's file system`);
    return { bytes: k.vfs.contents(r.node), path: r.path };
  } catch (e) {
    if (e instanceof VfsError) throw new LoaderError('bad-input', `${role} ${path} is not in the sandbox's file system (${e.message}); is the sysroot right (--sysroot)?`);
    throw e;
  }
}

/** Maps an image's PT_LOAD segments at `bias` as the kernel's elf_map does (file pages, then zeroed bss). */
function mapImage(k: Kernel, elf: ElfFile, path: string, bias: bigint): MappedImage {
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  if (loads.length === 0) throw new LoaderError('bad-input', `${path} has no PT_LOAD segment`);
  let end = 0n;
  for (const s of loads) {
    const start = pageDown(bias + s.virtualAddress);
    const stop = pageUp(bias + s.virtualAddress + s.memorySize);
    const perms = (s.readable ? Perm.Read : 0) | (s.writable ? Perm.Write : 0) | (s.executable ? Perm.Exec : 0);
    k.space.mapFixed(start, stop - start, perms as Perm, path);
    // The file's bytes from the page holding the segment start, as a file mapping shows them; the rest stays zero.
    const fileStart = s.offset - Number((bias + s.virtualAddress) - start);
    const fileEnd = s.offset + Number(s.fileSize);
    if (fileStart < 0 || fileEnd > elf.bytes.length) throw new LoaderError('bad-input', `${path}: segment ${s.index} lies outside the file`);
    k.mem.write(start, elf.bytes.subarray(fileStart, fileEnd));
    if (bias + s.virtualAddress + s.memorySize > end) end = bias + s.virtualAddress + s.memorySize;
  }
  const phdrSeg = elf.segments.find((s) => s.type === PT_PHDR);
  const first = loads[0]!;
  const phdr = bias + (phdrSeg ? phdrSeg.virtualAddress : first.virtualAddress - BigInt(first.offset) + BigInt(elf.header.programHeaderOffset));
  return { path, elf, base: bias, entry: bias + elf.header.entry, phdr, end };
}

function span(elf: ElfFile): bigint {
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  const lo = pageDown(loads[0]!.virtualAddress);
  const hi = loads.reduce((m, s) => (s.virtualAddress + s.memorySize > m ? s.virtualAddress + s.memorySize : m), 0n);
  return pageUp(hi) - lo;
}

export interface ExecOptions {
  /** The executable's path in the VFS (relative to the working directory or absolute). */
  path: string;
  argv: readonly string[];
  envp: readonly string[];
}

/** execve(path, argv, envp) into a fresh address space. */
export function exec(k: Kernel, options: ExecOptions): ExecResult {
  const file = readVfsFile(k, options.path, k.cwd, 'the executable');
  const elf = parse(file.bytes, options.path);
  const bias = elf.header.type === ET_EXEC ? 0n : PIE_BASE;
  const main = mapImage(k, elf, file.path, bias);

  let interpreter: MappedImage | undefined;
  const interp = elf.segments.find((s) => s.type === PT_INTERP);
  if (interp && elf.interpreter) {
    const ld = readVfsFile(k, elf.interpreter, '/', 'the interpreter (PT_INTERP)');
    const ldElf = parse(ld.bytes, elf.interpreter, { lazyTables: true });
    if (ldElf.header.type === ET_EXEC) throw new LoaderError('bad-input', `the interpreter ${elf.interpreter} is not position-independent`);
    // The kernel maps the interpreter with a plain mmap: the top of the mmap area.
    const base = k.space.reserve(span(ldElf));
    interpreter = mapImage(k, ldElf, ld.path, base);
  }

  k.brkStart = pageUp(main.end);
  k.brk = k.brkStart;

  k.space.mapFixed(STACK_TOP - BigInt(STACK_SIZE), BigInt(STACK_SIZE), Perm.RW, '[stack]');
  const random = k.random.bytes(16);
  const rsp = buildStack(k, options, main, interpreter, random);
  const rip = interpreter ? interpreter.entry : main.entry;
  if (rip === 0n) throw new LoaderError('bad-input', `${options.path} has no entry point (${hex(rip)})`);
  return { main, interpreter, rsp, rip, random };
}

/** The initial stack as create_elf_tables lays it out, rsp 16-byte aligned at argc. */
function buildStack(k: Kernel, options: ExecOptions, main: MappedImage, interpreter: MappedImage | undefined, random: Uint8Array): bigint {
  let sp = STACK_TOP - 8n; // the NULL end marker at the very top
  k.mem.writeU64(sp, 0n);
  const putString = (s: string): bigint => {
    const bytes = encodeUtf8(s);
    sp -= BigInt(bytes.length + 1);
    k.mem.writeCString(sp, bytes);
    return sp;
  };
  const execfn = putString(options.path);
  const envPtrs = [...options.envp].reverse().map(putString).reverse();
  const argPtrs = [...options.argv].reverse().map(putString).reverse();
  const platform = putString('x86_64');
  sp &= ~15n;
  sp -= 16n;
  const randomAt = sp;
  k.mem.write(randomAt, random);
  const auxv: [number, bigint][] = [
    [AT_HWCAP, HWCAP], [AT_MINSIGSTKSZ, MINSIGSTKSZ], [AT_PAGESZ, PAGE], [AT_CLKTCK, 100n], [AT_PHDR, main.phdr], [AT_PHENT, 56n],
    [AT_PHNUM, BigInt(main.elf.header.programHeaderCount)], [AT_BASE, interpreter?.base ?? 0n], [AT_FLAGS, 0n], [AT_ENTRY, main.entry],
    [AT_UID, 1000n], [AT_EUID, 1000n], [AT_GID, 1000n], [AT_EGID, 1000n], [AT_SECURE, 0n], [AT_RANDOM, randomAt],
    [AT_HWCAP2, 0n], [AT_EXECFN, execfn], [AT_PLATFORM, platform], [AT_NULL, 0n],
  ];
  return writeStartTable((at, bytes) => k.mem.write(at, bytes), sp, argPtrs, envPtrs, auxv);
}
