// Network system calls on a virtual loopback: AF_INET, AF_INET6 and AF_UNIX sockets, stream
// and datagram, that reach only each other inside this process (a server that talks to
// itself); eventfd; and readiness through poll, select and epoll (level-triggered). Nothing
// reaches the host. One thread: a call that would block with nothing able to wake it stops
// the run saying so; a timeout passes on the virtual clock.

import { EAFNOSUPPORT, EAGAIN, EBADF, ECONNREFUSED, EEXIST, EINVAL, EISCONN, ENOENT, ENOTCONN, ENOTSOCK, EPIPE, EPROTONOSUPPORT, EADDRINUSE, EOPNOTSUPP } from '../../kernel/errno.js';
import { KernelErrno, type Kernel, type OpenFile } from '../kernel.js';
import { i32, i64, type SyscallAction, type SyscallTable } from './types.js';

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_TYPE_MASK = 0xf, SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const MSG_PEEK = 2, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
export const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32, POLLRDHUP = 0x2000;
const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3, EPOLLONESHOT = 1 << 30;
const EFD_SEMAPHORE = 1;
const SOL_SOCKET = 1, SO_ERROR = 4, SO_TYPE = 3, SO_ACCEPTCONN = 30, SO_RCVBUF = 8, SO_SNDBUF = 7;

export interface Socket {
  domain: number;
  type: number;
  /** Bound address: the key in the loopback's table, and the sockaddr bytes getsockname returns. */
  local?: { key: string; raw: Uint8Array };
  listening: boolean;
  backlog: Socket[];
  peer?: Socket;
  /** The peer's address (getpeername). */
  peerRaw?: Uint8Array;
  /** Stream bytes received, or datagrams with their sender. */
  inbox: number[];
  datagrams: { from: Uint8Array; data: Uint8Array }[];
  /** The peer shut down its writing side or closed: reads see end of file once inbox is empty. */
  peerClosed: boolean;
  shutWrite: boolean;
  options: Map<string, bigint>;
}

export interface EventFd {
  counter: bigint;
  semaphore: boolean;
}

export interface Epoll {
  interest: Map<number, { events: number; data: bigint; file: OpenFile }>;
}

/** The loopback's name space: bound sockets by address key, and the next ephemeral port. */
export interface Loopback {
  bound: Map<string, Socket>;
  nextPort: number;
}

function loopback(k: Kernel): Loopback {
  return k.net;
}

// ---- addresses --------------------------------------------------------------------------

interface Address {
  family: number;
  host: string;
  port: number;
  path?: string;
}

function readSockaddr(k: Kernel, address: bigint, length: number): Address {
  if (length < 2 || length > 128) throw new KernelErrno(EINVAL);
  const raw = k.read(address, length);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const family = v.getUint16(0, true);
  if (family === AF_INET) {
    if (length < 16) throw new KernelErrno(EINVAL);
    return { family, port: v.getUint16(2, false), host: [...raw.subarray(4, 8)].join('.') };
  }
  if (family === AF_INET6) {
    if (length < 24) throw new KernelErrno(EINVAL);
    const words = Array.from({ length: 8 }, (_, i) => v.getUint16(8 + i * 2, false).toString(16));
    return { family, port: v.getUint16(2, false), host: words.join(':') };
  }
  if (family === AF_UNIX) {
    const bytes = raw.subarray(2);
    const end = bytes[0] === 0 ? bytes.length : (bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0));
    const path = new TextDecoder().decode(bytes.subarray(bytes[0] === 0 ? 1 : 0, end));
    return { family, host: '', port: 0, path: (bytes[0] === 0 ? '@' : '') + path };
  }
  throw new KernelErrno(EAFNOSUPPORT);
}

function sockaddrBytes(a: Address): Uint8Array {
  if (a.family === AF_UNIX) {
    const path = new TextEncoder().encode((a.path ?? '').replace(/^@/, '\0'));
    const out = new Uint8Array(2 + path.length + (a.path?.startsWith('@') ? 0 : 1));
    new DataView(out.buffer).setUint16(0, AF_UNIX, true);
    out.set(path, 2);
    return out;
  }
  const out = new Uint8Array(a.family === AF_INET ? 16 : 28);
  const v = new DataView(out.buffer);
  v.setUint16(0, a.family, true);
  v.setUint16(2, a.port, false);
  if (a.family === AF_INET) a.host.split('.').forEach((b, i) => (out[4 + i] = Number(b)));
  else a.host.split(':').forEach((w, i) => v.setUint16(8 + i * 2, parseInt(w || '0', 16), false));
  return out;
}

