// The emulated Linux kernel's per-process state for the system model: the file table over
// the VFS, the working directory, the program break, the seeded random source, and checked
// access to user memory (what copy_from_user/copy_to_user do: a bad pointer is EFAULT,
// never a host error). The system calls themselves live in syscalls/, one module per area.

import { Perm, type Engine } from '../../engine/engine.js';
import type { ProcessEvent } from '../events.js';
import { CapturedOutput } from '../captured-output.js';
import { DEFAULT_MAX_OUTPUT } from '../limits.js';
import { GuestMemory, bytesOfU32, bytesOfU64, decodeUtf8, le32, le64 } from '../guest-memory.js';
import { AddressSpace } from '../kernel/address-space.js';
import { VirtualClock } from '../kernel/clock.js';
import { EBADF, EFAULT, EMFILE } from '../kernel/errno.js';
import { SignalState } from '../kernel/signals.js';
import { Vfs, type VfsNode, type VfsState } from './vfs.js';
import { socketClosed, type Epoll, type EventFd, type Loopback, type Socket } from './syscalls/net.js';

/** A user pointer the guest passed was bad: the system call returns -EFAULT. */
export class UserFault extends Error {
  constructor(readonly address: bigint) {
    super(`bad user address 0x${address.toString(16)}`);
  }
}

/** A pipe's buffer, shared by its two ends. */
export interface Pipe {
  buffer: number[];
  readers: number;
  writers: number;
}

/** An open file description (what open(2) creates and dup(2) shares). */
export interface OpenFile {
  kind: 'file' | 'dir' | 'device' | 'stdin' | 'stdout' | 'stderr' | 'pipe-read' | 'pipe-write' | 'socket' | 'eventfd' | 'epoll';
  node: VfsNode | undefined;
  /** The canonical path it was opened by (for /proc/self/fd and fault messages). */
  path: string;
  offset: number;
  /** O_ACCMODE, O_APPEND, O_NONBLOCK... as open(2) got them. */
  flags: number;
  pipe?: Pipe;
  socket?: Socket;
  eventfd?: EventFd;
  epoll?: Epoll;
  /** getdents64: index of the next entry. */
  dirCursor?: number;
}

export interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

/** A small deterministic generator (xorshift64*) for getrandom, /dev/urandom and AT_RANDOM. */
export class SeededRandom {
  private state: bigint;
  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed) || 0x9e3779b97f4a7c15n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) {
      let x = this.state;
      x ^= x >> 12n;
      x ^= BigInt.asUintN(64, x << 25n);
      x ^= x >> 27n;
      this.state = x;
      let v = BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
      for (let j = 0; j < 8 && i + j < n; j++) {
        out[i + j] = Number(v & 0xffn);
        v >>= 8n;
      }
    }
    return out;
  }
  get seed(): bigint {
    return this.state;
  }
  set seed(value: bigint) {
    this.state = value;
  }
}

export interface KernelOptions {
  pid: number;
  /** Canonical guest path of the executable (/proc/self/exe). */
  exePath: string;
  cwd: string;
  stdin: Uint8Array;
  randomSeed: bigint;
  /** Output bytes kept per stream at each end (default limits.ts). */
  maxOutput?: number;
  /** stdout and stderr are a terminal (isatty, a character device, an 80x24 window); default: pipes. */
  tty?: boolean;
}

export interface KernelState {
  /** A private copy of the descriptor table and everything it reaches (pipes, sockets, epoll sets). */
  fds: Map<number, FdEntry>;
  net: Loopback;
  cwd: string;
  brkStart: bigint;
  brk: bigint;
  random: bigint;
  umask: number;
  tidAddress: bigint;
  altStack: { sp: bigint; flags: number; size: bigint };
  /** The VFS overlay: files written, created, removed or renamed. */
  vfs: VfsState;
}

