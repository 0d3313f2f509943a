// The system process model end to end: real ld.so, glibc and libstdc++ from the host
// sysroot over the emulated kernel. Each program's stdout (and exit status) must equal the
// native run's; the guest reaches no host file outside the VFS; reruns are identical; what
// is not emulated stops the run naming it.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { GUEST_CWD, SysrootError, buildVfs, directoryFiles } from '../../../src/cli/sysroot.js';
import { ElfFile } from '../../../src/elf/index.js';
import { createEngine } from '../../../src/engine/index.js';
import { PIE_BASE } from '../../../src/loader/layout.js';
import { GUEST_CWD as CWD, SYSCALLS, SystemProcess, TarError, Vfs, isSysrootPath, vfsFromTar } from '../../../src/loader/system/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const ENV = ['HOME=/root', 'LC_ALL=C'];

async function runGuest(name: string, argv: string[] = [], extra: { guest: string; bytes: Uint8Array }[] = [], stdin?: Uint8Array, tty = false, maxInstructions = 100_000_000) {
  const vfs = buildVfs('/', [{ guest: name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) }, ...extra]);
  const engine = await createEngine('wasm');
  const process = SystemProcess.create(engine, { vfs, executable: `./${name}`, argv, envp: ENV, cwd: GUEST_CWD, ...(stdin ? { stdin } : {}), ...(tty ? { tty } : {}) });
  const stop = maxInstructions > 0 ? process.run({ maxInstructions }) : { reason: 'budget' as const, instructions: 0 };
  return { process, stop, engine };
}

/** The host's first line of /etc/passwd: the bytes no guest may ever print. */
function hostPasswdLine(): string {
  return readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
}

function native(name: string, argv: string[] = []): { stdout: string; status: number | null } {
  const r = spawnSync(`./${name}`, argv, { cwd: FIXTURES, env: Object.fromEntries(ENV.map((e) => e.split('='))), encoding: 'utf8' });
  return { stdout: r.stdout, status: r.status };
}

