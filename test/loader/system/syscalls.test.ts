// The system model's syscall table, call by call, against the Linux rules a program relies
// on: argument checks before state (EINVAL/EBADF/EFAULT), the errno each failure returns, and
// the state each success leaves (fd numbers, offsets, the program break, the overlay).
import { beforeEach, describe, expect, it } from 'vitest';

import { Perm } from '../../../src/engine/engine.js';
import { createEngine } from '../../../src/engine/index.js';
import { Kernel, KernelErrno, KernelWouldBlock, UserFault } from '../../../src/loader/system/kernel.js';
import { SYSCALLS } from '../../../src/loader/system/syscalls/table.js';
import { Vfs } from '../../../src/loader/system/vfs.js';

const SCRATCH = 0x10000n;
const AT_FDCWD = BigInt.asUintN(64, -100n);

let k: Kernel;

/** Runs syscall `nr` as the process does: -errno for KernelErrno, -EFAULT for a bad pointer. */
function sys(nr: number, ...args: bigint[]): bigint {
  const def = SYSCALLS[nr];
  if (!def) throw new Error(`no syscall ${nr}`);
  try {
    const r = def.run(k, args);
    if (typeof r === 'object') throw new Error(`action ${r.kind}`);
    return BigInt(r);
  } catch (e) {
    if (e instanceof KernelErrno) return -BigInt(e.errno);
    if (e instanceof UserFault) return -14n;
    // A wait for a descriptor: a process with one thread fails it with aloneErrno (process.ts).
    if (e instanceof KernelWouldBlock && e.aloneErrno !== undefined) return -BigInt(e.aloneErrno);
    throw e;
  }
}

function str(text: string, at = SCRATCH): bigint {
  k.mem.writeCString(at, text);
  return at;
}

beforeEach(async () => {
  const vfs = new Vfs();
  vfs.addFile('/lib/libx.so', new TextEncoder().encode('0123456789'), 10);
  vfs.mkdirs('/app');
  k = new Kernel(await createEngine('wasm'), vfs, { pid: 7, exePath: '/app/main', cwd: '/app', stdin: new Uint8Array(0), randomSeed: 1n });
  k.space.mapFixed(SCRATCH, 0x4000n, Perm.RW, '[scratch]');
});

