// Hostile input and hostile guests (issue 17): every way a file or a program tried to hang the
// tool, grow its memory without bound, print more than one line, or forge the report ends as
// the contract says: the right exit code, one line on stderr, within generous time and memory
// bounds measured from the child process (600 MB; 60 s, since a loaded 2-core CI machine may
// take 20 s just to start a tsx child: the bound catches hangs, each of which ran for minutes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const PROBE = join(REPO_ROOT, 'test/hostile/rss-probe.mjs');
const BIN = join(REPO_ROOT, 'test/hostile/bin');
const SEED = join(REPO_ROOT, 'corpus/seed-classic');
const TIME_BOUND_MS = 60_000;
const MEMORY_BOUND_MB = 600;
const tmp = mkdtempSync(join(tmpdir(), 'hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakMb: number;
}

let runs = 0;
function run(args: string[], shell?: string): Run {
  const rssFile = join(tmp, `rss-${runs++}`);
  const started = Date.now();
  const argv = [process.execPath, '--import', 'tsx', '--import', PROBE, CLI, ...args];
  const result = shell === undefined
    ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000, maxBuffer: 64 << 20, env: { ...process.env, HOSTILE_RSS_FILE: rssFile } })
    : spawnSync('bash', ['-c', `${argv.map((a) => `'${a}'`).join(' ')} ${shell}`], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000, env: { ...process.env, HOSTILE_RSS_FILE: rssFile } });
  const ms = Date.now() - started;
  const peakMb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : Number.NaN;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms, peakMb };
}

/** On the stubs model (the one whose libc stubs charge and refuse work); systemHostile runs the real glibc. */
function hostile(name: string, ...options: string[]): Run {
  return run([join(BIN, name), join(BIN, 'patch.so'), 'target', '--process', 'stubs', ...options]);
}

function systemHostile(name: string, ...options: string[]): Run {
  return run([join(BIN, name), join(BIN, 'patch.so'), 'target', '--process', 'system', ...options]);
}

/** Exit 2, one prefixed line on stderr (no stack trace, no stray runtime output), within the bounds. */
function expectOneLine(r: Run, pattern: RegExp, memoryBoundMb = MEMORY_BOUND_MB): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^verify-patch: /);
  expect(lines[0]).not.toMatch(/internal error/);
  expect(lines[0]).toMatch(pattern);
  expectBounded(r, memoryBoundMb);
}

function expectBounded(r: Run, memoryBoundMb = MEMORY_BOUND_MB): void {
  expect(r.ms).toBeLessThan(TIME_BOUND_MS);
  expect(r.peakMb).toBeLessThan(memoryBoundMb);
}

/** A copy of `file` with `edit` applied to its bytes, in the test's temporary folder. */
function mutated(file: string, name: string, edit: (b: Buffer) => void): string {
  const bytes = readFileSync(file);
  edit(bytes);
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** The index-th PT_LOAD's program header offset. */
function loadHeader(b: Buffer, which: 'first' | 'writable' | 'last'): number {
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phnum = b.readUInt16LE(0x38);
  const loads: number[] = [];
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * 56) === 1) loads.push(phoff + i * 56);
  if (which === 'first') return loads[0]!;
  if (which === 'last') return loads[loads.length - 1]!;
  return loads.find((at) => (b.readUInt32LE(at + 4) & 2) !== 0)!;
}

