// File system calls over the VFS: open/openat, read/write and their vector and positional
// forms, close, lseek, the stat family, access, readlink, getcwd/chdir, getdents64, fcntl,
// ioctl, dup/dup2/dup3, pipe/pipe2, and unlink/rename/mkdir/symlink in the in-memory
// overlay. Paths resolve inside the VFS only (vfs.ts), so no call reaches a host file.

import { EACCES, EAGAIN, EBADF, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTTY, EPIPE, ERANGE, ESPIPE, EXDEV } from '../../kernel/errno.js';
import { encodeUtf8 } from '../../guest-memory.js';
import { KernelErrno, KernelStop, KernelWouldBlock, type Kernel, type OpenFile } from '../kernel.js';
import { eventfdRead, eventfdWrite, socketRead, socketWrite } from './net.js';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, VfsError, type VfsNode } from '../vfs.js';
import { i32, i64, type SyscallTable } from './types.js';

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3, O_WRONLY = 1;
const O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_NONBLOCK = 0o4000;
const O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_CLOEXEC = 0o2000000;
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030, F_SETLK = 6, F_SETLKW = 7, F_GETLK = 5;
const TCGETS = 0x5401, TIOCGWINSZ = 0x5413, FIONREAD = 0x541b, FIONBIO = 0x5421, FIOCLEX = 0x5451, FIONCLEX = 0x5450;
const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
/** One device number for the whole VFS (st_dev), one for devices. */
const VFS_DEV = 0x801n;
/** A fixed file time (2024-01-01): reruns stay byte-identical. */
const FILE_TIME = 1_704_067_200n;

function errno(e: unknown): never {
  if (e instanceof VfsError) throw new KernelErrno(e.errno);
  throw e;
}

/** The directory a *at() call's path is relative to, as a canonical path. */
function baseDir(k: Kernel, dirfd: number, path: string): string {
  if (path.startsWith('/') || dirfd === AT_FDCWD) return k.cwd;
  const f = k.file(dirfd);
  if (f.kind !== 'dir') throw new KernelErrno(ENOTDIR);
  return f.path;
}

function lookup(k: Kernel, dirfd: number, path: string, follow: boolean): { node: VfsNode; path: string } {
  try {
    return k.vfs.resolve(path, baseDir(k, dirfd, path), follow);
  } catch (e) {
    errno(e);
  }
}

function openAt(k: Kernel, dirfd: number, pathAddr: bigint, flags: number, mode: number): number {
  const path = k.cstring(pathAddr);
  if (path === '') throw new KernelErrno(ENOENT);
  const cwd = baseDir(k, dirfd, path);
  let node: VfsNode;
  let canonical: string;
  try {
    if (flags & O_CREAT) {
      const parent = k.vfs.resolveParent(path, cwd);
      let existing = parent.node;
      if (existing?.kind === 'symlink' && !(flags & O_NOFOLLOW) && !(flags & O_EXCL)) {
        const r = k.vfs.resolve(path, cwd, true);
        existing = r.node;
      }
      if (existing && (flags & O_EXCL)) throw new KernelErrno(EEXIST);
      if (existing === undefined) {
        node = k.vfs.createFile(parent, mode & ~k.umask);
        canonical = `${parent.dirPath === '/' ? '' : parent.dirPath}/${parent.name}`;
      } else {
        node = existing;
        canonical = k.vfs.resolve(path, cwd, !(flags & O_NOFOLLOW)).path;
      }
    } else {
      const r = k.vfs.resolve(path, cwd, !(flags & O_NOFOLLOW));
      node = r.node;
      canonical = r.path;
    }
  } catch (e) {
    errno(e);
  }
  if (node.kind === 'symlink') throw new KernelErrno(40); // ELOOP: O_NOFOLLOW on a link
  if ((flags & O_DIRECTORY) && node.kind !== 'dir') throw new KernelErrno(ENOTDIR);
  const access = flags & O_ACCMODE;
  if (node.kind === 'dir' && access !== 0) throw new KernelErrno(EISDIR);
  if (node.kind === 'file' && node.generated && access !== 0) throw new KernelErrno(EACCES);
  if (node.kind === 'file' && (flags & O_TRUNC) && access !== 0) k.vfs.setData(node, new Uint8Array(0));
  const file: OpenFile = { kind: node.kind === 'dir' ? 'dir' : node.kind === 'device' ? 'device' : 'file', node, path: canonical, offset: 0, flags };
  if (node.kind === 'file' && node.generated) {
    // /proc files are generated once per open, as the kernel's seq_file does per read cycle.
    file.node = { ...node, data: node.generated(), generated: undefined };
  }
  return k.allocFd(file, (flags & O_CLOEXEC) !== 0);
}