const ANY = { [AF_INET]: '0.0.0.0', [AF_INET6]: '0:0:0:0:0:0:0:0' } as Record<number, string>;
const LOOPBACK = { [AF_INET]: '127.0.0.1', [AF_INET6]: '0:0:0:0:0:0:0:1' } as Record<number, string>;

function keyOf(a: Address): string {
  return a.family === AF_UNIX ? `unix:${a.path}` : `${a.family}:${a.host}:${a.port}`;
}

function writeSockaddr(k: Kernel, raw: Uint8Array, address: bigint, lengthAt: bigint): void {
  if (address === 0n) return;
  const room = k.u32(lengthAt);
  k.write(address, raw.subarray(0, Math.min(room, raw.length)));
  k.writeU32(lengthAt, raw.length);
}

// ---- sockets ----------------------------------------------------------------------------

function socketOf(k: Kernel, fd: number): { file: OpenFile; socket: Socket } {
  const file = k.file(fd);
  if (!file.socket) throw new KernelErrno(ENOTSOCK);
  return { file, socket: file.socket };
}

function newSocket(domain: number, type: number): Socket {
  return { domain, type, listening: false, backlog: [], inbox: [], datagrams: [], peerClosed: false, shutWrite: false, options: new Map() };
}

function socketFile(socket: Socket, flags: number): OpenFile {
  return { kind: 'socket', node: undefined, path: `socket:[${socket.domain}]`, offset: 0, flags: 2 | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0), socket };
}

function createSocket(k: Kernel, domain: number, typeArg: number): number {
  const type = typeArg & SOCK_TYPE_MASK;
  if (domain !== AF_INET && domain !== AF_INET6 && domain !== AF_UNIX) throw new KernelErrno(EAFNOSUPPORT);
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM) throw new KernelErrno(EPROTONOSUPPORT);
  return k.allocFd(socketFile(newSocket(domain, type), typeArg), (typeArg & SOCK_CLOEXEC) !== 0);
}

function bindTo(k: Kernel, socket: Socket, a: Address): void {
  const net = loopback(k);
  if (socket.local) throw new KernelErrno(EINVAL);
  if (a.family !== socket.domain) throw new KernelErrno(EAFNOSUPPORT);
  if (a.family !== AF_UNIX && a.port === 0) {
    do a.port = net.nextPort++;
    while (net.bound.has(keyOf(a)));
  }
  const key = keyOf(a);
  if (net.bound.has(key)) throw new KernelErrno(a.family === AF_UNIX ? EADDRINUSE : EADDRINUSE);
  socket.local = { key, raw: sockaddrBytes(a) };
  net.bound.set(key, socket);
}

function autobind(k: Kernel, socket: Socket): void {
  if (socket.local) return;
  if (socket.domain === AF_UNIX) socket.local = { key: `unix:autobind:${loopback(k).nextPort++}`, raw: Uint8Array.of(AF_UNIX, 0) };
  else bindTo(k, socket, { family: socket.domain, host: LOOPBACK[socket.domain]!, port: 0 });
}

/** The listening or datagram socket an address reaches: an exact bind, or one on the any-address. */
function reach(k: Kernel, a: Address): Socket | undefined {
  const net = loopback(k);
  const exact = net.bound.get(keyOf(a));
  if (exact || a.family === AF_UNIX) return exact;
  return net.bound.get(keyOf({ ...a, host: ANY[a.family]! }));
}

function connect(k: Kernel, fd: number, a: Address): number {
  const { socket } = socketOf(k, fd);
  if (socket.type === SOCK_DGRAM) {
    socket.peerRaw = sockaddrBytes(a);
    autobind(k, socket);
    return 0;
  }
  if (socket.peer) throw new KernelErrno(EISCONN);
  const listener = reach(k, a);
  if (!listener || !listener.listening || listener.type !== SOCK_STREAM) throw new KernelErrno(ECONNREFUSED);
  autobind(k, socket);
  // The server's end, waiting in the backlog until accept: connected at once, as on loopback.
  const server = newSocket(listener.domain, SOCK_STREAM);
  server.local = { key: listener.local!.key, raw: listener.local!.raw };
  server.peer = socket;
  server.peerRaw = socket.local!.raw;
  socket.peer = server;
  socket.peerRaw = sockaddrBytes(a);
  listener.backlog.push(server);
  return 0;
}

