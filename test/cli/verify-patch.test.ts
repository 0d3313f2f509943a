// The CLI contract of shared/design.md, through the real process: exit 0/1/2, one line on
// stderr (no stack trace) for everything it cannot verify, --help/--version, and the three
// report formats carrying the same verdict.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const SEED = join(REPO_ROOT, 'corpus/seed-classic');
const BAD = join(REPO_ROOT, 'corpus/bad-input');
const SHORT = join(REPO_ROOT, 'corpus/short-function');

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

describe('verify-patch CLI', () => {
  it('--help documents every option and the exit codes; --version prints the version', () => {
    const help = run('--help');
    expect(help.code).toBe(0);
    for (const option of ['--with', '--trampoline', '--signal', '--patch-at', '--max-insns', '--format', '--engine']) expect(help.stdout).toContain(option);
    expect(help.stdout).toMatch(/exit code: 0 safe · 1 unsafe .* 2 could not verify/);
    const version = run('--version');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^verify-patch \d+\.\d+\.\d+\n$/);
  });

  it('exits 2 with one line for bad input: truncated, not ELF, unreadable, misspelled symbol, bad option', () => {
    const truncated = run(join(BAD, 'main-truncated'), join(BAD, 'patch.so'), 'need_fix_func', '--with', 'fix_func');
    expect(truncated.code).toBe(2);
    expect(truncated.stdout).toBe('');
    expectOneLineError(truncated.stderr, /could not verify: the executable '.*main-truncated' is truncated.*extend past end of file/);
    const notElf = run(join(BAD, 'main'), join(BAD, 'not-elf'), 'need_fix_func');
    expect(notElf.code).toBe(2);
    expectOneLineError(notElf.stderr, /the patch '.*not-elf' is not an ELF file/);
    const missing = run(join(SEED, 'no-such-main'), join(SEED, 'patch.so'), 'need_fix_func');
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /cannot read main '.*no-such-main': no such file/);
    const misspelled = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_fnc');
    expect(misspelled.code).toBe(2);
    expectOneLineError(misspelled.stderr, /function 'need_fix_fnc' not found in the executable .*did you mean 'need_fix_func'/);
    const badOption = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--format', 'xml');
    expect(badOption.code).toBe(2);
    expectOneLineError(badOption.stderr, /--format must be text, json, sarif, html or markdown, not 'xml'/);
  });

  it('exits 2 when the budget runs out before the patch point, saying what to change', () => {
    const { code, stderr } = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--with', 'fix_func', '--max-insns', '20');
    expect(code).toBe(2);
    expectOneLineError(stderr, /budget ran out after \d+ instructions.*--max-insns/);
  });

  it('text report: target, trampoline bytes next to the original bytes, findings by severity, verdict last', () => {
    const { code, stdout } = run(join(SHORT, 'main-adjacent'), join(SHORT, 'patch.so'), 'get_level', '--with', 'fix_get_level');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ +target +get_level at 0x[0-9a-f]+, 11 bytes/m);
    expect(stdout).toMatch(/original bytes \(overwritten\):\n.*f3 0f 1e fa +endbr64/);
    expect(stdout).toMatch(/trampoline:\n.*48 b8 .* +mov rax, 0x[0-9a-f]+\n.*ff e0 +jmp rax/);
    expect(stdout).toMatch(/Errors \(4\):\n {2}[A-Z_]+/);
    expect(stdout).toContain('TRAMPOLINE_OVERRUNS_FUNCTION');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('verdict: UNSAFE (4 errors, 0 warnings)');
  });

  it('json and sarif carry the same verdict and codes', () => {
    const json = run(join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--signal', 'USR1', '--format', 'json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { verdict: string; target: { name: string; address: string }; trampoline: { bytes: string }; run: { output: { text: string }[] } };
    expect(report.verdict).toBe('safe');
    expect(report.target.name).toBe('need_fix_func');
    expect(report.trampoline.bytes).toMatch(/^48 b8 ([0-9a-f]{2} ){8}ff e0$/);
    expect(report.run.output.map((l) => l.text)).toContain('fix result 0');
    const sarif = run(join(SHORT, 'main-padded'), join(SHORT, 'patch.so'), 'get_level', '--with', 'fix_get_level', '--format', 'sarif');
    expect(sarif.code).toBe(0);
    const log = JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string; level: string }[] }[] };
    expect(log.runs[0]!.results.filter((r) => r.level !== 'note').map((r) => [r.ruleId, r.level])).toEqual([['TRAMPOLINE_OVERRUNS_FUNCTION', 'warning']]);
  });
});
