// The initial stack as the kernel's create_elf_tables lays it out: strings at the top
// (execfn, envp and argv strings, the platform string, 16 AT_RANDOM bytes), then auxv,
// envp, argv and argc, with rsp 16-byte aligned at argc.

import type { GuestMemory } from './guest-memory.js';
import { encodeUtf8 } from './guest-memory.js';

export const AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
  AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
  AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31;

export interface InitialStack {
  rsp: bigint;
  argv: bigint;
  envp: bigint;
  auxv: bigint;
  random: bigint;
}

export interface AuxvInputs {
  phdr: bigint;
  phnum: number;
  entry: bigint;
  /** Where "the interpreter" is: the sandbox's libc image stands in for ld.so. */
  interpreterBase: bigint;
  /** 16 bytes for AT_RANDOM (the canary comes from them): fixed, so runs are reproducible. */
  random: Uint8Array;
}

export function buildInitialStack(mem: GuestMemory, top: bigint, argv: readonly string[], envp: readonly string[], aux: AuxvInputs): InitialStack {
  let sp = top - 8n; // the NULL end marker the kernel leaves at the very top
  mem.writeU64(sp, 0n);
  const putString = (s: string): bigint => {
    const bytes = encodeUtf8(s);
    sp -= BigInt(bytes.length + 1);
    mem.writeCString(sp, bytes);
    return sp;
  };
  const execfn = putString(argv[0] ?? '');
  const envPtrs = envp.map(putString);
  const argPtrs = argv.map(putString);
  const platform = putString('x86_64');
  sp &= ~15n;
  sp -= 16n;
  const random = sp;
  mem.write(random, aux.random);
  const auxv: Array<[number, bigint]> = [
    [AT_HWCAP, 0x178bfbffn], [AT_PAGESZ, 4096n], [AT_CLKTCK, 100n], [AT_PHDR, aux.phdr], [AT_PHENT, 56n],
    [AT_PHNUM, BigInt(aux.phnum)], [AT_BASE, aux.interpreterBase], [AT_FLAGS, 0n], [AT_ENTRY, aux.entry],
    [AT_UID, 1000n], [AT_EUID, 1000n], [AT_GID, 1000n], [AT_EGID, 1000n], [AT_SECURE, 0n], [AT_RANDOM, random],
    [AT_HWCAP2, 2n], [AT_EXECFN, execfn], [AT_PLATFORM, platform], [AT_NULL, 0n],
  ];
  sp = writeStartTable((at, bytes) => mem.write(at, bytes), sp, argPtrs, envPtrs, auxv);
  const argvAt = sp + 8n;
  const envpAt = argvAt + BigInt((argPtrs.length + 1) * 8);
  return { rsp: sp, argv: argvAt, envp: envpAt, auxv: envpAt + BigInt((envPtrs.length + 1) * 8), random };
}

/**
 * Below `sp`: argc, argv[] and NULL, envp[] and NULL, then the auxv pairs, 16-byte aligned as the
 * kernel lays them out at process start. Returns the new stack pointer (at argc). Shared by the
 * stubs model's start-up and the system model's exec.
 */
export function writeStartTable(write: (at: bigint, bytes: Uint8Array) => void, sp: bigint, argPtrs: readonly bigint[], envPtrs: readonly bigint[], auxv: readonly (readonly [number, bigint])[]): bigint {
  const words = 1 + argPtrs.length + 1 + envPtrs.length + 1 + auxv.length * 2;
  sp -= BigInt(words * 8);
  sp &= ~15n;
  const table = new Uint8Array(words * 8);
  const v = new DataView(table.buffer);
  let o = 0;
  const put = (x: bigint): void => {
    v.setBigUint64(o, x, true);
    o += 8;
  };
  put(BigInt(argPtrs.length));
  argPtrs.forEach(put);
  put(0n);
  envPtrs.forEach(put);
  put(0n);
  for (const [key, value] of auxv) {
    put(BigInt(key));
    put(value);
  }
  write(sp, table);
  return sp;
}
