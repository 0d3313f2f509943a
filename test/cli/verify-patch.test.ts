// The interim CLI's contract: exit 2 with one actionable line on stderr for every bad
// input, --help exits 0, and a successful inspection still exits 2 (not verified yet).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/elf/index.js';
import { readBytes, REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const SEED = join(REPO_ROOT, 'corpus/seed-classic');
const BAD = join(REPO_ROOT, 'corpus/bad-input');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One line, prefixed, and no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^verify-patch: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('verify-patch (interim CLI)', () => {
  it('--help documents the contract and exits 0', () => {
    const { code, stdout } = run('--help');
    expect(code).toBe(0);
    for (const option of ['--with', '--trampoline', '--signal', '--patch-at', '--max-insns', '--format', '--engine']) expect(stdout).toContain(option);
    expect(stdout).toMatch(/not implemented yet/);
    expect(stdout).toMatch(/exit code: 0 safe · 1 unsafe .* 2 could not verify/);
  });

  it('exits 2 for a truncated executable, naming the structure past the end', () => {
    const { code, stdout, stderr } = run(join(BAD, 'main-truncated'), join(BAD, 'patch.so'), 'need_fix_func', '--with', 'fix_func');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expectOneLineError(stderr, /main '.*main-truncated' is truncated: .*extend past end of file \(0x1000 bytes\)/);
  });

  it('exits 2 for a file that is not ELF (as main or as patch)', () => {
    const asMain = run(join(BAD, 'not-elf'), join(BAD, 'patch.so'), 'need_fix_func');
    expect(asMain.code).toBe(2);
    expectOneLineError(asMain.stderr, /main '.*not-elf': ELF header: not an ELF file/);
    const asPatch = run(join(BAD, 'main'), join(BAD, 'not-elf'), 'need_fix_func');
    expect(asPatch.code).toBe(2);
    expectOneLineError(asPatch.stderr, /patch.so '.*not-elf': ELF header: not an ELF file/);
  });

  it('exits 2 for a symbol missing from main, suggesting close names', () => {
    const { code, stderr } = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_fnc');
    expect(code).toBe(2);
    expectOneLineError(stderr, /symbol 'need_fix_fnc' not found in main; did you mean 'need_fix_func'/);
  });

  it('exits 2 for a replacement missing from patch.so', () => {
    const { code, stderr } = run(join(BAD, 'main'), join(BAD, 'patch-without-symbol.so'), 'need_fix_func', '--with', 'fix_func');
    expect(code).toBe(2);
    expectOneLineError(stderr, /symbol 'fix_func' not found in patch.so; did you mean 'other_fix_func'/);
  });

  it('exits 2 for an unreadable file and for an option that is not implemented yet', () => {
    const missing = run(join(SEED, 'no-such-main'), join(SEED, 'patch.so'), 'need_fix_func');
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /cannot read main '.*no-such-main': no such file/);
    const signal = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--signal', 'USR1');
    expect(signal.code).toBe(2);
    expectOneLineError(signal.stderr, /--signal is not implemented yet/);
  });

  describe('on good input', () => {
    let main: ElfFile;
    beforeAll(() => {
      main = ElfFile.parse(readBytes(join(SEED, 'main')));
    });

    it('describes target and replacement, disassembles the target, and says it did not verify (exit 2)', () => {
      const { code, stdout, stderr } = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--with', 'fix_func');
      const target = main.findSymbols('need_fix_func')[0]!;
      expect(code).toBe(2);
      expect(stdout).toContain(`address 0x${target.value.toString(16)}, size ${target.size} bytes, section .text`);
      expect(stdout).toContain(`build-id ${main.buildId}`);
      expect(stdout).toMatch(/exported in \.dynsym: yes/);
      expect(stdout).toMatch(/f3 0f 1e fa\s+endbr64/);
      expect(stdout).toMatch(/jmp 0x[0-9a-f]+ <__printf_chk@plt>/);
      expect(stdout).toMatch(/replacement: fix_func/);
      expect(stdout).toMatch(/not implemented yet/);
      expectOneLineError(stderr, /could not verify: .*not implemented yet/);
    });

    it('--format json gives the same facts as JSON', () => {
      const { code, stdout } = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--with', 'fix_func', '--format', 'json');
      expect(code).toBe(2);
      const report = JSON.parse(stdout) as { verdict: string; target: { address: string; instructions: { text: string }[] }; files: { main: { pie: boolean } } };
      expect(report.verdict).toBe('error');
      expect(report.target.address).toBe(`0x${main.findSymbols('need_fix_func')[0]!.value.toString(16)}`);
      expect(report.target.instructions[0]?.text).toBe('endbr64');
      expect(report.files.main.pie).toBe(true);
    });
  });
});
