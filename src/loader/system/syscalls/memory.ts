// Memory system calls: mmap (anonymous and file-backed, private copies of the VFS bytes),
// munmap, mprotect, mremap, brk and madvise, over the AddressSpace whose permissions are the
// engine's page permissions. Placement is the AddressSpace's deterministic top-down layout.

import { Perm } from '../../../engine/engine.js';
import { MAP_ANONYMOUS } from '../../kernel/address-space.js';
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM } from '../../kernel/errno.js';
import { PAGE, pageUp } from '../../layout.js';
import type { Kernel } from '../kernel.js';
import { i32, type SyscallTable } from './types.js';

const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MADV_DONTNEED = 4;
const MADV_REMOVE = 9;
const MADV_FREE = 8;
/** How far the program break may grow (the heap's share of RLIMIT_DATA in this sandbox). */
const BRK_LIMIT = 1n << 32n;

function mmap(k: Kernel, a: readonly bigint[]): bigint {
  const [addr, len, protArg, flagsArg, fdArg, offArg] = a as [bigint, bigint, bigint, bigint, bigint, bigint];
  const prot = i32(protArg);
  const flags = i32(flagsArg);
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  const offset = offArg;
  if ((offset & (PAGE - 1n)) !== 0n) return -BigInt(EINVAL);
  let bytes: Uint8Array | undefined;
  let name = '[anon]';
  if (!anonymous) {
    const entry = k.fds.get(i32(fdArg));
    if (!entry) return -BigInt(EBADF);
    const file = entry.file;
    if (file.kind === 'device' || file.kind === 'dir' || file.node?.kind !== 'file') return -BigInt(file.kind === 'dir' ? ENODEV : EACCES);
    if ((file.flags & 3) === 1) return -BigInt(EACCES); // O_WRONLY
    bytes = k.vfs.contents(file.node);
    name = file.path;
  }
  const result = k.space.mmap(addr, len, prot, flags, name);
  k.record({ kind: 'mmap', at: 0, address: addr, length: len, prot, flags, result });
  if (result < 0n || !bytes) return result;
  const start = Number(offset);
  if (start < bytes.length) {
    // A private copy of the file's bytes; the mapping's tail past the file stays zero, as the kernel's page cache gives.
    const end = Math.min(bytes.length, start + Number(pageUp(len)));
    k.mem.write(result, bytes.subarray(start, end));
  }
  return result;
}

function mremap(k: Kernel, a: readonly bigint[]): bigint {
  const [oldAddr, oldLenArg, newLenArg, flagsArg, newAddr] = a as [bigint, bigint, bigint, bigint, bigint];
  const flags = i32(flagsArg);
  if ((oldAddr & (PAGE - 1n)) !== 0n || newLenArg === 0n || (flags & MREMAP_FIXED)) return -BigInt(EINVAL);
  void newAddr;
  const oldLen = pageUp(oldLenArg);
  const newLen = pageUp(newLenArg);
  const m = k.space.find(oldAddr);
  if (!m || !k.space.covered(oldAddr, oldAddr + oldLen)) return -14n; // EFAULT
  if (newLen <= oldLen) {
    if (newLen < oldLen) k.space.munmap(oldAddr + newLen, oldLen - newLen);
    return oldAddr;
  }
  // Grow in place when the pages after it are free, else move (MREMAP_MAYMOVE) or fail.
  const tail = oldAddr + oldLen;
  if (!k.space.list().some((x) => x.begin < oldAddr + newLen && tail < x.end)) {
    k.space.mapFixed(tail, newLen - oldLen, m.perms, m.name);
    return oldAddr;
  }
  if ((flags & MREMAP_MAYMOVE) === 0) return -BigInt(ENOMEM);
  const data = k.mem.read(oldAddr, Number(oldLen));
  const target = k.space.reserve(newLen);
  k.space.mapFixed(target, newLen, m.perms, m.name);
  k.mem.write(target, data);
  k.space.munmap(oldAddr, oldLen);
  return target;
}

function brk(k: Kernel, a: readonly bigint[]): bigint {
  const want = a[0]!;
  if (want === 0n || want < k.brkStart || want > k.brkStart + BRK_LIMIT) return k.brk;
  const oldEnd = pageUp(k.brk);
  const newEnd = pageUp(want);
  if (newEnd > oldEnd) {
    if (k.space.list().some((m) => m.begin < newEnd && oldEnd < m.end)) return k.brk; // would overlap: brk fails by returning the old break
    k.space.mapFixed(oldEnd, newEnd - oldEnd, Perm.RW, '[heap]');
  } else if (newEnd < oldEnd) {
    k.space.munmap(newEnd, oldEnd - newEnd);
  }
  k.brk = want;
  return want;
}

function madvise(k: Kernel, a: readonly bigint[]): number {
  const [addr, len, adviceArg] = a as [bigint, bigint, bigint];
  if ((addr & (PAGE - 1n)) !== 0n) return -EINVAL;
  const advice = i32(adviceArg);
  const size = pageUp(len);
  if (size === 0n) return 0;
  if (!k.space.covered(addr, addr + size)) return -ENOMEM;
  // DONTNEED/FREE/REMOVE on private memory: the pages read back as zero (glibc's free relies on nothing else).
  if (advice === MADV_DONTNEED || advice === MADV_FREE || advice === MADV_REMOVE) k.space.discard(addr, addr + size);
  return 0;
}

export const MEMORY_SYSCALLS: SyscallTable = {
  9: { name: 'mmap', run: mmap },
  10: {
    name: 'mprotect',
    run: (k, a) => {
      const prot = i32(a[2]);
      const result = k.space.mprotect(a[0]!, a[1]!, prot);
      k.record({ kind: 'mprotect', at: 0, address: a[0]!, length: a[1]!, prot, result, via: 'syscall', caller: 0n });
      return result;
    },
  },
  11: {
    name: 'munmap',
    run: (k, a) => {
      const result = k.space.munmap(a[0]!, a[1]!);
      k.record({ kind: 'munmap', at: 0, address: a[0]!, length: a[1]!, result });
      return result;
    },
  },
  12: { name: 'brk', run: brk },
  25: { name: 'mremap', run: mremap },
  28: { name: 'madvise', run: madvise },
  // The process has no swap and one thread: mlock/munlock/msync/mincore succeed without effect.
  26: { name: 'msync', run: () => 0 },
  149: { name: 'mlock', run: () => 0 },
  150: { name: 'munlock', run: () => 0 },
};
