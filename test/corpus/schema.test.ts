// Every expect.json is well-formed and agrees with the files and the finding codes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { CORPUS_DIR, CorpusError, foldersWithExpectations, loadCorpus, readScenario, scenarioDirs } from './cases.js';

describe('corpus layout', () => {
  it('SCENARIOS lists exactly the folders that have an expect.json', () => {
    expect(scenarioDirs().map((dir) => basename(dir)).sort()).toEqual(
      foldersWithExpectations().map((dir) => basename(dir)).sort(),
    );
  });

  it.each(scenarioDirs().map((dir) => [basename(dir), dir]))('%s has a README.md and a build.sh', (_name, dir) => {
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
    expect(existsSync(join(dir, 'build.sh'))).toBe(true);
  });

  it('corpus/README.md has a table row for every scenario', () => {
    const readme = readFileSync(join(CORPUS_DIR, 'README.md'), 'utf8');
    for (const dir of scenarioDirs()) expect(readme).toContain(`| [${basename(dir)}](`);
  });

  it('BUILDINFO records the compiler', () => {
    expect(readFileSync(join(CORPUS_DIR, 'BUILDINFO'), 'utf8')).toMatch(/^gcc: .+\d+\.\d+\.\d+/m);
  });
});

describe('expect.json', () => {
  it.each(scenarioDirs().map((dir) => [basename(dir), dir]))('%s is valid', (_name, dir) => {
    const scenario = readScenario(dir);
    expect(scenario.cases.length).toBeGreaterThan(0);
  });

  it('the corpus covers every verdict, both patch modes and a native crash', () => {
    const cases = loadCorpus().flatMap((scenario) => scenario.cases);
    expect(new Set(cases.map((item) => item.verdict))).toEqual(new Set(['safe', 'unsafe', 'error']));
    expect(cases.some((item) => item.args.includes('--signal'))).toBe(true);
    expect(cases.some((item) => !item.args.includes('--signal') && item.exitCode !== 2)).toBe(true);
    expect(cases.some((item) => item.native?.signal === 'SIGSEGV')).toBe(true);
  });
});

describe('the expect.json reader rejects', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'corpus-schema-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function problemsOf(document: unknown): string[] {
    const dir = join(scratch, 'sample');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'main'), '');
    writeFileSync(join(dir, 'patch.so'), '');
    writeFileSync(join(dir, 'expect.json'), JSON.stringify(document));
    try {
      readScenario(dir);
      return [];
    } catch (error) {
      if (error instanceof CorpusError) return error.problems;
      throw error;
    }
  }

  const validCase = {
    name: 'c',
    main: 'main',
    patch: 'patch.so',
    symbol: 'f',
    args: [],
    verdict: 'unsafe',
    exitCode: 1,
    findings: [{ code: 'WRITE_FAULT', severity: 'error' }],
  };
  const document = (cases: unknown[]) => ({ scenario: 'sample', description: 'd', cases });

  it('nothing in a valid document', () => {
    expect(problemsOf(document([validCase]))).toEqual([]);
  });

  it('an unknown finding code', () => {
    expect(problemsOf(document([{ ...validCase, findings: [{ code: 'WRITE_FAILED', severity: 'error' }] }]))).toContain(
      'cases[0].findings[0].code: "WRITE_FAILED" is not a finding code',
    );
  });

  it('an exit code that contradicts the verdict', () => {
    expect(problemsOf(document([{ ...validCase, exitCode: 0 }])).join()).toContain('does not match verdict');
  });

  it('an unsafe verdict without an error finding', () => {
    expect(problemsOf(document([{ ...validCase, findings: [{ code: 'WRITE_FAULT', severity: 'warning' }] }])).join()).toContain(
      'needs at least one error finding',
    );
  });

  it('a missing input file', () => {
    expect(problemsOf(document([{ ...validCase, patch: 'gone.so' }])).join()).toContain('gone.so does not exist');
  });

  it('an exit-code-2 case without a message fragment', () => {
    expect(problemsOf(document([{ ...validCase, verdict: 'error', exitCode: 2, findings: [] }])).join()).toContain(
      'messageContains: required',
    );
  });

  it('an unknown process model', () => {
    expect(problemsOf(document([{ ...validCase, process: 'kernel' }])).join()).toContain('process: must be "system" or "stubs"');
    expect(problemsOf(document([{ ...validCase, process: 'system' }]))).toEqual([]);
  });

  it('a native block that asserts nothing', () => {
    const native = { argv: [], stdoutContains: [], stdoutLacks: [], signal: null };
    expect(problemsOf(document([{ ...validCase, native }])).join()).toContain('asserts nothing about stdout');
  });
});
