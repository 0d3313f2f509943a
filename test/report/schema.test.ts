// The machine formats against their contracts: --format json against the schema of
// shared/design.md, --format sarif against SARIF 2.1.0's required properties (a structural
// check written from the OASIS specification, §3: sarifLog, run, tool, result, location), on
// real reports (safe, unsafe, nothing written at the target, could not verify) and the text
// report's first screen on the same cases.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, render, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { FINDING_CODES } from '../../src/verify/finding.js';

const CORPUS = join(import.meta.dirname, '../../corpus');
const CASES = {
  safe: ['seed-classic', 'main', 'need_fix_func', '--signal', 'USR1'],
  unsafe: ['loop-head', 'main', 'total_amount'],
  nothingWritten: ['seed-own-copy', 'main', 'need_fix_func', '--signal', 'USR1'],
  error: ['bad-input', 'main-truncated', 'need_fix_func'],
} as const;
type CaseName = keyof typeof CASES;
const outcomes = {} as Record<CaseName, CommandOutcome>;

beforeAll(async () => {
  for (const [name, [scenario, main, symbol, ...args]] of Object.entries(CASES) as [CaseName, readonly string[]][]) {
    const request = parseCommandLine([main!, 'patch.so', symbol!, ...args]);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const bytes = (file: string): Uint8Array => new Uint8Array(readFileSync(join(CORPUS, scenario!, file)));
    outcomes[name] = await runCommand(request.command, bytes(main!), bytes('patch.so'), 'wasm');
  }
}, 120_000);

const report = (name: CaseName, format: 'json' | 'sarif' | 'text'): string =>
  render(outcomes[name].result, { format, mainPath: 'main', patchPath: 'patch.so' });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX = /^0x[0-9a-f]+$/;

/** Problems with a --format json report, as paths; empty when it follows design.md. */
function jsonSchemaProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, path: string): void => {
    if (!ok) problems.push(path);
  };
  if (!isObject(doc)) return ['(root) is not an object'];
  need(['safe', 'unsafe', 'error'].includes(doc.verdict as string), 'verdict');
  need(doc.target === null || (isObject(doc.target) && typeof doc.target.name === 'string' && HEX.test(String(doc.target.address))), 'target');
  need(doc.trampoline === null || (isObject(doc.trampoline) && HEX.test(String(doc.trampoline.site)) && typeof doc.trampoline.bytes === 'string'), 'trampoline');
  need(Array.isArray(doc.findings), 'findings');
  for (const [i, f] of (Array.isArray(doc.findings) ? doc.findings : []).entries()) {
    need(isObject(f) && Object.prototype.hasOwnProperty.call(FINDING_CODES, f.code as string), `findings[${i}].code`);
    need(isObject(f) && ['error', 'warning', 'info'].includes(f.severity as string), `findings[${i}].severity`);
    need(isObject(f) && typeof f.message === 'string' && f.message !== '', `findings[${i}].message`);
    need(isObject(f) && (f.address === undefined || HEX.test(String(f.address))), `findings[${i}].address`);
  }
  need(doc.run === null || (isObject(doc.run) && Number.isInteger(doc.run.instructions) && Array.isArray(doc.run.output)), 'run');
  if (doc.verdict === 'error') need(typeof doc.error === 'string', 'error');
  return problems;
}

/** Problems with a SARIF log against the properties SARIF 2.1.0 requires; empty when valid. */
function sarifProblems(log: unknown): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, path: string): void => {
    if (!ok) problems.push(path);
  };
  if (!isObject(log)) return ['(root) is not an object'];
  need(log.version === '2.1.0', 'version');
  need(typeof log.$schema === 'string' && /sarif-2\.1\.0/.test(log.$schema), '$schema');
  need(Array.isArray(log.runs) && log.runs.length === 1, 'runs');
  const run = Array.isArray(log.runs) ? log.runs[0] : undefined;
  if (!isObject(run)) return [...problems, 'runs[0]'];
  const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : undefined;
  need(driver !== undefined && typeof driver.name === 'string', 'runs[0].tool.driver.name');
  const rules = driver && Array.isArray(driver.rules) ? driver.rules : [];
  for (const [i, r] of rules.entries()) {
    need(isObject(r) && typeof r.id === 'string', `rules[${i}].id`);
    need(isObject(r) && (r.shortDescription === undefined || (isObject(r.shortDescription) && typeof r.shortDescription.text === 'string')), `rules[${i}].shortDescription.text`);
  }
  const artifacts = Array.isArray(run.artifacts) ? run.artifacts : [];
  for (const [i, inv] of (Array.isArray(run.invocations) ? run.invocations : []).entries()) {
    need(isObject(inv) && typeof inv.executionSuccessful === 'boolean', `invocations[${i}].executionSuccessful`);
    const notes = isObject(inv) && Array.isArray(inv.toolExecutionNotifications) ? inv.toolExecutionNotifications : [];
    for (const n of notes) need(isObject(n) && isObject(n.message) && typeof n.message.text === 'string', `invocations[${i}].toolExecutionNotifications.message`);
  }
  need(Array.isArray(run.results), 'runs[0].results');
  for (const [i, r] of (Array.isArray(run.results) ? run.results : []).entries()) {
    const path = `results[${i}]`;
    if (!isObject(r)) {
      problems.push(path);
      continue;
    }
    need(isObject(r.message) && typeof r.message.text === 'string' && r.message.text !== '', `${path}.message.text`);
    need(['none', 'note', 'warning', 'error'].includes(r.level as string), `${path}.level`);
    need(typeof r.ruleId === 'string', `${path}.ruleId`);
    const index = r.ruleIndex as number;
    need(index === undefined || (Number.isInteger(index) && isObject(rules[index]) && rules[index].id === r.ruleId), `${path}.ruleIndex`);
    for (const [j, l] of (Array.isArray(r.locations) ? r.locations : []).entries()) {
      const physical = isObject(l) ? l.physicalLocation : undefined;
      if (physical === undefined) continue;
      // §3.29.2: a physicalLocation has an address or an artifactLocation (or both).
      need(isObject(physical) && (physical.address !== undefined || physical.artifactLocation !== undefined), `${path}.locations[${j}].physicalLocation`);
      const al = isObject(physical) ? physical.artifactLocation : undefined;
      need(al === undefined || (isObject(al) && (al.index === undefined || (Number.isInteger(al.index) && (al.index as number) < artifacts.length))), `${path}.locations[${j}].artifactLocation.index`);
      const address = isObject(physical) ? physical.address : undefined;
      need(address === undefined || (isObject(address) && Number.isSafeInteger(address.absoluteAddress) && (address.absoluteAddress as number) >= 0), `${path}.locations[${j}].address.absoluteAddress`);
    }
  }
  return problems;
}