export class Kernel {
  readonly mem: GuestMemory;
  readonly space: AddressSpace;
  readonly signals = new SignalState();
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly fds = new Map<number, FdEntry>();
  /** stdout and stderr, bounded: the first and last `maxOutput` bytes per stream are kept, the rest counted. */
  readonly captured: CapturedOutput;
  readonly events: ProcessEvent[] = [];
  cwd: string;
  brkStart = 0n;
  brk = 0n;
  umask = 0o022;
  tidAddress = 0n;
  /** sigaltstack's record (SS_DISABLE until set). */
  altStack = { sp: 0n, flags: 2, size: 0n };
  /** The virtual loopback: bound sockets by address, ephemeral ports from 32768 (deterministic). */
  net: Loopback = { bound: new Map(), nextPort: 32768 };
  /** Set by the process: the current instruction count, for output and event times. */
  now: () => number = () => 0;

  constructor(
    readonly engine: Engine,
    readonly vfs: Vfs,
    readonly options: KernelOptions,
  ) {
    this.mem = new GuestMemory(engine);
    this.captured = new CapturedOutput(options.maxOutput ?? DEFAULT_MAX_OUTPUT);
    this.space = new AddressSpace(engine);
    this.cwd = options.cwd;
    this.random = new SeededRandom(options.randomSeed);
    const stdin: OpenFile = { kind: 'stdin', node: undefined, path: 'pipe:[stdin]', offset: 0, flags: 0 };
    this.fds.set(0, { file: stdin, cloexec: false });
    this.fds.set(1, { file: { kind: 'stdout', node: undefined, path: 'pipe:[stdout]', offset: 0, flags: 1 }, cloexec: false });
    this.fds.set(2, { file: { kind: 'stderr', node: undefined, path: 'pipe:[stderr]', offset: 0, flags: 1 }, cloexec: false });
  }

  get pid(): number {
    return this.options.pid;
  }

  record(event: ProcessEvent): void {
    if (event.at === 0) event.at = this.now();
    this.events.push(event);
  }

  emit(fd: 1 | 2, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.captured.append(fd, bytes, this.now());
  }

  // ---- file descriptors ----------------------------------------------------------------

  file(fd: number): OpenFile {
    const entry = this.fds.get(fd);
    if (!entry) throw new KernelErrno(EBADF);
    return entry.file;
  }

  /** The lowest free descriptor at or above `from`, as the kernel allocates. */
  allocFd(file: OpenFile, cloexec: boolean, from = 0): number {
    for (let fd = from; fd < 1024; fd++) {
      if (!this.fds.has(fd)) {
        this.fds.set(fd, { file, cloexec });
        return fd;
      }
    }
    throw new KernelErrno(EMFILE);
  }

  closeFd(fd: number): void {
    const entry = this.fds.get(fd);
    if (!entry) throw new KernelErrno(EBADF);
    this.fds.delete(fd);
    const f = entry.file;
    if ([...this.fds.values()].some((e) => e.file === f)) return;
    if (f.pipe) {
      if (f.kind === 'pipe-read') f.pipe.readers--;
      else f.pipe.writers--;
    }
    if (f.socket) socketClosed(this, f.socket);
  }

  // ---- user memory, checked as the kernel's uaccess does ----------------------------------

  private check(address: bigint, size: number, need: Perm): void {
    if (size <= 0) return;
    const end = address + BigInt(size);
    if (end > 1n << 47n || address < 0x1000n) throw new UserFault(address);
    let at = address;
    while (at < end) {
      const m = this.space.find(at);
      if (!m || (m.perms & need) === 0) throw new UserFault(at);
      at = m.end;
    }
  }

  read(address: bigint, size: number): Uint8Array {
    this.check(address, size, Perm.Read);
    return this.mem.read(address, size);
  }

  write(address: bigint, data: Uint8Array): void {
    this.check(address, data.length, Perm.Write);
    this.mem.write(address, data);
  }

  u32(address: bigint): number {
    return le32(this.read(address, 4));
  }

  u64(address: bigint): bigint {
    return le64(this.read(address, 8));
  }

  writeU32(address: bigint, value: number): void {
    this.write(address, bytesOfU32(value));
  }

  writeU64(address: bigint, value: bigint): void {
    this.write(address, bytesOfU64(value));
  }