function accept(k: Kernel, a: readonly bigint[], flags: number): number | SyscallAction {
  const { file, socket } = socketOf(k, i32(a[0]));
  if (!socket.listening) throw new KernelErrno(EINVAL);
  const next = socket.backlog.shift();
  if (!next) {
    if (file.flags & O_NONBLOCK) throw new KernelErrno(EAGAIN);
    return wouldBlock('accept', 'no client is connecting');
  }
  if (a[1] !== 0n) writeSockaddr(k, next.peerRaw ?? new Uint8Array(2), a[1]!, a[2]!);
  return k.allocFd(socketFile(next, flags), (flags & SOCK_CLOEXEC) !== 0);
}

function wouldBlock(call: string, why: string, timeoutNs?: bigint): SyscallAction {
  return {
    kind: 'unsupported',
    message: `${call} would block forever: ${why}, and the process has one thread (the virtual loopback reaches only this process)`,
    wouldBlock: timeoutNs === undefined ? {} : { timeoutNs },
  };
}

/** Bytes a socket read returns now; undefined when it would block. */
export function socketRead(k: Kernel, file: OpenFile, count: number, flags = 0): Uint8Array | SyscallAction {
  const socket = file.socket!;
  if (socket.type === SOCK_DGRAM) {
    const d = socket.datagrams[0];
    if (!d) {
      if ((file.flags & O_NONBLOCK) || (flags & MSG_DONTWAIT)) throw new KernelErrno(EAGAIN);
      return wouldBlock('recv', 'no datagram is queued');
    }
    if (!(flags & MSG_PEEK)) socket.datagrams.shift();
    return d.data.subarray(0, count);
  }
  if (!socket.peer && !socket.peerClosed) throw new KernelErrno(ENOTCONN);
  if (socket.inbox.length === 0) {
    if (socket.peerClosed) return new Uint8Array(0);
    if ((file.flags & O_NONBLOCK) || (flags & MSG_DONTWAIT)) throw new KernelErrno(EAGAIN);
    return wouldBlock('read', 'no data is queued on the socket');
  }
  const out = Uint8Array.from(flags & MSG_PEEK ? socket.inbox.slice(0, count) : socket.inbox.splice(0, count));
  return out;
}

export function socketWrite(k: Kernel, file: OpenFile, data: Uint8Array, flags = 0, to?: Address): number {
  const socket = file.socket!;
  if (socket.type === SOCK_DGRAM) {
    const target = to ?? (socket.peerRaw ? readAddressBytes(socket.peerRaw) : undefined);
    if (!target) throw new KernelErrno(ENOTCONN);
    autobind(k, socket);
    const dest = reach(k, target);
    if (dest && dest.type === SOCK_DGRAM) dest.datagrams.push({ from: socket.local!.raw, data: data.slice() });
    return data.length; // a datagram to nobody is lost, as UDP loses it
  }
  if (!socket.peer || socket.shutWrite) {
    if (!(flags & MSG_NOSIGNAL)) k.signals.raise({ signo: 13, code: 0, pid: k.pid, uid: 1000 });
    throw new KernelErrno(socket.peer || socket.shutWrite ? EPIPE : ENOTCONN);
  }
  for (const b of data) socket.peer.inbox.push(b);
  return data.length;
}

function readAddressBytes(raw: Uint8Array): Address {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const family = v.getUint16(0, true);
  if (family === AF_INET) return { family, port: v.getUint16(2, false), host: [...raw.subarray(4, 8)].join('.') };
  if (family === AF_INET6) return { family, port: v.getUint16(2, false), host: Array.from({ length: 8 }, (_, i) => v.getUint16(8 + i * 2, false).toString(16)).join(':') };
  const path = new TextDecoder().decode(raw.subarray(2)).replace(/\0.*$/, '');
  return { family, host: '', port: 0, path };
}