describe('hostile input files', () => {
  it('a FIFO, /dev/zero and a 1.9 GB sparse file are refused before reading', () => {
    const fifo = join(tmp, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expectOneLine(run([fifo, join(SEED, 'patch.so'), 'need_fix_func']), /cannot read main '.*fifo': not a regular file \(a FIFO\)/);
    expectOneLine(run([join(SEED, 'main'), '/dev/zero', 'need_fix_func']), /cannot read patch\.so '\/dev\/zero': not a regular file \(a character device\)/);
    const sparse = join(tmp, 'sparse');
    writeFileSync(sparse, '');
    truncateSync(sparse, 1900 * 1024 * 1024);
    expectOneLine(run([sparse, join(SEED, 'patch.so'), 'need_fix_func']), /1992294400 bytes is more than --max-file-size 536870912/);
    expectOneLine(run([join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--max-file-size', '4K']), /more than --max-file-size 4096/);
  });

  it('segments with absurd sizes or addresses are refused before anything is mapped, naming the segment', () => {
    const setMemsz = (which: 'first' | 'writable' | 'last', size: bigint) => (b: Buffer) => b.writeBigUInt64LE(size, loadHeader(b, which) + 40);
    const huge = mutated(join(SEED, 'main'), 'memsz-7fff', setMemsz('writable', 0x7fff00000000n));
    expectOneLine(run([huge, join(SEED, 'patch.so'), 'need_fix_func', '--process', 'stubs']), /program header \d+ \(PT_LOAD at 0x[0-9a-f]+, p_memsz 0x7fff00000000\).*address-space limit/);
    const fourGb = mutated(join(SEED, 'main'), 'memsz-4g', setMemsz('writable', 0x100000000n));
    expectOneLine(run([fourGb, join(SEED, 'patch.so'), 'need_fix_func', '--process', 'stubs']), /p_memsz 0x100000000\).*address-space limit/);
    const wrap = mutated(join(SEED, 'main'), 'memsz-2-63', setMemsz('writable', 1n << 63n));
    expectOneLine(run([wrap, join(SEED, 'patch.so'), 'need_fix_func']), /program header \d+ \(LOAD\).*(wraps|beyond the 47-bit user address space)/);
    const high = mutated(join(SEED, 'patch.so'), 'patch-high', (b) => {
      const at = loadHeader(b, 'last');
      b.writeBigUInt64LE(0x800000000000n + (b.readBigUInt64LE(at + 8) & 0xfffn), at + 16);
    });
    expectOneLine(run([join(SEED, 'main'), high, 'need_fix_func']), /program header \d+ \(LOAD\).*beyond the 47-bit user address space/);
  });

  it('a 1 GiB .bss costs nothing until touched: the run goes on as natively', () => {
    const bss = mutated(join(SEED, 'main'), 'memsz-1g', (b) => b.writeBigUInt64LE(1n << 30n, loadHeader(b, 'writable') + 40));
    const r = run([bss, join(SEED, 'patch.so'), 'need_fix_func']);
    expect(r.code, r.stderr).toBe(0);
    expectBounded(r);
  });

  it('e_shstrndx = 0 (an iced-x86 exception inside) is one line of the analysis error', () => {
    const noNames = mutated(join(SEED, 'main'), 'shstrndx-0', (b) => b.writeUInt16LE(0, 62));
    expectOneLine(run([noNames, join(SEED, 'patch.so'), 'need_fix_func']), /could not verify: /);
  });

  it('a template that would exhaust Keystone is refused in one line; an executable as patch.so is refused as glibc does', () => {
    expectOneLine(run([join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--trampoline', '.space 2000000000; movabs rax, {target}; jmp rax']), /template uses the directive \.space/);
    expectOneLine(hostileWithPatch('mmap-untouched', 'pie-patch.so'), /cannot dynamically load position-independent executable/);
  });

  it('a main without PT_INTERP is refused (natively it crashes at once), not verified SAFE', () => {
    expectOneLine(hostile('no-interp'), /has a dynamic section but no PT_INTERP/);
  });

  it('an ifunc target names the implementation its resolver selects in this process and is refused explicitly', () => {
    expectOneLine(hostile('ifunc'), /GNU indirect function \(STT_GNU_IFUNC\).*in this process target_generic\+0x0 .* at 0x[0-9a-f]+; .*give that implementation as <sym>/);
  });
});

function hostileWithPatch(main: string, patch: string, ...options: string[]): Run {
  return run([join(BIN, main), join(BIN, patch), 'target', ...options]);
}

describe('hostile guests: memory', () => {
  it('an untouched 1 GiB mmap is free; a 100 GB mmap gets ENOMEM', () => {
    const untouched = hostile('mmap-untouched');
    expect(untouched.code, untouched.stderr).toBe(0);
    expect(untouched.stdout).toContain('mmap 1 GiB ok');
    expectBounded(untouched);
    const huge = hostile('mmap-huge');
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.stdout).toContain('mmap 100 GB failed');
    expectBounded(huge);
  });

  it('touching more than --max-memory ends the run: "the guest exceeded the memory limit"', () => {
    expectOneLine(hostile('touch', '--max-memory', '256M'), /the guest exceeded the memory limit: more than 256 MiB of touched pages \(--max-memory\)/);
    expectOneLine(hostile('malloc-touch', '--max-memory', '256M'), /the guest exceeded the memory limit: more than 256 MiB/);
  });

  it('the default limit is 1 GiB of touched pages (3 GB touched ends there, not in host memory growth)', () => {
    expectOneLine(hostile('touch'), /the guest exceeded the memory limit: more than 1024 MiB/, 1700);
  });

  it('the unicorn engine gives the same answers', () => {
    const huge = hostile('mmap-huge', '--engine', 'unicorn');
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.stdout).toContain('mmap 100 GB failed');
    expectOneLine(hostile('touch', '--engine', 'unicorn', '--max-memory', '256M'), /the guest exceeded the memory limit/);
  });
});

describe('hostile guests: work, time and output', () => {
  it('host work counts against the budget: a 1 MiB memset in a loop, an unknown syscall in a loop', () => {
    expectOneLine(hostile('memset-loop', '--max-insns', '50000000'), /budget ran out after \d+ instructions and \d+ more for host work/);
    expectOneLine(hostile('syscall-loop', '--max-insns', '50000000'), /budget ran out after \d+ instructions and \d+ more for host work/);
  });

  it('printf with a 100000000 precision or a 2^30 width is refused, not formatted', () => {
    expectOneLine(hostile('printf-precision'), /printf: the conversion %f with precision 100000000 would format more than/);
    expectOneLine(hostile('printf-width'), /printf: the conversion %c with width 1073741824 would format more than/);
  });

  it('output is bounded: a 1 GiB write is streamed and counted, a write loop stays small', () => {
    const big = hostile('write-huge');
    expect(big.code, big.stderr).toBe(0);
    // Checked as booleans: a failure must not print 128 KiB of escaped zeros.
    expect(/\[\.\.\. \d+ bytes not kept \(--max-output 65536: first and last 65536 bytes of 10737418\d\d\) \.\.\.\]/.test(big.stdout)).toBe(true);
    expect(big.stdout.includes('wrote 1073741824')).toBe(true);
    expect(big.stdout.length).toBeLessThan(1 << 20);
    expectBounded(big);
    expectOneLine(hostile('write-loop', '--max-insns', '50000000'), /budget ran out/);
  });

  it('--timeout stops a guest spinning under a huge budget, and says so', () => {
    const r = hostile('spin', '--timeout', '2', '--max-insns', '1000000000000');
    expectOneLine(r, /the run exceeded the wall-clock limit of 2 s \(--timeout\)/);
  });
});

describe('hostile guests on the system model (the real glibc): the same limits hold', () => {
  it('--timeout stops a spinning guest', () => {
    expectOneLine(systemHostile('spin', '--timeout', '2', '--max-insns', '1000000000000'), /the run exceeded the wall-clock limit of 2 s \(--timeout\)/);
  });

  it('touching more than --max-memory ends the run as a limit, never as host memory growth', () => {
    expectOneLine(systemHostile('touch', '--max-memory', '256M'), /the guest exceeded the memory limit: more than 256 MiB|exceeds the guest's address-space limit of 1024 MiB/);
  });

  it('a 1 GiB write moves at most 1 MiB per call and the kept output stays bounded', () => {
    const big = systemHostile('write-huge', '--max-insns', '50000000');
    expect(big.stdout.length).toBeLessThan(1 << 20);
    expectBounded(big);
  });
});

describe('the terminal and the report output', () => {
  it('guest control characters are shown escaped: no screen clearing, no title, no clipboard, no forged verdict', () => {
    const r = hostile('terminal');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(r.stdout).toContain('\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x1b]52;c;ZXZpbA==\\x07\\rverdict: SAFE');
    expect(r.stdout).toContain('\\u202e bidi override');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('verdict:'))).toEqual([lines[lines.length - 1]]);
  });

  it('piped to head -1 (EPIPE) it stops quietly with the verdict\'s exit code; /dev/full is one line, exit 2', () => {
    const head = run([join(BIN, 'write-huge'), join(BIN, 'patch.so'), 'target'], '| head -c 10 >/dev/null; exit ${PIPESTATUS[0]}');
    expect(head.code, head.stderr).toBe(0);
    expect(head.stderr).toBe('');
    const full = run([join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func'], '>/dev/full');
    expectOneLine(full, /cannot write the report to standard output: ENOSPC/);
  });

  it('--help documents the limits', () => {
    const help = run(['--help']);
    for (const option of ['--timeout', '--max-memory', '--max-output', '--max-file-size']) expect(help.stdout).toContain(option);
  });
});