  /** A NUL-terminated path or string from user memory (at most 4096 bytes, as PATH_MAX). */
  cstring(address: bigint, limit = 4096): string {
    if (address === 0n) throw new UserFault(0n);
    this.check(address, 1, Perm.Read);
    const bytes = this.mem.cstringBytes(address, limit);
    this.check(address, bytes.length + 1, Perm.Read);
    return decodeUtf8(bytes);
  }

  // ---- snapshots ------------------------------------------------------------------------

  saveState(): KernelState {
    const copy = cloneDescriptors(this.fds, this.net);
    return {
      fds: copy.fds,
      net: copy.net,
      cwd: this.cwd,
      brkStart: this.brkStart,
      brk: this.brk,
      random: this.random.seed,
      umask: this.umask,
      tidAddress: this.tidAddress,
      altStack: { ...this.altStack },
      vfs: this.vfs.saveState(),
    };
  }

  restoreState(s: KernelState): void {
    // Copied again: a snapshot may be restored more than once.
    const copy = cloneDescriptors(s.fds, s.net);
    this.fds.clear();
    for (const [fd, e] of copy.fds) this.fds.set(fd, e);
    this.net = copy.net;
    this.cwd = s.cwd;
    this.brkStart = s.brkStart;
    this.brk = s.brk;
    this.random.seed = s.random;
    this.umask = s.umask;
    this.tidAddress = s.tidAddress;
    this.altStack = { ...s.altStack };
    this.vfs.restoreState(s.vfs);
  }
}

/**
 * The descriptor table and what it reaches, copied with its sharing kept (dup'ed fds share one
 * description, a socket's peer and an epoll set's entries point into the same copy). VFS nodes
 * are shared, not copied: the VFS's own state (Vfs.saveState) rolls their contents back.
 */
function cloneDescriptors(fds: ReadonlyMap<number, FdEntry>, net: Loopback): { fds: Map<number, FdEntry>; net: Loopback } {
  const files = new Map<OpenFile, OpenFile>();
  const sockets = new Map<Socket, Socket>();
  const pipes = new Map<Pipe, Pipe>();
  const socket = (s: Socket): Socket => {
    const known = sockets.get(s);
    if (known) return known;
    const c: Socket = { ...s, inbox: [...s.inbox], datagrams: [...s.datagrams], backlog: [], options: new Map(s.options) };
    sockets.set(s, c);
    if (s.peer) c.peer = socket(s.peer);
    c.backlog = s.backlog.map(socket);
    return c;
  };
  const file = (f: OpenFile): OpenFile => {
    const known = files.get(f);
    if (known) return known;
    const c: OpenFile = { ...f };
    files.set(f, c);
    if (f.pipe) {
      const p = f.pipe;
      c.pipe = pipes.get(p) ?? { ...p, buffer: [...p.buffer] };
      pipes.set(p, c.pipe);
    }
    if (f.socket) c.socket = socket(f.socket);
    if (f.eventfd) c.eventfd = { ...f.eventfd };
    if (f.epoll) {
      const interest = new Map<number, { events: number; data: bigint; file: OpenFile }>();
      c.epoll = { interest };
      for (const [fd, i] of f.epoll.interest) interest.set(fd, { ...i, file: file(i.file) });
    }
    return c;
  };
  const outFds = new Map<number, FdEntry>();
  for (const [fd, e] of fds) outFds.set(fd, { file: file(e.file), cloexec: e.cloexec });
  const bound = new Map<string, Socket>();
  for (const [key, s] of net.bound) bound.set(key, socket(s));
  return { fds: outFds, net: { bound, nextPort: net.nextPort } };
}

/** A system call that cannot complete in this sandbox (it would block forever): the run stops with the message. */
export class KernelStop extends Error {}

/** A call that waits for a descriptor (thrown where the handler cannot return the action): see WouldBlock. */
export class KernelWouldBlock extends KernelStop {
  constructor(message: string, readonly timeoutNs?: bigint, readonly aloneErrno?: number) {
    super(message);
  }
}

/** A system call's failure: the guest gets -errno in rax. */
export class KernelErrno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

export const EFAULT_VALUE = -BigInt(EFAULT);