function fileBytes(k: Kernel, f: OpenFile): Uint8Array {
  if (f.node?.kind !== 'file') return new Uint8Array(0);
  return k.vfs.contents(f.node);
}

/** read(2) on one open file; `at` for pread (offset unchanged). */
function readFrom(k: Kernel, f: OpenFile, count: number, at?: number): Uint8Array {
  if ((f.flags & O_ACCMODE) === O_WRONLY && f.kind !== 'stdin') throw new KernelErrno(EBADF);
  switch (f.kind) {
    case 'stdin': {
      const data = k.options.stdin;
      const start = at ?? f.offset;
      const out = data.subarray(Math.min(start, data.length), Math.min(data.length, start + count));
      if (at === undefined) f.offset += out.length;
      return out;
    }
    case 'stdout':
    case 'stderr':
    case 'pipe-write':
      throw new KernelErrno(EBADF);
    case 'dir':
      throw new KernelErrno(EISDIR);
    case 'epoll':
      throw new KernelErrno(EINVAL);
    case 'socket':
    case 'eventfd': {
      const r = f.kind === 'socket' ? socketRead(k, f, count) : eventfdRead(f, count);
      if (!(r instanceof Uint8Array)) {
        if (r.kind === 'unsupported' && r.wouldBlock) throw new KernelWouldBlock(r.message, r.wouldBlock.timeoutNs);
        throw new KernelStop(r.kind === 'unsupported' ? r.message : 'read stopped');
      }
      return r;
    }
    case 'pipe-read': {
      const p = f.pipe!;
      if (p.buffer.length === 0) {
        if (p.writers === 0) return new Uint8Array(0);
        if (f.flags & O_NONBLOCK) throw new KernelErrno(EAGAIN);
        // Another thread may write; alone, EAGAIN (the old behaviour: nobody can ever write).
        throw new KernelWouldBlock('read would block forever: the pipe is empty', undefined, EAGAIN);
      }
      return Uint8Array.from(p.buffer.splice(0, count));
    }
    case 'device': {
      const dev = f.node?.kind === 'device' ? f.node.device : 'null';
      if (dev === 'null') return new Uint8Array(0);
      if (dev === 'zero') return new Uint8Array(count);
      if (dev === 'urandom') return k.random.bytes(count);
      return new Uint8Array(0);
    }
    case 'file': {
      const bytes = fileBytes(k, f);
      const start = at ?? f.offset;
      const out = bytes.subarray(Math.min(start, bytes.length), Math.min(bytes.length, start + count));
      if (at === undefined) f.offset += out.length;
      return out;
    }
  }
}

function writeTo(k: Kernel, f: OpenFile, data: Uint8Array, at?: number): number {
  switch (f.kind) {
    case 'stdout':
      k.emit(1, data);
      return data.length;
    case 'stderr':
      k.emit(2, data);
      return data.length;
    case 'stdin':
    case 'pipe-read':
    case 'dir':
      throw new KernelErrno(EBADF);
    case 'epoll':
      throw new KernelErrno(EINVAL);
    case 'socket':
      return socketWrite(k, f, data);
    case 'eventfd':
      return eventfdWrite(f, data);
    case 'pipe-write': {
      const p = f.pipe!;
      if (p.readers === 0) {
        k.signals.raise({ signo: 13, code: 0, pid: k.pid, uid: 1000 }); // SIGPIPE
        throw new KernelErrno(EPIPE);
      }
      for (const b of data) p.buffer.push(b);
      return data.length;
    }
    case 'device':
      return data.length; // /dev/null and friends swallow writes
    case 'file': {
      if ((f.flags & O_ACCMODE) === 0) throw new KernelErrno(EBADF);
      const node = f.node;
      if (node?.kind !== 'file') throw new KernelErrno(EBADF);
      const old = k.vfs.overlay(node);
      const start = at ?? ((f.flags & O_APPEND) ? old.length : f.offset);
      const end = start + data.length;
      const next = end > old.length ? new Uint8Array(end) : old;
      if (next !== old) next.set(old);
      next.set(data, start);
      k.vfs.setData(node, next);
      if (at === undefined) f.offset = end;
      return data.length;
    }
  }
}