/** The last reference to a socket closed: the peer sees end of file, the address is free again. */
export function socketClosed(k: Kernel, socket: Socket): void {
  if (socket.peer) {
    socket.peer.peerClosed = true;
    socket.peer.peer = undefined;
  }
  if (socket.local && loopback(k).bound.get(socket.local.key) === socket) loopback(k).bound.delete(socket.local.key);
}

// ---- readiness: poll, select, epoll ------------------------------------------------------

/** poll(2) bits for an open file now. */
export function readiness(file: OpenFile): number {
  switch (file.kind) {
    case 'socket': {
      const s = file.socket!;
      if (s.listening) return s.backlog.length > 0 ? POLLIN : 0;
      if (s.type === SOCK_DGRAM) return (s.datagrams.length > 0 ? POLLIN : 0) | POLLOUT;
      let bits = s.inbox.length > 0 ? POLLIN : 0;
      if (s.peerClosed) bits |= POLLIN | POLLRDHUP | (s.peer ? 0 : POLLHUP);
      if (s.peer && !s.shutWrite) bits |= POLLOUT;
      return bits;
    }
    case 'eventfd':
      return (file.eventfd!.counter > 0n ? POLLIN : 0) | POLLOUT;
    case 'pipe-read':
      return (file.pipe!.buffer.length > 0 ? POLLIN : 0) | (file.pipe!.writers === 0 ? POLLHUP : 0);
    case 'pipe-write':
      return file.pipe!.readers === 0 ? POLLERR : POLLOUT;
    case 'epoll':
      return [...file.epoll!.interest.values()].some((i) => (readiness(i.file) & i.events) !== 0) ? POLLIN : 0;
    case 'stdin':
    case 'file':
    case 'dir':
    case 'device':
      return POLLIN | POLLOUT;
    case 'stdout':
    case 'stderr':
      return POLLOUT;
  }
}

/** Nothing ready: the caller waits (the process decides how: other threads, or the timeout on the virtual clock). */
function idle(_k: Kernel, call: string, timeoutNs: bigint | undefined): number | SyscallAction {
  return wouldBlock(call, 'no descriptor it waits on can become ready', timeoutNs);
}

function poll(k: Kernel, fds: bigint, count: number, timeoutNs: bigint | undefined): number | SyscallAction {
  if (count < 0 || count > 1024) throw new KernelErrno(EINVAL);
  let ready = 0;
  const results: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = fds + BigInt(i * 8);
    const fd = i32(BigInt(k.u32(at)));
    const events = k.u32(at + 4n) & 0xffff;
    let revents = 0;
    if (fd >= 0) {
      const entry = k.fds.get(fd);
      revents = entry ? readiness(entry.file) & (events | POLLERR | POLLHUP) : POLLNVAL;
    }
    results.push(revents);
    if (revents) ready++;
  }
  if (ready === 0 && timeoutNs !== 0n) return idle(k, 'poll', timeoutNs);
  results.forEach((r, i) => {
    const at = fds + BigInt(i * 8) + 6n;
    k.write(at, Uint8Array.of(r & 0xff, r >> 8));
  });
  return ready;
}

function select(k: Kernel, a: readonly bigint[], timeoutNs: bigint | undefined): number | SyscallAction {
  const nfds = i32(a[0]);
  if (nfds < 0 || nfds > 1024) throw new KernelErrno(EINVAL);
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [a[1]!, a[2]!, a[3]!].map((p) => (p === 0n || bytes === 0 ? undefined : k.read(p, bytes)));
  const masks = [POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI];
  const out = sets.map((s) => (s ? new Uint8Array(s.length) : undefined));
  let ready = 0;
  for (let fd = 0; fd < nfds; fd++) {
    for (let j = 0; j < 3; j++) {
      const set = sets[j];
      if (!set || !(set[fd >> 3]! & (1 << (fd & 7)))) continue;
      const entry = k.fds.get(fd);
      if (!entry) throw new KernelErrno(EBADF);
      if (readiness(entry.file) & masks[j]!) {
        out[j]![fd >> 3]! |= 1 << (fd & 7);
        ready++;
      }
    }
  }
  if (ready === 0 && timeoutNs !== 0n) return idle(k, 'select', timeoutNs);
  [a[1]!, a[2]!, a[3]!].forEach((p, j) => out[j] && k.write(p, out[j]!));
  return ready;
}