describe('files', () => {
  it('openat returns the lowest free fd; read and lseek move the offset; pread does not', () => {
    const fd = sys(257, AT_FDCWD, str('/lib/libx.so'), 0n, 0n);
    expect(fd).toBe(3n);
    expect(sys(0, fd, SCRATCH + 0x100n, 4n)).toBe(4n);
    expect(k.mem.cstring(SCRATCH + 0x100n).slice(0, 4)).toBe('0123');
    expect(sys(17, fd, SCRATCH + 0x100n, 2n, 8n)).toBe(2n);
    expect(sys(8, fd, 0n, 1n)).toBe(4n); // SEEK_CUR: pread left it at 4
    expect(sys(8, fd, BigInt.asUintN(64, -1n), 2n)).toBe(9n); // SEEK_END - 1
    expect(sys(8, fd, 0n, 7n)).toBe(-22n); // bad whence: EINVAL
    expect(sys(3, fd)).toBe(0n);
    expect(sys(3, fd)).toBe(-9n); // EBADF
  });

  it('names the errno of each failed open: ENOENT, ENOTDIR, EISDIR, EEXIST, EFAULT', () => {
    expect(sys(257, AT_FDCWD, str('/nope'), 0n, 0n)).toBe(-2n);
    expect(sys(257, AT_FDCWD, str('/lib/libx.so/x'), 0n, 0n)).toBe(-20n);
    expect(sys(257, AT_FDCWD, str('/lib'), 2n, 0n)).toBe(-21n); // O_RDWR on a directory
    expect(sys(257, AT_FDCWD, str('/lib/libx.so'), 0o300n, 0o644n)).toBe(-17n); // O_CREAT|O_EXCL
    expect(sys(257, AT_FDCWD, 0x40n, 0n, 0n)).toBe(-14n);
  });

  it('writes go to the overlay: the source bytes never change, a new file lives in memory', () => {
    const source = k.vfs.resolve('/lib/libx.so', '/').node;
    const fd = sys(257, AT_FDCWD, str('/lib/libx.so'), 2n, 0n); // O_RDWR
    k.mem.write(SCRATCH + 0x200n, new TextEncoder().encode('AB'));
    expect(sys(1, fd, SCRATCH + 0x200n, 2n)).toBe(2n);
    expect(new TextDecoder().decode(k.vfs.contents(source as never))).toBe('AB23456789');
    expect((source as { source: Uint8Array }).source).toEqual(new TextEncoder().encode('0123456789'));
    const created = sys(257, AT_FDCWD, str('new.txt'), 0o1101n, 0o644n); // O_WRONLY|O_CREAT|O_TRUNC, relative to /app
    expect(sys(1, created, SCRATCH + 0x200n, 2n)).toBe(2n);
    expect(k.vfs.resolve('/app/new.txt', '/').path).toBe('/app/new.txt');
    expect(sys(87, str('/app/new.txt'))).toBe(0n);
    expect(sys(257, AT_FDCWD, str('/app/new.txt'), 0n, 0n)).toBe(-2n);
  });

  it('stat reports the regular file, its size and a stable inode; getdents64 lists . .. and the children', () => {
    expect(sys(262, AT_FDCWD, str('/lib/libx.so'), SCRATCH + 0x400n, 0n)).toBe(0n);
    expect(k.mem.u32(SCRATCH + 0x400n + 24n) & 0o170000).toBe(0o100000);
    expect(k.mem.u64(SCRATCH + 0x400n + 48n)).toBe(10n);
    const dir = sys(257, AT_FDCWD, str('/lib'), 0o200000n, 0n); // O_DIRECTORY
    const n = sys(217, dir, SCRATCH + 0x800n, 0x400n);
    expect(n).toBeGreaterThan(0n);
    const names: string[] = [];
    for (let o = 0n; o < n; ) {
      const reclen = BigInt(k.mem.read(SCRATCH + 0x800n + o + 16n, 2)[0]!);
      names.push(k.mem.cstring(SCRATCH + 0x800n + o + 19n));
      o += reclen;
    }
    expect(names).toEqual(['.', '..', 'libx.so']);
    expect(sys(217, dir, SCRATCH + 0x800n, 0x400n)).toBe(0n); // end of directory
  });

  it('pipes carry bytes; a read with nothing queued and a writer open is EAGAIN with one thread (another thread would block), after the last writer closes it is EOF', () => {
    expect(sys(293, SCRATCH + 0x300n, 0n)).toBe(0n);
    const r = BigInt(k.mem.u32(SCRATCH + 0x300n));
    const w = BigInt(k.mem.u32(SCRATCH + 0x304n));
    k.mem.write(SCRATCH + 0x200n, Uint8Array.of(1, 2, 3));
    expect(sys(1, w, SCRATCH + 0x200n, 3n)).toBe(3n);
    expect(sys(0, r, SCRATCH + 0x100n, 10n)).toBe(3n);
    expect(sys(0, r, SCRATCH + 0x100n, 10n)).toBe(-11n);
    expect(sys(3, w)).toBe(0n);
    expect(sys(0, r, SCRATCH + 0x100n, 10n)).toBe(0n);
  });

  it('ioctl TCGETS is ENOTTY on stdout (no terminal); dup2 and fcntl F_DUPFD follow the kernel', () => {
    expect(sys(16, 1n, 0x5401n, SCRATCH)).toBe(-25n);
    expect(sys(33, 1n, 10n)).toBe(10n);
    expect(sys(72, 1n, 0n, 5n)).toBe(5n); // F_DUPFD from 5
    expect(sys(72, 99n, 1n, 0n)).toBe(-9n);
  });
});