function iovecs(k: Kernel, iov: bigint, count: number): { base: bigint; len: number }[] {
  if (count < 0 || count > 1024) throw new KernelErrno(EINVAL);
  const out: { base: bigint; len: number }[] = [];
  for (let i = 0; i < count; i++) out.push({ base: k.u64(iov + BigInt(i * 16)), len: Number(k.u64(iov + BigInt(i * 16 + 8))) });
  return out;
}

function modeOf(node: VfsNode): number {
  const type = node.kind === 'file' ? S_IFREG : node.kind === 'dir' ? S_IFDIR : node.kind === 'symlink' ? S_IFLNK : S_IFCHR;
  return type | node.mode;
}

function statOf(k: Kernel, f: OpenFile | undefined, node: VfsNode | undefined): { ino: bigint; mode: number; size: bigint; nlink: number; rdev: bigint; dev: bigint } {
  if (!node) {
    // stdin/stdout/stderr and pipes: FIFOs (S_IFIFO), as when the tool's caller pipes them; sockets S_IFSOCK.
    const mode = f?.kind === 'socket' ? 0o140777 : f?.kind === 'eventfd' || f?.kind === 'epoll' ? 0o600 : 0o010600;
    return { ino: BigInt(f?.kind === 'stdin' ? 1 : f?.kind === 'stdout' ? 2 : f?.kind === 'stderr' ? 3 : 4), mode, size: 0n, nlink: 1, rdev: 0n, dev: 0xcn };
  }
  const size = f?.node && f.node !== node ? BigInt(fileBytes(k, f).length) : node.kind === 'file' && f ? BigInt(fileBytes(k, f).length) : BigInt(k.vfs.sizeOf(node));
  return { ino: BigInt(node.ino), mode: modeOf(node), size, nlink: node.kind === 'dir' ? 2 : 1, rdev: node.kind === 'device' ? 0x103n : 0n, dev: node.kind === 'device' ? 5n : VFS_DEV };
}

function writeStat(k: Kernel, address: bigint, s: ReturnType<typeof statOf>): void {
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, s.dev, true);
  v.setBigUint64(8, s.ino, true);
  v.setBigUint64(16, BigInt(s.nlink), true);
  v.setUint32(24, s.mode, true);
  v.setUint32(28, 1000, true);
  v.setUint32(32, 1000, true);
  v.setBigUint64(40, s.rdev, true);
  v.setBigInt64(48, s.size, true);
  v.setBigInt64(56, 4096n, true);
  v.setBigInt64(64, (s.size + 511n) / 512n, true);
  for (const at of [72, 88, 104]) v.setBigInt64(at, FILE_TIME, true);
  k.write(address, b);
}

function writeStatx(k: Kernel, address: bigint, s: ReturnType<typeof statOf>): void {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x7ff, true); // STATX_BASIC_STATS
  v.setUint32(4, 4096, true);
  v.setUint32(16, s.nlink, true);
  v.setUint32(20, 1000, true);
  v.setUint32(24, 1000, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, s.ino, true);
  v.setBigUint64(40, s.size, true);
  v.setBigUint64(48, (s.size + 511n) / 512n, true);
  for (const at of [64, 80, 96, 112]) v.setBigInt64(at, FILE_TIME, true);
  v.setUint32(128, Number(s.rdev >> 8n), true);
  v.setUint32(132, Number(s.rdev & 0xffn), true);
  v.setUint32(136, Number(s.dev >> 8n), true);
  v.setUint32(140, Number(s.dev & 0xffn), true);
  k.write(address, b);
}

function statPath(k: Kernel, dirfd: number, pathAddr: bigint, flags: number): ReturnType<typeof statOf> {
  const path = k.cstring(pathAddr);
  if (path === '') {
    if ((flags & AT_EMPTY_PATH) === 0) throw new KernelErrno(ENOENT);
    const f = dirfd === AT_FDCWD ? undefined : k.file(dirfd);
    if (!f) return statOf(k, undefined, lookup(k, AT_FDCWD, '.', true).node);
    return statOf(k, f, f.node);
  }
  return statOf(k, undefined, lookup(k, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0).node);
}