function epollOf(k: Kernel, fd: number): Epoll {
  const f = k.file(fd);
  if (!f.epoll) throw new KernelErrno(EINVAL);
  return f.epoll;
}

function epollCtl(k: Kernel, a: readonly bigint[]): number {
  const ep = epollOf(k, i32(a[0]));
  const op = i32(a[1]);
  const fd = i32(a[2]);
  const target = k.file(fd);
  if (target.epoll && target.epoll === ep) throw new KernelErrno(EINVAL);
  if (target.kind === 'file' || target.kind === 'dir') throw new KernelErrno(1); // EPERM: regular files are always ready
  if (op === EPOLL_CTL_DEL) {
    if (!ep.interest.delete(fd)) throw new KernelErrno(ENOENT);
    return 0;
  }
  const events = k.u32(a[3]!);
  const data = k.u64(a[3]! + 4n);
  if (op === EPOLL_CTL_ADD && ep.interest.has(fd)) throw new KernelErrno(EEXIST);
  if (op === EPOLL_CTL_MOD && !ep.interest.has(fd)) throw new KernelErrno(ENOENT);
  if (op !== EPOLL_CTL_ADD && op !== EPOLL_CTL_MOD) throw new KernelErrno(EINVAL);
  ep.interest.set(fd, { events, data, file: target });
  return 0;
}

function epollWait(k: Kernel, a: readonly bigint[]): number | SyscallAction {
  const ep = epollOf(k, i32(a[0]));
  const max = i32(a[2]);
  if (max <= 0) throw new KernelErrno(EINVAL);
  const timeout = i32(a[3]);
  const ready: { events: number; data: bigint }[] = [];
  for (const [fd, i] of ep.interest) {
    if (ready.length >= max) break;
    if (!k.fds.has(fd) || k.fds.get(fd)!.file !== i.file) {
      ep.interest.delete(fd); // closed: the kernel drops it with its last reference
      continue;
    }
    const bits = readiness(i.file) & (i.events | POLLERR | POLLHUP);
    if (bits === 0 || (i.events & ~EPOLLONESHOT) === 0) continue;
    ready.push({ events: bits, data: i.data });
    if (i.events & EPOLLONESHOT) i.events = 0;
  }
  if (ready.length === 0) return idle(k, 'epoll_wait', timeout < 0 ? undefined : BigInt(timeout) * 1_000_000n);
  const out = new Uint8Array(ready.length * 12);
  const v = new DataView(out.buffer);
  ready.forEach((r, n) => {
    v.setUint32(n * 12, r.events, true);
    v.setBigUint64(n * 12 + 4, r.data, true);
  });
  k.write(a[1]!, out);
  return ready.length;
}

function timespecNs(k: Kernel, at: bigint): bigint | undefined {
  if (at === 0n) return undefined;
  return i64(k.u64(at)) * 1_000_000_000n + i64(k.u64(at + 8n));
}

function msgIov(k: Kernel, msg: bigint): { name: bigint; nameLen: bigint; iov: { base: bigint; len: number }[] } {
  const name = k.u64(msg);
  const iovAt = k.u64(msg + 16n);
  const count = Number(k.u64(msg + 24n));
  if (count > 1024) throw new KernelErrno(EINVAL);
  const iov = Array.from({ length: count }, (_, i) => ({ base: k.u64(iovAt + BigInt(i * 16)), len: Number(k.u64(iovAt + BigInt(i * 16 + 8))) }));
  return { name, nameLen: msg + 8n, iov };
}

function recvInto(k: Kernel, fd: number, parts: { base: bigint; len: number }[], flags: number, from: bigint, fromLen: bigint): number | SyscallAction {
  const { file, socket } = socketOf(k, fd);
  const total = parts.reduce((n, p) => n + p.len, 0);
  const sender = socket.type === SOCK_DGRAM ? socket.datagrams[0]?.from : socket.peerRaw;
  const data = socketRead(k, file, total, flags);
  if (!(data instanceof Uint8Array)) return data;
  let o = 0;
  for (const p of parts) {
    const chunk = data.subarray(o, o + p.len);
    k.write(p.base, chunk);
    o += chunk.length;
  }
  if (from !== 0n && sender) writeSockaddr(k, sender, from, fromLen);
  return data.length;
}