describe('memory', () => {
  it('madvise(MADV_DONTNEED) makes the range read back as zeros and untouched again, keeping its permissions', () => {
    const base = sys(9, 0n, 0x800000n, 3n, 0x22n, BigInt.asUintN(64, -1n), 0n); // 8 MiB PROT_READ|WRITE, MAP_PRIVATE|ANONYMOUS
    expect(base > 0n).toBe(true);
    k.mem.write(base + 0x1000n, Uint8Array.of(1, 2, 3));
    k.mem.write(base + 0x7ff000n, Uint8Array.of(4));
    expect(sys(10, base + 0x7ff000n, 0x1000n, 1n)).toBe(0n); // the last page read-only
    const touched = (k.engine as unknown as { core: { touchedPages(): bigint } }).core.touchedPages();
    expect(sys(28, base, 0x800000n, 4n)).toBe(0n); // MADV_DONTNEED
    expect([...k.mem.read(base + 0x1000n, 3), ...k.mem.read(base + 0x7ff000n, 1)]).toEqual([0, 0, 0, 0]);
    expect((k.engine as unknown as { core: { touchedPages(): bigint } }).core.touchedPages()).toBeLessThan(touched);
    expect(k.engine.regions().find((r) => r.begin === base + 0x7ff000n)?.perms).toBe(Perm.Read);
    expect(sys(28, base + 1n, 0x1000n, 4n)).toBe(-22n); // unaligned: EINVAL
  });

  it('mmap checks alignment and flags before placing; brk grows and shrinks the heap', () => {
    expect(sys(9, 0x1001n, 0x1000n, 3n, 0x22n, BigInt.asUintN(64, -1n), 0n)).toBe(-22n); // unaligned address
    expect(sys(9, 0n, 0x1000n, 3n, 0x20n, BigInt.asUintN(64, -1n), 0n)).toBe(-22n); // neither private nor shared
    const a = sys(9, 0n, 0x3000n, 3n, 0x22n, BigInt.asUintN(64, -1n), 0n);
    expect(a > 0n && (a & 0xfffn) === 0n).toBe(true);
    expect(sys(11, a, 0x3000n)).toBe(0n);
    k.brkStart = k.brk = 0x5000_0000n;
    expect(sys(12, 0n)).toBe(0x5000_0000n);
    expect(sys(12, 0x5000_2010n)).toBe(0x5000_2010n);
    expect(k.space.find(0x5000_2000n)?.name).toBe('[heap]');
    expect(sys(12, 0x5000_0000n)).toBe(0x5000_0000n);
    expect(k.space.find(0x5000_0000n)).toBeUndefined();
  });

  it('a file mapping is a private copy of the file bytes, zero past its end', () => {
    const fd = sys(257, AT_FDCWD, str('/lib/libx.so'), 0n, 0n);
    const a = sys(9, 0n, 0x2000n, 1n, 2n, fd, 0n); // PROT_READ, MAP_PRIVATE
    expect(new TextDecoder().decode(k.mem.read(a, 10))).toBe('0123456789');
    expect(k.mem.read(a + 10n, 4)).toEqual(new Uint8Array(4));
    expect(k.space.find(a)?.name).toBe('/lib/libx.so');
  });
});

describe('process and time', () => {
  it('arch_prctl sets fs_base; getrandom is seeded; clock_nanosleep advances the virtual clock only', () => {
    expect(sys(158, 0x1002n, 0x1234_5000n)).toBe(0n);
    expect(k.engine.readRegister('fs_base')).toBe(0x1234_5000n);
    expect(sys(318, SCRATCH, 16n, 0n)).toBe(16n);
    const first = k.mem.read(SCRATCH, 16);
    expect(first.some((b) => b !== 0)).toBe(true);
    const before = k.clock.now(1);
    k.mem.writeU64(SCRATCH + 0x40n, 3n);
    k.mem.writeU64(SCRATCH + 0x48n, 0n);
    expect(sys(230, 1n, 0n, SCRATCH + 0x40n, 0n)).toBe(0n);
    expect(k.clock.now(1) - before).toBe(3_000_000_000n);
    expect(sys(228, 99n, SCRATCH)).toBe(-22n);
  });

  it('kill and tgkill reach only this process; exit_group ends it with the status byte', () => {
    expect(sys(62, 8n, 10n)).toBe(-3n); // ESRCH: another pid
    expect(sys(62, 7n, 10n)).toBe(0n);
    expect(k.signals.pending.map((p) => p.signo)).toEqual([10]);
    expect(SYSCALLS[231]!.run(k, [0x1ffn])).toEqual({ kind: 'exit', status: 0xff });
    expect(SYSCALLS[56]!.run(k, [0x3d0f00n])).toMatchObject({ kind: 'unsupported' });
  });
});