function readlinkAt(k: Kernel, dirfd: number, pathAddr: bigint, buf: bigint, size: number): number {
  if (size <= 0) throw new KernelErrno(EINVAL);
  const path = k.cstring(pathAddr);
  const r = lookup(k, dirfd, path, false);
  if (r.node.kind !== 'symlink') throw new KernelErrno(EINVAL);
  const bytes = encodeUtf8(r.node.target).subarray(0, size);
  k.write(buf, bytes);
  return bytes.length;
}

function getdents64(k: Kernel, fd: number, buf: bigint, size: number): number {
  const f = k.file(fd);
  if (f.kind !== 'dir' || f.node?.kind !== 'dir') throw new KernelErrno(ENOTDIR);
  const names = ['.', '..', ...[...f.node.children.keys()].sort()];
  const out: number[] = [];
  let cursor = f.dirCursor ?? 0;
  while (cursor < names.length) {
    const name = encodeUtf8(names[cursor]!);
    const reclen = (19 + name.length + 1 + 7) & ~7;
    if (out.length + reclen > size) break;
    const child = cursor < 2 ? f.node : f.node.children.get(names[cursor]!)!;
    const rec = new Uint8Array(reclen);
    const v = new DataView(rec.buffer);
    v.setBigUint64(0, BigInt(child.ino), true);
    v.setBigInt64(8, BigInt(cursor + 1), true);
    v.setUint16(16, reclen, true);
    rec[18] = child.kind === 'dir' ? 4 : child.kind === 'symlink' ? 10 : child.kind === 'device' ? 2 : 8;
    rec.set(name, 19);
    out.push(...rec);
    cursor++;
  }
  if (out.length === 0 && cursor < names.length) throw new KernelErrno(EINVAL);
  f.dirCursor = cursor;
  k.write(buf, Uint8Array.from(out));
  return out.length;
}

function fcntl(k: Kernel, fd: number, cmd: number, arg: bigint): number {
  const entry = k.fds.get(fd);
  if (!entry) throw new KernelErrno(EBADF);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return k.allocFd(entry.file, cmd === F_DUPFD_CLOEXEC, i32(arg));
    case F_GETFD:
      return entry.cloexec ? 1 : 0;
    case F_SETFD:
      entry.cloexec = (i32(arg) & 1) !== 0;
      return 0;
    case F_GETFL:
      return entry.file.flags & ~O_CLOEXEC;
    case F_SETFL:
      entry.file.flags = (entry.file.flags & ~(O_APPEND | O_NONBLOCK)) | (i32(arg) & (O_APPEND | O_NONBLOCK));
      return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
      return 0; // one process: every lock is granted
    default:
      throw new KernelErrno(EINVAL);
  }
}

function ioctl(k: Kernel, fd: number, request: number, arg: bigint): number {
  const f = k.file(fd);
  switch (request) {
    case TCGETS:
    case TIOCGWINSZ:
      throw new KernelErrno(ENOTTY); // no terminal: stdout is a pipe to the tool
    case FIONREAD:
      k.writeU32(arg, f.kind === 'pipe-read' ? f.pipe!.buffer.length : f.kind === 'file' ? Math.max(0, fileBytes(k, f).length - f.offset) : 0);
      return 0;
    case FIONBIO:
      return 0;
    case FIOCLEX:
    case FIONCLEX:
      k.fds.get(fd)!.cloexec = request === FIOCLEX;
      return 0;
    default:
      throw new KernelErrno(ENOTTY);
  }
}

function dup3(k: Kernel, oldfd: number, newfd: number, flags: number, allowSame: boolean): number {
  const entry = k.fds.get(oldfd);
  if (!entry) throw new KernelErrno(EBADF);
  if (oldfd === newfd) {
    if (allowSame) return newfd;
    throw new KernelErrno(EINVAL);
  }
  if (newfd < 0 || newfd >= 1024) throw new KernelErrno(EBADF);
  if (k.fds.has(newfd)) k.closeFd(newfd);
  k.fds.set(newfd, { file: entry.file, cloexec: (flags & O_CLOEXEC) !== 0 });
  return newfd;
}

