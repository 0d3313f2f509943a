// The machine-read contract: --format json against the JSON Schema the package ships
// (schema/report.schema.json), --format sarif against the SARIF 2.1.0 JSON schema (vendored,
// test/vendor/sarif), both through test/helpers/json-schema.ts; finding codes and severities
// against FINDING_CATALOG, and the README's code table against the catalog. With DWARF line
// info (the -g fixtures) SARIF results land on the source line in a path that exists in this
// repository, as code scanning needs, with fingerprints stable across runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FINDING_CATALOG } from '../../src/verify/finding-catalog.js';
import { parseCommandLine, render, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { validate } from '../helpers/json-schema.js';

const ROOT = join(import.meta.dirname, '../..');
const REPORT_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8')) as Record<string, unknown>;
const SARIF_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'test/vendor/sarif/sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;

const CASES = {
  safe: ['corpus/seed-classic', 'main', 'need_fix_func'],
  unsafe: ['corpus/loop-head', 'main', 'total_amount'],
  overrunWarning: ['corpus/short-function', 'main-padded', 'get_level'],
  nothingWritten: ['corpus/seed-own-copy', 'main', 'need_fix_func', '--signal', 'USR1'],
  error: ['corpus/bad-input', 'main-truncated', 'need_fix_func'],
  linesDwarf5: ['test/fixtures/debug-lines/loop-head', 'main', 'total_amount'],
  linesDwarf4Signal: ['test/fixtures/debug-lines/call-in-prologue', 'main', 'handle_events', '--signal', 'USR1'],
} as const;
type CaseName = keyof typeof CASES;
const outcomes = {} as Record<CaseName, CommandOutcome>;

beforeAll(async () => {
  for (const [name, [dir, main, symbol, ...args]] of Object.entries(CASES) as [CaseName, readonly string[]][]) {
    const request = parseCommandLine([main!, 'patch.so', symbol!, ...args]);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const bytes = (file: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, dir!, file)));
    outcomes[name] = await runCommand(request.command, bytes(main!), bytes('patch.so'), 'wasm');
  }
}, 120_000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const report = (name: CaseName, format: 'json' | 'sarif'): Json =>
  JSON.parse(render(outcomes[name].result, { format, mainPath: 'main', patchPath: 'patch.so' })) as Json;

describe('--format json validates against schema/report.schema.json', () => {
  for (const name of Object.keys(CASES) as CaseName[]) {
    it(name, () => {
      expect(validate(REPORT_SCHEMA, report(name, 'json'))).toEqual([]);
    });
  }
  it('the fixtures exercise what they should', () => {
    expect(outcomes.overrunWarning.result.findings.map((f) => `${f.code}/${f.severity}`)).toContain('TRAMPOLINE_OVERRUNS_FUNCTION/warning');
    expect(report('linesDwarf5', 'json').findings[0].source).toEqual({ file: 'corpus/loop-head/target.c', line: 12, column: 15 });
  });
  it('the schema rejects what breaks the contract', () => {
    const doc = report('unsafe', 'json');
    const broken: Json = {
      ...doc, schemaVersion: 2, verdict: 'fine', target: { ...doc.target, address: 93824992236208 },
      findings: [{ ...doc.findings[0], severity: 'fatal', evidence: [{ label: 'x', source: { file: 'a.c', line: 0 } }] }],
    };
    delete broken.run;
    expect(validate(REPORT_SCHEMA, broken).sort()).toEqual([
      "$: missing required 'run'",
      '$.findings[0].evidence[0].source.line: 0 < minimum 1',
      '$.findings[0].severity: "fatal" is not one of ["error","warning","info"]',
      '$.schemaVersion: must be 1',
      '$.target: matches none of anyOf ($.target: is object, not null; $.target.address: is integer, not string)',
      '$.verdict: "fine" is not one of ["safe","unsafe","error"]',
    ].sort());
  });
});

describe('finding codes = FINDING_CATALOG', () => {
  it('every finding of every case has a catalogued code and a severity the catalog allows for it', () => {
    for (const name of Object.keys(CASES) as CaseName[]) {
      for (const f of outcomes[name].result.findings) expect(FINDING_CATALOG[f.code].severities, `${name}: ${f.code}`).toContain(f.severity);
    }
  });
  it('the README names exactly the catalogued codes: the table lists the error/warning ones, the notes the info ones', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## What it checks'), readme.indexOf('## In the browser'));
    const tableCodes = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    const notesStart = section.indexOf('Informational notes');
    const notes = section.slice(notesStart, section.indexOf('\n\n', notesStart));
    const noteCodes = [...notes.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]);
    const catalog = Object.entries(FINDING_CATALOG);
    const infoOnly = ([, i]: [string, { severities: readonly string[] }]): boolean => i.severities.every((x) => x === 'info');
    expect(tableCodes.sort()).toEqual(catalog.filter((e) => !infoOnly(e)).map(([c]) => c).sort());
    expect([...new Set(noteCodes)].sort()).toEqual(catalog.filter(infoOnly).map(([c]) => c).sort());
  });
});

describe('--format sarif validates against the SARIF 2.1.0 schema', () => {
  for (const name of Object.keys(CASES) as CaseName[]) {
    it(name, () => {
      expect(validate(SARIF_SCHEMA, report(name, 'sarif'))).toEqual([]);
    });
  }
  it('the schema check is real: a wrong level, a negative address and an unknown property fail', () => {
    const log = report('unsafe', 'sarif');
    log.runs[0].results[0].level = 'fatal';
    log.runs[0].results[0].locations[0].physicalLocation.address = { absoluteAddress: -7 };
    log.runs[0].results[0].colour = 'red';
    expect(validate(SARIF_SCHEMA, log)).toEqual([
      '$.runs[0].results[0].level: "fatal" is not one of ["none","note","warning","error"]',
      '$.runs[0].results[0].locations[0].physicalLocation.address.absoluteAddress: -7 < minimum -1',
      '$.runs[0].results[0].colour: not allowed',
    ]);
  });
});