describe('system model: real programs over the emulated kernel', () => {
  it('runs a C program through the real ld.so and glibc with the native stdout', async () => {
    const { process, stop } = await runGuest('hello', ['a', 'b c']);
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    const n = native('hello', ['a', 'b c']);
    expect(process.stdoutText(1)).toBe(n.stdout);
    // ld.so mapped libc.so.6 itself, through openat/mmap on the VFS.
    expect(process.regions().some((m) => m.name.endsWith('/libc.so.6'))).toBe(true);
    expect(process.regions().some((m) => m.name.endsWith('/ld-linux-x86-64.so.2'))).toBe(true);
  });

  it('runs a C++ program (iostream, std::map, exceptions through the real unwinder) with the native stdout and status', async () => {
    const { process, stop } = await runGuest('cxx');
    const n = native('cxx');
    expect(stop).toMatchObject({ reason: 'exited', status: n.status });
    expect(process.stdoutText(1)).toBe(n.stdout);
    expect(process.stdoutText(2)).toBe('to stderr\n');
    expect(process.linkMap().map((l) => l.name.slice(l.name.lastIndexOf('/') + 1))).toEqual(
      expect.arrayContaining(['libstdc++.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libc.so.6']),
    );
  });

  it('gives the guest nothing of the host outside the VFS: /etc/passwd, ../.., symlinks out, /proc/self/{root,cwd}, openat dirfd tricks', async () => {
    const { process, stop } = await runGuest('escape');
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    const out = process.stdoutText(1);
    expect(out).not.toContain('READ');
    expect(out).not.toContain(hostPasswdLine());
    for (const path of [
      '/etc/passwd', '../../../../../../etc/passwd', '/lib/../../etc/passwd', '/proc/self/root/etc/passwd', '/proc/1/root/etc/passwd',
      '/proc/self/cwd/../../../etc/passwd', '/proc/self/cwd/etc/passwd', '/proc/self/fd/3', '/etc/shadow', '/home', 'escape-link', 'dir-link/passwd',
      'openat(AT_FDCWD, /etc/passwd)', 'openat(AT_FDCWD, ../../../etc/passwd)', 'openat(/, etc/passwd)', 'openat(/, ../../etc/passwd)',
      'openat(/, proc/self/root/etc/passwd)', 'openat(O_PATH ., ../../../../etc/passwd)', 'openat(/lib, /etc/passwd)', 'openat(/lib, ../etc/passwd)',
      '../etc/passwd', 'etc/passwd',
    ]) {
      expect(`\n${out}`).toContain(`\n${path}: denied (ENOENT)\n`);
    }
    // No /proc/self/root or cwd link to follow; access() finds nothing; bad dirfds are refused as Linux does.
    expect(out).toContain('readlink /proc/self/root: denied (ENOENT)\nreadlink /proc/self/cwd: denied (ENOENT)\n');
    expect(out).toContain('access /etc/passwd: ENOENT\n');
    expect(out).toContain('openat(fd 12345, etc/passwd): denied (EBADF)\n');
    expect(out).toContain('openat(a file, etc/passwd): denied (ENOTDIR)\n');
    // The root holds only what the VFS was given: no home, no root, no work tree.
    const top = [...out.matchAll(/^\/ has (.*)$/gm)].map((m) => m[1]);
    expect(top.sort()).toEqual(['app', 'dev', 'etc', 'lib', 'lib64', 'proc', 'tmp', 'usr']);
    // The guest's symlinks went to the overlay; the VFS's /etc holds only ld.so.cache.
    expect([...(process.kernel.vfs.resolve('/etc', '/').node as { children: Map<string, unknown> }).children.keys()]).toEqual(['ld.so.cache']);
    // Natively (in a scratch directory: it makes links) the same program reads the host's file: the attempts are real ones.
    const scratch = mkdtempSync(join(tmpdir(), 'patchsandbox-escape-native-'));
    try {
      copyFileSync(join(FIXTURES, 'escape'), join(scratch, 'escape'));
      expect(spawnSync('./escape', [], { cwd: scratch, encoding: 'utf8' }).stdout).toContain('/etc/passwd: READ');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('keeps host symlinks in main\'s directory as links inside the VFS: one pointing out of it (a file, a directory) reads nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchsandbox-escape-'));
    try {
      copyFileSync(join(FIXTURES, 'escape'), join(dir, 'escape'));
      symlinkSync('/etc/passwd', join(dir, 'secret-link'));
      symlinkSync('../../../../../..', join(dir, 'up-link'));
      symlinkSync(join(FIXTURES, 'escape.c'), join(dir, 'host-file-link'));
      writeFileSync(join(dir, 'data.txt'), 'inside the directory\n');
      symlinkSync('data.txt', join(dir, 'inside-link'));
      const vfs = buildVfs('/', directoryFiles(dir));
      const engine = await createEngine('wasm');
      const args = ['secret-link', 'up-link/etc/passwd', 'host-file-link', 'inside-link'];
      const process = SystemProcess.create(engine, { vfs, executable: './escape', argv: args, envp: ENV, cwd: GUEST_CWD });
      expect(process.run({ maxInstructions: 100_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
      const out = process.stdoutText(1);
      for (const path of args.slice(0, 3)) expect(out).toContain(`\n${path}: denied (ENOENT)\n`);
      // A link to a file beside it still works, as it does natively.
      expect(out).toContain('\ninside-link: READ 21 bytes: inside the directory\n');
      expect(out).not.toContain(hostPasswdLine());
      const host = spawnSync('./escape', args, { cwd: dir, encoding: 'utf8' }).stdout;
      expect(host).toContain('secret-link: READ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a mapped file\'s guest path with \'..\' or \'.\' parts', () => {
    expect(() => buildVfs(undefined, [{ guest: '../../etc/x', bytes: Uint8Array.of(1) }])).toThrow(/guest path '..\/..\/etc\/x': give an absolute path or one below the working directory/);
    expect(() => buildVfs(undefined, [{ guest: '/data/../../x', bytes: Uint8Array.of(1) }])).toThrow(SysrootError);
    expect(buildVfs(undefined, [{ guest: './a/b', bytes: Uint8Array.of(1) }]).resolve('/app/a/b', '/').path).toBe('/app/a/b');
  });

  it('reruns identically: same output, instruction count and registers (seeded AT_RANDOM, virtual clock, fixed layout)', async () => {
    const a = await runGuest('cxx');
    const b = await runGuest('cxx');
    expect(b.process.instructions).toBe(a.process.instructions);
    expect(b.process.output.map((c) => c.text + c.at)).toEqual(a.process.output.map((c) => c.text + c.at));
    expect(b.process.regions()).toEqual(a.process.regions());
    expect(b.engine.readRegister('rsp')).toBe(a.engine.readRegister('rsp'));
  });

  it('stops at a system call it does not emulate, naming number, name, arguments and caller', async () => {
    const { process, stop } = await runGuest('unsupported');
    expect(process.stdoutText(1)).toBe('start\n');
    expect(stop.reason).toBe('error');
    if (stop.reason !== 'error') return;
    expect(stop.error.message).toMatch(/^system call 283 \(timerfd_create\) is not emulated by the system model: timerfd_create\(0x1, 0x0, .*\) from (__)?timerfd_create\+0x[0-9a-f]+ \(\/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6\)$/);
  });

  it('runs TCP, UDP, a socketpair, eventfd, poll and epoll on the virtual loopback with the native stdout', async () => {
    const { process, stop } = await runGuest('net');
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(process.stdoutText(1)).toBe(native('net').stdout);
  });

  it('runs a thread started by pthread_create (clone) to its join (threads: test/loader/threads)', async () => {
    const { process, stop } = await runGuest('unsupported', ['thread']);
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(process.stdoutText(1)).toBe(native('unsupported', ['thread']).stdout);
    expect(process.threads.threads.length).toBe(2);
  });

  it('gives the guest its stdin, mapped files, /proc/self, an overlay for writes, the virtual clock and seeded randomness', async () => {
    const file = { guest: '/data/input.txt', bytes: new TextEncoder().encode('alpha\nbeta\n') };
    const { process, stop } = await runGuest('io', ['/data/input.txt'], [file], new TextEncoder().encode('from stdin\n'));
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    const out = process.stdoutText(1);
    expect(out).toContain('stdin 11: from stdin\n');
    expect(out).toContain('file: alpha\nfile: beta\n');
    expect(out).toContain('cwd /app\nexe /app/io\n');
    expect(out).toMatch(/maps: main mapped in [1-9]\d* of \d+ lines/);
    expect(out).toContain('reread: written to the overlay\n');
    expect(out).toContain('slept 1 s\n');
    // The seed is fixed: the same bytes every run (and no host entropy).
    const again = await runGuest('io', ['/data/input.txt'], [file], new TextEncoder().encode('from stdin\n'));
    expect(again.process.stdoutText(1)).toBe(out);
    // Natively the same program, same input, prints the same lines except the paths and the random bytes.
    const n = spawnSync('./io', ['build.sh'], { cwd: FIXTURES, input: 'from stdin\n', encoding: 'utf8' });
    expect(n.stdout).toContain('stdin 11: from stdin\n');
    expect(n.stdout).toContain('slept 1 s\n');
  });

  it('generates /proc/self/status from the emulated state: identity, memory, threads and the signal masks', async () => {
    const { process, stop } = await runGuest('signals');
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    const node = process.kernel.vfs.resolve('/proc/self/status', '/').node;
    const status = new TextDecoder().decode(node.kind === 'file' && node.generated ? node.generated() : new Uint8Array(0));
    const field = (name: string): string => new RegExp(`^${name}:\\t(.*)$`, 'm').exec(status)?.[1] ?? '';
    expect(field('Name')).toBe('signals');
    expect(field('Pid')).toBe('4242');
    expect(field('Threads')).toBe('1');
    const size = process.regions().reduce((n, m) => n + Number(m.end - m.begin), 0);
    expect(field('VmSize')).toBe(`${String(size / 1024).padStart(8)} kB`);
    // The program installed handlers for SIGUSR1 (10) and SIGSEGV (11): bits 9 and 10 of SigCgt.
    const caught = BigInt(`0x${field('SigCgt')}`);
    expect(caught & 0x600n).toBe(0x600n);
  });

  it('makes stdout a pipe (as natively into a pipe), or a terminal with --tty: isatty, TIOCGWINSZ, fstat and glibc\'s line buffering follow', async () => {
    const piped = await runGuest('tty');
    expect(piped.stop).toMatchObject({ reason: 'exited', status: 0 });
    const n = native('tty');
    expect(piped.process.stdoutText(1)).toBe(n.stdout);
    expect(piped.process.stdoutText(1)).toBe('[direct]\nline one\nline two\n');
    expect(piped.process.stdoutText(2)).toBe('isatty 0 0 0\nwindow: ENOTTY\nstdout is a pipe\na file: isatty 0 (ENOTTY)\n');
    const tty = await runGuest('tty', [], [], undefined, true);
    expect(tty.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(tty.process.stdoutText(2)).toBe('isatty 0 1 1\nwindow 80x24\nstdout is a character device\na file: isatty 0 (ENOTTY)\n');
    // Line-buffered on a terminal: "line one" reaches the terminal before the direct write.
    expect(tty.process.stdoutText(1)).toBe('line one\n[direct]\nline two\n');
  });

  it('delivers signals through the real glibc: alternate stack, SIGSEGV with siginfo and siglongjmp, blocked then unblocked', async () => {
    const { process, stop } = await runGuest('signals');
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(process.stdoutText(1)).toBe(native('signals').stdout);
    expect(process.stdoutText(1)).toContain('USR1 handler on the alternate stack: 1');
  });

  it('reports a watched call once, whether a run reaches it or a step lands on it (engines skip a breakpoint at the start address)', async () => {
    const main = PIE_BASE + ElfFile.parse(new Uint8Array(readFileSync(join(FIXTURES, 'hello')))).symbols.find((s) => s.name === 'main')!.value;
    const calls = (p: SystemProcess): number => p.events.filter((e) => e.kind === 'call' && e.address === main).length;
    const a = (await runGuest('hello', [], [], undefined, false, 0)).process;
    a.watchCalls([main]);
    expect(a.run({ maxInstructions: 10_000_000, stopAtCallOf: [main] })).toMatchObject({ reason: 'call', address: main });
    const arrival = a.instructions;
    expect(calls(a)).toBe(1);
    // The next run starts at main: the arrival was reported, it is not reported (or stopped at) again.
    expect(a.run({ maxInstructions: 1, stopAtCallOf: [main] }).reason).toBe('budget');
    expect(calls(a)).toBe(1);
    // A run that ends just before main (its budget used up) and a step from there: reported by the step.
    const b = (await runGuest('hello', [], [], undefined, false, 0)).process;
    b.watchCalls([main]);
    while (b.instructions < arrival) expect(b.run({ maxInstructions: arrival - b.instructions }).reason).toBe('budget');
    expect(calls(b)).toBe(0);
    b.run({ maxInstructions: 1 });
    expect(calls(b)).toBe(1);
    expect(b.events.find((e) => e.kind === 'call')).toMatchObject({ at: arrival, address: main });
  });

  it('has one table entry per implemented call, each with its Linux name', () => {
    const names = Object.values(SYSCALLS).map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(SYSCALLS[257]?.name).toBe('openat');
    expect(SYSCALLS[41]?.name).toBe('socket');
    expect(SYSCALLS[283]).toBeUndefined();
  });
});

describe('system model VFS: resolution stays inside the tree', () => {
  const vfs = new Vfs();
  vfs.addFile('/lib/libx.so', Uint8Array.of(1, 2, 3), 3);
  vfs.addSymlink('/lib64', '/lib');
  vfs.addSymlink('/lib/up', '../../../../../..');
  vfs.addSymlink('/loop', '/loop');

  it('keeps ".." at the root and resolves absolute link targets inside the tree', () => {
    expect(vfs.resolve('/../../lib/libx.so', '/').path).toBe('/lib/libx.so');
    expect(vfs.resolve('/lib64/libx.so', '/').path).toBe('/lib/libx.so');
    expect(vfs.resolve('/lib/up/lib/libx.so', '/').path).toBe('/lib/libx.so');
  });

  it('reports ENOENT, ENOTDIR and ELOOP as errno values', () => {
    expect(() => vfs.resolve('/etc/passwd', '/')).toThrow(expect.objectContaining({ errno: 2 }));
    expect(() => vfs.resolve('/lib/libx.so/x', '/')).toThrow(expect.objectContaining({ errno: 20 }));
    expect(() => vfs.resolve('/loop', '/')).toThrow(expect.objectContaining({ errno: 40 }));
  });

  it('never reads a lazy source before it is needed, and writes go to the overlay copy', () => {
    let reads = 0;
    const v = new Vfs();
    const node = v.addFile('/f', () => {
      reads++;
      return Uint8Array.of(7, 8);
    }, 0);
    expect(reads).toBe(0);
    const data = v.overlay(node);
    data[0] = 9;
    expect(reads).toBe(1);
    expect([...v.contents(node)]).toEqual([9, 8]);
  });
});

// The native oracle is the host: keep the fixtures in step with it.
it('fixtures are dynamic PIEs using the host loader', () => {
  expect(execFileSync('readelf', ['-l', join(FIXTURES, 'cxx')], { encoding: 'utf8' })).toContain('/lib64/ld-linux-x86-64.so.2');
});

describe('system model: a sysroot from a tar archive (what the browser page can be given)', () => {
  it('runs the C program from a tar of ld.so and libc.so.6 (absolute symlinks resolved inside), stdout as natively', async () => {
    // /lib64 -> usr/lib64, /usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/..., /lib -> usr/lib on Debian 12.
    const tar = execFileSync('tar', ['-cf', '-', '-C', '/', 'lib', 'lib64', 'usr/lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/libc.so.6'], { maxBuffer: 1 << 26 });
    const vfs = vfsFromTar(new Uint8Array(tar.buffer, tar.byteOffset, tar.byteLength));
    const main = new Uint8Array(readFileSync(join(FIXTURES, 'hello')));
    vfs.addFile(`${CWD}/hello`, main, main.length, 0o755);
    const engine = await createEngine('wasm');
    const process = SystemProcess.create(engine, { vfs, executable: './hello', argv: ['x'], envp: ENV, cwd: CWD });
    expect(process.run({ maxInstructions: 10_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(process.stdoutText(1)).toBe(native('hello', ['x']).stdout);
  });

  it('keeps only the library directories and /etc/ld.so.cache of a whole image\'s tar when asked (the page does)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchsandbox-image-'));
    try {
      for (const d of ['etc', 'root', 'usr/lib/x86_64-linux-gnu/glibc-hwcaps', 'lib64']) mkdirSync(join(dir, d), { recursive: true });
      for (const f of ['etc/passwd', 'etc/ld.so.cache', 'root/secret', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/glibc-hwcaps/x', 'lib64/ld-linux-x86-64.so.2']) writeFileSync(join(dir, f), f);
      symlinkSync('usr/lib', join(dir, 'lib'));
      const tar = new Uint8Array(execFileSync('tar', ['-cf', '-', '-C', dir, '.']));
      const vfs = vfsFromTar(tar, undefined, { only: isSysrootPath });
      for (const kept of ['/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']) expect(vfs.resolve(kept, '/').node.kind).toBe('file');
      for (const dropped of ['/etc/passwd', '/root/secret', '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x']) expect(() => vfs.resolve(dropped, '/')).toThrow(expect.objectContaining({ errno: 2 }));
      expect(() => vfsFromTar(tar).resolve('/etc/passwd', '/')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a truncated archive and a member that climbs out with ..', () => {
    const tar = new Uint8Array(execFileSync('tar', ['-cf', '-', '-C', FIXTURES, 'hello.c']));
    expect(() => vfsFromTar(tar.subarray(0, 700))).toThrow(TarError);
    const evil = tar.slice();
    evil.set(new TextEncoder().encode('../../etc/passwd\0'), 0);
    // The header checksum is not what the reader trusts; the name is.
    expect(() => vfsFromTar(evil)).toThrow(/climbs out of the archive/);
  });
});