function pipe2(k: Kernel, fds: bigint, flags: number): number {
  const pipe = { buffer: [] as number[], readers: 1, writers: 1 };
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const r = k.allocFd({ kind: 'pipe-read', node: undefined, path: 'pipe:[0]', offset: 0, flags: 0, pipe }, cloexec);
  const w = k.allocFd({ kind: 'pipe-write', node: undefined, path: 'pipe:[0]', offset: 0, flags: O_WRONLY, pipe }, cloexec);
  try {
    k.writeU32(fds, r);
    k.writeU32(fds + 4n, w);
  } catch (e) {
    k.fds.delete(r);
    k.fds.delete(w);
    throw e;
  }
  return 0;
}

function lseek(k: Kernel, fd: number, offset: bigint, whence: number): bigint {
  const f = k.file(fd);
  if (f.kind !== 'file' && f.kind !== 'dir' && f.kind !== 'device') throw new KernelErrno(ESPIPE);
  const size = BigInt(fileBytes(k, f).length);
  const base = whence === SEEK_SET ? 0n : whence === SEEK_CUR ? BigInt(f.offset) : whence === SEEK_END ? size : -1n;
  if (base < 0n) throw new KernelErrno(EINVAL);
  const next = base + offset;
  if (next < 0n) throw new KernelErrno(EINVAL);
  f.offset = Number(next);
  if (f.kind === 'dir') f.dirCursor = Number(next);
  return next;
}

function accessAt(k: Kernel, dirfd: number, pathAddr: bigint, mode: number, flags: number): number {
  const r = lookup(k, dirfd, k.cstring(pathAddr), (flags & AT_SYMLINK_NOFOLLOW) === 0);
  // W_OK: the sources are read-only, but the overlay takes writes, so files are writable.
  if ((mode & 1) && r.node.kind === 'file' && (r.node.mode & 0o111) === 0) throw new KernelErrno(EACCES);
  return 0;
}

function getcwd(k: Kernel, buf: bigint, size: number): number {
  const bytes = encodeUtf8(`${k.cwd}\0`);
  if (size < bytes.length) throw new KernelErrno(ERANGE);
  k.write(buf, bytes);
  return bytes.length;
}

function chdirTo(k: Kernel, path: string): number {
  const r = lookup(k, AT_FDCWD, path, true);
  if (r.node.kind !== 'dir') throw new KernelErrno(ENOTDIR);
  k.cwd = r.path;
  return 0;
}

function unlinkAt(k: Kernel, dirfd: number, pathAddr: bigint, flags: number): number {
  const path = k.cstring(pathAddr);
  try {
    k.vfs.remove(k.vfs.resolveParent(path, baseDir(k, dirfd, path)), (flags & AT_REMOVEDIR) !== 0);
  } catch (e) {
    errno(e);
  }
  return 0;
}

function mkdirAt(k: Kernel, dirfd: number, pathAddr: bigint, mode: number): number {
  const path = k.cstring(pathAddr);
  try {
    k.vfs.createDir(k.vfs.resolveParent(path, baseDir(k, dirfd, path)), mode & ~k.umask);
  } catch (e) {
    errno(e);
  }
  return 0;
}

function symlinkAt(k: Kernel, targetAddr: bigint, dirfd: number, pathAddr: bigint): number {
  const target = k.cstring(targetAddr);
  const path = k.cstring(pathAddr);
  try {
    k.vfs.createSymlink(k.vfs.resolveParent(path, baseDir(k, dirfd, path)), target);
  } catch (e) {
    errno(e);
  }
  return 0;
}

function renameAt(k: Kernel, olddir: number, oldAddr: bigint, newdir: number, newAddr: bigint): number {
  const oldPath = k.cstring(oldAddr);
  const newPath = k.cstring(newAddr);
  try {
    const from = k.vfs.resolveParent(oldPath, baseDir(k, olddir, oldPath));
    const to = k.vfs.resolveParent(newPath, baseDir(k, newdir, newPath));
    if (!from.node) throw new KernelErrno(ENOENT);
    if (to.node?.kind === 'dir' && from.node.kind !== 'dir') throw new KernelErrno(EISDIR);
    if (from.node.kind === 'dir' && to.dirPath.startsWith(`${from.dirPath}/${from.name}`)) throw new KernelErrno(EXDEV);
    k.vfs.move(from, to);
  } catch (e) {
    errno(e);
  }
  return 0;
}

