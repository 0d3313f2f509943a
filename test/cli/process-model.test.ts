// The process-model options through the real CLI: --process system|stubs (system the default
// here, where / has an x86-64 ld.so), --sysroot, --arg, --env, --stdin, --file; misuse is one
// line on stderr and exit 2; the report names the model and the libc.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const SEED = join(REPO_ROOT, 'corpus/seed-classic');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const seed = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func'];

describe('verify-patch --process', () => {
  it('defaults to the system model, names glibc in the report, and passes --arg/--env to main', () => {
    const r = run(...seed, '--signal', 'USR1', '--arg', '6', '--arg', '1', '--env', 'LC_ALL=C', '--format', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { run: { process: { model: string; libc: string }; output: { text: string }[] } };
    expect(json.run.process.model).toBe('system');
    expect(json.run.process.libc).toMatch(/^glibc 2\.\d+ .*\/libc\.so\.6\)$/);
    // argv "6 1": the program raises SIGUSR1 at its first iteration and counts to 6.
    expect(json.run.output.map((l) => l.text)).toContain('after fix cur times 5');
    const text = run(...seed, '--with', 'fix_func');
    expect(text.stdout).toMatch(/^ {2}process {6}system model: the real ld\.so and glibc 2\.\d+/m);
  });

  it('defaults to the system model with --engine unicorn too, with the same report as the wasm engine', () => {
    const reports = ['wasm', 'unicorn'].map((engine) => {
      const r = run(...seed, '--with', 'fix_func', '--engine', engine, '--format', 'json');
      expect(r.stderr, engine).toBe('');
      expect(r.code, engine).toBe(0);
      const json = JSON.parse(r.stdout) as { verdict: string; run: { process: { model: string }; instructions: number; patchPoint: number } };
      return { verdict: json.verdict, model: json.run.process.model, instructions: json.run.instructions, patchPoint: json.run.patchPoint };
    });
    expect(reports[0]!.model).toBe('system');
    expect(reports[1]).toEqual(reports[0]);
  });

  it('--process stubs runs the sandbox libc, and says so', () => {
    const r = run(...seed, '--with', 'fix_func', '--process', 'stubs', '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).run.process).toEqual({ model: 'stubs', libc: "the sandbox's libc stubs (src/loader/stubs)" });
  });

  it('exits 2 with one line for misuse', () => {
    const cases: [string[], RegExp][] = [
      [['--process', 'kernel'], /--process must be system or stubs, not 'kernel'/],
      [['--process', 'stubs', '--sysroot', '/'], /--sysroot, --file, --stdin and --tty need the system process model/],
      [['--process', 'stubs', '--tty'], /--sysroot, --file, --stdin and --tty need the system process model/],
      [['--env', 'NOEQUALS'], /--env wants NAME=VALUE, not 'NOEQUALS'/],
      [['--sysroot', join(REPO_ROOT, 'corpus')], /--sysroot .*corpus: no ld-linux-x86-64\.so\.2/],
      [['--sysroot', join(SEED, 'main.c')], /^verify-patch: --sysroot .*main\.c: tar: bad \w+ field/],
      [['--file', '/nonexistent/file'], /cannot read --file '\/nonexistent\/file': no such file/],
      [['--stdin', '/nonexistent/in'], /cannot read --stdin '\/nonexistent\/in': no such file/],
      [['--file', `${join(SEED, 'main')}:../../etc/x`], /^verify-patch: --file .*:\.\.\/\.\.\/etc\/x: guest path '\.\.\/\.\.\/etc\/x': give an absolute path or one below the working directory, without '\.' or '\.\.' parts$/],
    ];
    for (const [args, pattern] of cases) {
      const r = run(...seed, '--with', 'fix_func', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  });

  it('--sysroot takes the libraries from another root: enough for C, and ld.so names what a C++ program misses', () => {
    const root = mkdtempSync(join(tmpdir(), 'patchsandbox-sysroot-'));
    try {
      const lib = join(root, 'usr/lib/x86_64-linux-gnu');
      mkdirSync(lib, { recursive: true });
      mkdirSync(join(root, 'usr/lib64'));
      for (const f of ['ld-linux-x86-64.so.2', 'libc.so.6', 'libm.so.6']) copyFileSync(join('/usr/lib/x86_64-linux-gnu', f), join(lib, f));
      symlinkSync('usr/lib', join(root, 'lib'));
      symlinkSync('usr/lib64', join(root, 'lib64'));
      symlinkSync('../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
      const c = run(...seed, '--with', 'fix_func', '--sysroot', root);
      expect(c.code).toBe(0);
      expect(c.stdout).toMatch(/process {6}system model: the real ld\.so and glibc/);
      const cxx = join(REPO_ROOT, 'corpus/cxx-containers');
      const r = run(join(cxx, 'main'), join(cxx, 'patch.so'), '_Z10record_hitR12SessionTableRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEi', '--sysroot', root);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('error while loading shared libraries: libstdc++.so.6: cannot open shared object file: No such file or directory');
      // The same root as a .tar.gz (as `docker export | gzip` gives): the same run.
      const archive = join(root, '..', `${root.split('/').pop()}.tar.gz`);
      spawnSync('tar', ['-czf', archive, '-C', root, '.']);
      try {
        const t = run(...seed, '--with', 'fix_func', '--sysroot', archive, '--format', 'json');
        expect(t.code).toBe(0);
        expect(JSON.parse(t.stdout).run.output).toEqual(JSON.parse(run(...seed, '--with', 'fix_func', '--sysroot', root, '--format', 'json').stdout).run.output);
      } finally {
        rmSync(archive, { force: true });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reruns give byte-identical JSON reports on the system model', () => {
    const a = run(...seed, '--signal', 'USR1', '--format', 'json');
    const b = run(...seed, '--signal', 'USR1', '--format', 'json');
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });
});