describe('--format json follows design.md', () => {
  for (const name of Object.keys(CASES) as CaseName[]) {
    it(`${name}: documented keys with the documented types`, () => {
      expect(jsonSchemaProblems(JSON.parse(report(name, 'json')))).toEqual([]);
    });
  }
  it('the validator rejects what breaks the schema', () => {
    const doc = JSON.parse(report('unsafe', 'json')) as Json;
    expect(jsonSchemaProblems({ ...doc, verdict: 'fine', findings: [{ code: 'NO_SUCH_CODE', severity: 'fatal', message: '' }] })).toEqual([
      'verdict', 'findings[0].code', 'findings[0].severity', 'findings[0].message',
    ]);
  });
  it('no trampoline written at the target: trampoline is null, and the writes the handler made are listed', () => {
    const doc = JSON.parse(report('nothingWritten', 'json')) as Json;
    expect(doc.trampoline).toBeNull();
    expect(doc.programWrites).toEqual([{ address: expect.stringMatching(HEX), length: 12, location: expect.stringContaining('./patch.so'), atTarget: false }]);
  });
});

describe('--format sarif follows SARIF 2.1.0', () => {
  for (const name of Object.keys(CASES) as CaseName[]) {
    it(`${name}: required properties present`, () => {
      expect(sarifProblems(JSON.parse(report(name, 'sarif')))).toEqual([]);
    });
  }
  it('could not verify: executionSuccessful false with the reason as a notification, no results', () => {
    const log = JSON.parse(report('error', 'sarif')) as { runs: { invocations: Json[]; results: unknown[] }[] };
    expect(log.runs[0]!.invocations[0]!.executionSuccessful).toBe(false);
    expect(JSON.stringify(log.runs[0]!.invocations[0])).toContain('truncated');
    expect(log.runs[0]!.results).toEqual([]);
  });
  it('the validator rejects a result without a message or with a wrong ruleIndex', () => {
    const log = JSON.parse(report('unsafe', 'sarif')) as { runs: { results: Json[] }[] };
    log.runs[0]!.results[0] = { ...log.runs[0]!.results[0], message: {}, ruleIndex: 0 };
    expect(sarifProblems(log)).toEqual(['results[0].message.text', 'results[0].ruleIndex']);
  });
});

describe('the text report\'s first screen', () => {
  const firstScreen = (name: CaseName): string => report(name, 'text').split('\n').slice(0, 24).join('\n');
  it('unsafe: says what was checked, the result, each error with where and the fix, before the details', () => {
    const text = report('unsafe', 'text');
    const screen = firstScreen('unsafe');
    expect(screen).toMatch(/^verify-patch: hot patch of total_amount in main with fix_total_amount from patch\.so/);
    expect(screen).toContain('checked the bytes the patch overwrites');
    expect(screen).toMatch(/result +UNSAFE: 1 error/);
    expect(screen).toMatch(/error +BRANCH_INTO_PATCHED_BYTES at 0x[0-9a-f]+ <total_amount\+0x6>/);
    expect(screen).toContain('fix: ');
    expect(text.indexOf('BRANCH_INTO_PATCHED_BYTES')).toBeLessThan(text.indexOf('What was patched'));
    expect(text.trimEnd().split('\n').at(-1)).toBe('verdict: UNSAFE (1 error, 0 warnings)');
  });
  it('safe: says so plainly', () => {
    expect(firstScreen('safe')).toMatch(/result +SAFE: no problem found/);
  });
  it('nothing written at the target: says so, and where the handler wrote instead', () => {
    expect(report('nothingWritten', 'text')).toMatch(/trampoline +none at the target: the program's handler never wrote to need_fix_func \(0x[0-9a-f]+\); it wrote 12 bytes at 0x[0-9a-f]+ <need_fix_func\+0x0 \(\.\/patch\.so\)> instead/);
  });
  it('could not verify: the reason, and the verdict last', () => {
    const text = report('error', 'text');
    expect(text).toContain('could not verify the patch: ');
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^verdict: COULD NOT VERIFY: .*truncated/);
  });
});