function readv(k: Kernel, fd: number, iov: bigint, count: number, at?: number): number {
  const f = k.file(fd);
  let total = 0;
  for (const v of iovecs(k, iov, count)) {
    const want = Math.min(v.len, WRITE_CHUNK - total);
    const data = readFrom(k, f, want, at === undefined ? undefined : at + total);
    k.write(v.base, data);
    total += data.length;
    if (data.length < v.len || total >= WRITE_CHUNK) break;
  }
  return total;
}

/**
 * Bytes one read or write call moves: a short transfer, as Linux gives for pipes and sockets
 * (glibc's stdio and careful programs loop); it bounds host memory whatever size the guest asks.
 */
const WRITE_CHUNK = 1 << 20;

function writev(k: Kernel, fd: number, iov: bigint, count: number, at?: number): number {
  const f = k.file(fd);
  let room = WRITE_CHUNK;
  const parts = iovecs(k, iov, count).map((v) => {
    const take = Math.min(Math.max(0, v.len), room);
    room -= take;
    return k.read(v.base, take);
  });
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    joined.set(p, o);
    o += p.length;
  }
  return writeTo(k, f, joined, at);
}

const fdcwd = (x: bigint | undefined): number => i32(x);

export const FILE_SYSCALLS: SyscallTable = {
  0: { name: 'read', run: (k, a) => {
    const data = readFrom(k, k.file(i32(a[0])), Math.min(Number(a[2]!), WRITE_CHUNK));
    k.write(a[1]!, data);
    return data.length;
  } },
  1: { name: 'write', run: (k, a) => writeTo(k, k.file(i32(a[0])), k.read(a[1]!, Math.min(Number(a[2]!), WRITE_CHUNK))) },
  2: { name: 'open', run: (k, a) => openAt(k, AT_FDCWD, a[0]!, i32(a[1]), i32(a[2])) },
  3: { name: 'close', run: (k, a) => {
    k.closeFd(i32(a[0]));
    return 0;
  } },
  4: { name: 'stat', run: (k, a) => {
    writeStat(k, a[1]!, statPath(k, AT_FDCWD, a[0]!, 0));
    return 0;
  } },
  5: { name: 'fstat', run: (k, a) => {
    const f = k.file(i32(a[0]));
    writeStat(k, a[1]!, statOf(k, f, f.node));
    return 0;
  } },
  6: { name: 'lstat', run: (k, a) => {
    writeStat(k, a[1]!, statPath(k, AT_FDCWD, a[0]!, AT_SYMLINK_NOFOLLOW));
    return 0;
  } },
  8: { name: 'lseek', run: (k, a) => lseek(k, i32(a[0]), i64(a[1]), i32(a[2])) },
  16: { name: 'ioctl', run: (k, a) => ioctl(k, i32(a[0]), i32(a[1]), a[2]!) },
  17: { name: 'pread64', run: (k, a) => {
    const data = readFrom(k, k.file(i32(a[0])), Math.min(Number(a[2]!), WRITE_CHUNK), Number(i64(a[3])));
    k.write(a[1]!, data);
    return data.length;
  } },
  18: { name: 'pwrite64', run: (k, a) => writeTo(k, k.file(i32(a[0])), k.read(a[1]!, Math.min(Number(a[2]!), WRITE_CHUNK)), Number(i64(a[3]))) },
  19: { name: 'readv', run: (k, a) => readv(k, i32(a[0]), a[1]!, i32(a[2])) },
  20: { name: 'writev', run: (k, a) => writev(k, i32(a[0]), a[1]!, i32(a[2])) },
  21: { name: 'access', run: (k, a) => accessAt(k, AT_FDCWD, a[0]!, i32(a[1]), 0) },
  22: { name: 'pipe', run: (k, a) => pipe2(k, a[0]!, 0) },
  32: { name: 'dup', run: (k, a) => k.allocFd(k.file(i32(a[0])), false) },
  33: { name: 'dup2', run: (k, a) => dup3(k, i32(a[0]), i32(a[1]), 0, true) },
  72: { name: 'fcntl', run: (k, a) => fcntl(k, i32(a[0]), i32(a[1]), a[2]!) },
  74: { name: 'fsync', run: (k, a) => (k.file(i32(a[0])), 0) },
  75: { name: 'fdatasync', run: (k, a) => (k.file(i32(a[0])), 0) },
  77: { name: 'ftruncate', run: (k, a) => {
    const f = k.file(i32(a[0]));
    if (f.node?.kind !== 'file' || (f.flags & O_ACCMODE) === 0) throw new KernelErrno(EINVAL);
    const old = k.vfs.overlay(f.node);
    const next = new Uint8Array(Number(i64(a[1])));
    next.set(old.subarray(0, next.length));
    k.vfs.setData(f.node, next);
    return 0;
  } },
  79: { name: 'getcwd', run: (k, a) => getcwd(k, a[0]!, Number(a[1]!)) },
  80: { name: 'chdir', run: (k, a) => chdirTo(k, k.cstring(a[0]!)) },
  81: { name: 'fchdir', run: (k, a) => {
    const f = k.file(i32(a[0]));
    if (f.kind !== 'dir') throw new KernelErrno(ENOTDIR);
    k.cwd = f.path;
    return 0;
  } },
  82: { name: 'rename', run: (k, a) => renameAt(k, AT_FDCWD, a[0]!, AT_FDCWD, a[1]!) },
  83: { name: 'mkdir', run: (k, a) => mkdirAt(k, AT_FDCWD, a[0]!, i32(a[1])) },
  84: { name: 'rmdir', run: (k, a) => unlinkAt(k, AT_FDCWD, a[0]!, AT_REMOVEDIR) },
  87: { name: 'unlink', run: (k, a) => unlinkAt(k, AT_FDCWD, a[0]!, 0) },
  88: { name: 'symlink', run: (k, a) => symlinkAt(k, a[0]!, AT_FDCWD, a[1]!) },
  89: { name: 'readlink', run: (k, a) => readlinkAt(k, AT_FDCWD, a[0]!, a[1]!, i32(a[2])) },
  95: { name: 'umask', run: (k, a) => {
    const old = k.umask;
    k.umask = i32(a[0]) & 0o777;
    return old;
  } },
  217: { name: 'getdents64', run: (k, a) => getdents64(k, i32(a[0]), a[1]!, Number(a[2]!)) },
  257: { name: 'openat', run: (k, a) => openAt(k, fdcwd(a[0]), a[1]!, i32(a[2]), i32(a[3])) },
  258: { name: 'mkdirat', run: (k, a) => mkdirAt(k, fdcwd(a[0]), a[1]!, i32(a[2])) },
  262: { name: 'newfstatat', run: (k, a) => {
    writeStat(k, a[2]!, statPath(k, fdcwd(a[0]), a[1]!, i32(a[3])));
    return 0;
  } },
  263: { name: 'unlinkat', run: (k, a) => unlinkAt(k, fdcwd(a[0]), a[1]!, i32(a[2])) },
  264: { name: 'renameat', run: (k, a) => renameAt(k, fdcwd(a[0]), a[1]!, fdcwd(a[2]), a[3]!) },
  266: { name: 'symlinkat', run: (k, a) => symlinkAt(k, a[0]!, fdcwd(a[1]), a[2]!) },
  267: { name: 'readlinkat', run: (k, a) => readlinkAt(k, fdcwd(a[0]), a[1]!, a[2]!, i32(a[3])) },
  269: { name: 'faccessat', run: (k, a) => accessAt(k, fdcwd(a[0]), a[1]!, i32(a[2]), 0) },
  292: { name: 'dup3', run: (k, a) => dup3(k, i32(a[0]), i32(a[1]), i32(a[2]), false) },
  293: { name: 'pipe2', run: (k, a) => pipe2(k, a[0]!, i32(a[1])) },
  295: { name: 'preadv', run: (k, a) => readv(k, i32(a[0]), a[1]!, i32(a[2]), Number(i64(a[3]))) },
  296: { name: 'pwritev', run: (k, a) => writev(k, i32(a[0]), a[1]!, i32(a[2]), Number(i64(a[3]))) },
  316: { name: 'renameat2', run: (k, a) => renameAt(k, fdcwd(a[0]), a[1]!, fdcwd(a[2]), a[3]!) },
  332: { name: 'statx', run: (k, a) => {
    writeStatx(k, a[4]!, statPath(k, fdcwd(a[0]), a[1]!, i32(a[2])));
    return 0;
  } },
  439: { name: 'faccessat2', run: (k, a) => accessAt(k, fdcwd(a[0]), a[1]!, i32(a[2]), i32(a[3])) },
};