function gather(k: Kernel, parts: { base: bigint; len: number }[]): Uint8Array {
  const chunks = parts.map((p) => k.read(p.base, p.len));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export const NET_SYSCALLS: SyscallTable = {
  7: { name: 'poll', run: (k, a) => poll(k, a[0]!, i32(a[1]), i32(a[2]) < 0 ? undefined : BigInt(i32(a[2])) * 1_000_000n) },
  23: {
    name: 'select',
    run: (k, a) => select(k, a, a[4] === 0n ? undefined : i64(k.u64(a[4]!)) * 1_000_000_000n + i64(k.u64(a[4]! + 8n)) * 1000n),
  },
  41: { name: 'socket', run: (k, a) => createSocket(k, i32(a[0]), i32(a[1])) },
  42: { name: 'connect', run: (k, a) => connect(k, i32(a[0]), readSockaddr(k, a[1]!, i32(a[2]))) },
  43: { name: 'accept', run: (k, a) => accept(k, a, 0) },
  44: {
    name: 'sendto',
    run: (k, a) => {
      const { file } = socketOf(k, i32(a[0]));
      const to = a[4] !== 0n ? readSockaddr(k, a[4]!, i32(a[5])) : undefined;
      return socketWrite(k, file, k.read(a[1]!, Number(a[2]!)), i32(a[3]), to);
    },
  },
  45: { name: 'recvfrom', run: (k, a) => recvInto(k, i32(a[0]), [{ base: a[1]!, len: Number(a[2]!) }], i32(a[3]), a[4]!, a[5]!) },
  46: {
    name: 'sendmsg',
    run: (k, a) => {
      const { file } = socketOf(k, i32(a[0]));
      const m = msgIov(k, a[1]!);
      const to = m.name !== 0n ? readSockaddr(k, m.name, k.u32(m.nameLen)) : undefined;
      return socketWrite(k, file, gather(k, m.iov), i32(a[2]), to);
    },
  },
  47: {
    name: 'recvmsg',
    run: (k, a) => {
      const m = msgIov(k, a[1]!);
      const r = recvInto(k, i32(a[0]), m.iov, i32(a[2]), m.name, m.nameLen);
      if (typeof r === 'number') {
        k.writeU64(a[1]! + 40n, 0n); // msg_controllen: no ancillary data
        k.writeU32(a[1]! + 48n, 0); // msg_flags
      }
      return r;
    },
  },
  48: {
    name: 'shutdown',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      const how = i32(a[1]);
      if (how < 0 || how > 2) throw new KernelErrno(EINVAL);
      if (!socket.peer) throw new KernelErrno(ENOTCONN);
      if (how >= 1) {
        socket.shutWrite = true;
        socket.peer.peerClosed = true;
      }
      return 0;
    },
  },
  49: { name: 'bind', run: (k, a) => (bindTo(k, socketOf(k, i32(a[0])).socket, readSockaddr(k, a[1]!, i32(a[2]))), 0) },
  50: {
    name: 'listen',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      if (socket.type !== SOCK_STREAM) throw new KernelErrno(EOPNOTSUPP);
      autobind(k, socket);
      socket.listening = true;
      return 0;
    },
  },
  51: {
    name: 'getsockname',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      const raw = socket.local?.raw ?? sockaddrBytes({ family: socket.domain, host: ANY[socket.domain] ?? '', port: 0, path: '' });
      writeSockaddr(k, raw, a[1]!, a[2]!);
      return 0;
    },
  },
  52: {
    name: 'getpeername',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      if (!socket.peerRaw) throw new KernelErrno(ENOTCONN);
      writeSockaddr(k, socket.peerRaw, a[1]!, a[2]!);
      return 0;
    },
  },
  53: {
    name: 'socketpair',
    run: (k, a) => {
      const domain = i32(a[0]);
      const typeArg = i32(a[1]);
      if (domain !== AF_UNIX) throw new KernelErrno(EAFNOSUPPORT);
      const x = newSocket(domain, typeArg & SOCK_TYPE_MASK);
      const y = newSocket(domain, typeArg & SOCK_TYPE_MASK);
      x.peer = y;
      y.peer = x;
      x.peerRaw = y.peerRaw = Uint8Array.of(AF_UNIX, 0);
      const cloexec = (typeArg & SOCK_CLOEXEC) !== 0;
      const fx = k.allocFd(socketFile(x, typeArg), cloexec);
      const fy = k.allocFd(socketFile(y, typeArg), cloexec);
      k.writeU32(a[3]!, fx);
      k.writeU32(a[3]! + 4n, fy);
      return 0;
    },
  },
  54: {
    name: 'setsockopt',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      const len = i32(a[4]);
      const value = len >= 4 ? BigInt(k.u32(a[3]!)) : 0n;
      socket.options.set(`${i32(a[1])}:${i32(a[2])}`, value);
      return 0;
    },
  },
  55: {
    name: 'getsockopt',
    run: (k, a) => {
      const { socket } = socketOf(k, i32(a[0]));
      const level = i32(a[1]);
      const name = i32(a[2]);
      let value = socket.options.get(`${level}:${name}`) ?? 0n;
      if (level === SOL_SOCKET && name === SO_ERROR) value = 0n;
      if (level === SOL_SOCKET && name === SO_TYPE) value = BigInt(socket.type);
      if (level === SOL_SOCKET && name === SO_ACCEPTCONN) value = socket.listening ? 1n : 0n;
      if (level === SOL_SOCKET && (name === SO_RCVBUF || name === SO_SNDBUF) && value === 0n) value = 212992n;
      if (k.u32(a[4]!) < 4) throw new KernelErrno(EINVAL);
      k.writeU32(a[3]!, Number(value));
      k.writeU32(a[4]!, 4);
      return 0;
    },
  },
  213: { name: 'epoll_create', run: (k, a) => (i32(a[0]) <= 0 ? -EINVAL : k.allocFd({ kind: 'epoll', node: undefined, path: 'anon_inode:[eventpoll]', offset: 0, flags: 2, epoll: { interest: new Map() } }, false)) },
  232: { name: 'epoll_wait', run: epollWait },
  233: { name: 'epoll_ctl', run: epollCtl },
  270: { name: 'pselect6', run: (k, a) => select(k, a, timespecNs(k, a[4]!)) },
  271: { name: 'ppoll', run: (k, a) => poll(k, a[0]!, i32(a[1]), timespecNs(k, a[2]!)) },
  281: { name: 'epoll_pwait', run: epollWait },
  284: { name: 'eventfd', run: (k, a) => k.allocFd({ kind: 'eventfd', node: undefined, path: 'anon_inode:[eventfd]', offset: 0, flags: 2, eventfd: { counter: BigInt(i32(a[0]) >>> 0), semaphore: false } }, false) },
  288: { name: 'accept4', run: (k, a) => accept(k, a, i32(a[3])) },
  290: {
    name: 'eventfd2',
    run: (k, a) => {
      const flags = i32(a[1]);
      return k.allocFd({ kind: 'eventfd', node: undefined, path: 'anon_inode:[eventfd]', offset: 0, flags: 2 | (flags & O_NONBLOCK), eventfd: { counter: BigInt(i32(a[0]) >>> 0), semaphore: (flags & EFD_SEMAPHORE) !== 0 } }, (flags & SOCK_CLOEXEC) !== 0);
    },
  },
  291: { name: 'epoll_create1', run: (k, a) => k.allocFd({ kind: 'epoll', node: undefined, path: 'anon_inode:[eventpoll]', offset: 0, flags: 2, epoll: { interest: new Map() } }, (i32(a[0]) & SOCK_CLOEXEC) !== 0) },
};

/** read(2) of an eventfd: the counter (8 bytes), then zero (or one less for EFD_SEMAPHORE). */
export function eventfdRead(file: OpenFile, count: number): Uint8Array | SyscallAction {
  const e = file.eventfd!;
  if (count < 8) throw new KernelErrno(EINVAL);
  if (e.counter === 0n) {
    if (file.flags & O_NONBLOCK) throw new KernelErrno(EAGAIN);
    return wouldBlock('read', 'the eventfd counter is 0');
  }
  const value = e.semaphore ? 1n : e.counter;
  e.counter -= value;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

export function eventfdWrite(file: OpenFile, data: Uint8Array): number {
  if (data.length < 8) throw new KernelErrno(EINVAL);
  const add = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  if (add === 0xffff_ffff_ffff_ffffn) throw new KernelErrno(EINVAL);
  file.eventfd!.counter += add;
  return 8;
}