describe('SARIF locations and fingerprints for code scanning', () => {
  const primary = (log: Json, i: number): Json => log.runs[0].results[i].locations[0].physicalLocation;
  it('with DWARF 5 line info the alert lands on the landing point\'s line in a file of this repository', () => {
    const log = report('linesDwarf5', 'sarif');
    const branch = log.runs[0].results.findIndex((r: Json) => r.ruleId === 'BRANCH_INTO_PATCHED_BYTES');
    const loc = primary(log, branch);
    expect(loc.artifactLocation.uri).toBe('corpus/loop-head/target.c');
    expect(loc.region).toEqual({ startLine: 12, startColumn: 15 });
    expect(readFileSync(join(ROOT, loc.artifactLocation.uri), 'utf8').split('\n')[11]).toContain('total += order->amount');
    expect(log.runs[0].artifacts[loc.artifactLocation.index].location.uri).toBe(loc.artifactLocation.uri);
    // The branch source is a related location on its own line; the binary address is kept.
    expect(log.runs[0].results[branch].relatedLocations.map((r: Json) => `${r.physicalLocation.artifactLocation.uri}:${r.physicalLocation.region?.startLine ?? r.physicalLocation.address.absoluteAddress}`)).toEqual([
      'corpus/loop-head/target.c:12', 'corpus/loop-head/target.c:14', `main:${0x5555555552b6}`,
    ]);
  });
  it('with DWARF 4 line info (program-driven) the call in the prologue and the interrupted frame name their lines', () => {
    const log = report('linesDwarf4Signal', 'sarif');
    const lines = Object.fromEntries(log.runs[0].results.map((r: Json) => [r.ruleId, `${r.locations[0].physicalLocation.artifactLocation.uri}:${r.locations[0].physicalLocation.region.startLine}`]));
    const source = readFileSync(join(ROOT, 'corpus/call-in-prologue/target.c'), 'utf8').split('\n');
    expect(lines).toMatchObject({ RETURN_ADDRESS_IN_PATCHED_BYTES: 'corpus/call-in-prologue/target.c:25', LIVE_INSTRUCTION_CLOBBERED: 'corpus/call-in-prologue/target.c:25' });
    expect(source[24]).toContain('wait_event');
    const text = render(outcomes.linesDwarf4Signal.result, { format: 'text', mainPath: 'main', patchPath: 'patch.so' });
    expect(text).toMatch(/return address on the stack at 0x[0-9a-f]+: 0x[0-9a-f]+ <handle_events\+0xa \(\.\/main\)> \(corpus\/call-in-prologue\/target\.c:25\)/);
    expect(text).toMatch(/replacement +fix_handle_events at 0x[0-9a-f]+, 48 bytes, in patch\.so \(corpus\/call-in-prologue\/patch\.c:10\)/);
  });
  it('without line info the location is the executable at the run-time address', () => {
    const loc = primary(report('unsafe', 'sarif'), 0);
    expect(loc.artifactLocation).toEqual({ uri: 'main', index: 0 });
    expect(loc.address.absoluteAddress).toBeGreaterThan(0);
    expect(loc.region).toBeUndefined();
  });
  it('partialFingerprints: one per result, distinct, the same for the same finding with or without -g and across runs', async () => {
    const fp = (log: Json): string[] => log.runs[0].results.map((r: Json) => r.partialFingerprints['patchsandboxFinding/v1']);
    const once = fp(report('unsafe', 'sarif'));
    expect(once.every((f) => /^[0-9a-f]{16}$/.test(f))).toBe(true);
    expect(new Set(once).size).toBe(once.length);
    expect(fp(report('linesDwarf5', 'sarif'))).toEqual(once);
    const [dir, main, symbol] = CASES.unsafe;
    const request = parseCommandLine([main, 'patch.so', symbol, '--format', 'sarif']);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const again = await runCommand(request.command, new Uint8Array(readFileSync(join(ROOT, dir, main))), new Uint8Array(readFileSync(join(ROOT, dir, 'patch.so'))), 'wasm');
    expect(fp(JSON.parse(again.report) as Json)).toEqual(once);
  });
  it('a source path recorded absolute (built without -ffile-prefix-map) becomes a file: URI, still valid SARIF', () => {
    const result = structuredClone(outcomes.linesDwarf5.result);
    for (const f of result.findings) f.source = { file: '/home/dev/my server/target.c', line: 7 };
    const log = JSON.parse(render(result, { format: 'sarif', mainPath: 'build/my server', patchPath: 'patch.so' })) as Json;
    expect(validate(SARIF_SCHEMA, log)).toEqual([]);
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('file:///home/dev/my%20server/target.c');
    expect(log.runs[0].artifacts[0].location.uri).toBe('build/my%20server');
  });
  it('every source file the fixtures name exists in the repository (what code scanning needs to show the line)', () => {
    for (const name of ['linesDwarf5', 'linesDwarf4Signal'] as const) {
      const uris = report(name, 'sarif').runs[0].artifacts.map((a: Json) => a.location.uri as string).filter((u: string) => u.endsWith('.c'));
      expect(uris.length).toBeGreaterThan(0);
      for (const uri of uris) expect(existsSync(join(ROOT, uri)), uri).toBe(true);
    }
  });
});
