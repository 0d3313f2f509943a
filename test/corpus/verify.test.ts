// The corpus is the contract: every case of every scenario's expect.json, verified in-process
// through the command-line core the CLI uses (parseCommandLine + runCommand), must give the
// expected verdict, exit code and set of error/warning finding codes (and, for exit code 2,
// a message naming the problem), on the WasmEngine; UnicornEngine must agree with it on
// every case. A few real CLI runs check the exit codes end to end.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { corpusCases, neededLibraries, type ResolvedCase } from './cases.js';

// Cases that need the system process model ("process": "system") run in test/corpus/system.test.ts.
const cases = corpusCases().filter((c) => c.process !== 'system');
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

async function verifyCase(c: ResolvedCase, engine: 'wasm' | 'unicorn'): Promise<CommandOutcome> {
  const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args]);
  if (request.kind !== 'verify') throw new Error(`case ${c.name}: not a verify command`);
  return runCommand(request.command, bytes(c.mainPath), bytes(c.patchPath), engine, neededLibraries(c));
}

/** The part of a result the corpus pins: error and warning codes with severities, sorted. */
function pinnedCodes(outcome: CommandOutcome): string[] {
  return outcome.result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}:${f.severity}`).sort();
}

describe('corpus on the WasmEngine', () => {
  for (const c of cases) {
    it(`${c.scenario}/${c.name}`, async () => {
      const outcome = await verifyCase(c, 'wasm');
      expect(outcome.result.error ?? '', 'error message').toContain(c.messageContains ?? '');
      expect({ verdict: outcome.result.verdict, exitCode: outcome.exitCode, findings: pinnedCodes(outcome) }).toEqual({
        verdict: c.verdict,
        exitCode: c.exitCode,
        findings: c.findings.map((f) => `${f.code}:${f.severity}`).sort(),
      });
      const e = outcome.result.exploration;
      expect(e !== undefined, 'an exploration exactly when --explore is given').toBe(c.args.includes('--explore'));
      if (c.exploration && e) {
        expect({
          defaultPointVerdict: e.defaultPointVerdict, points: e.points, unsafePoints: e.unsafePoints, notApplied: e.notApplied, windows: e.windows.length,
          codes: [...new Set(e.windows.flatMap((w) => w.codes))].sort(),
          doing: c.exploration.doing.filter((d) => e.windows.some((w) => w.doing.includes(d))),
        }).toEqual(c.exploration);
      }
      if (c.exitCode === 2) expect(outcome.result.findings).toEqual([]);
      else expect(outcome.result.run?.patchPoint, 'a verified case reached its patch point').toBeGreaterThan(0);
    });
  }
});

async function unicornAvailable(): Promise<string | null> {
  try {
    (await createEngine('unicorn')).close();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

describe('corpus on UnicornEngine agrees with the WasmEngine', async () => {
  const missing = await unicornAvailable();
  if (missing !== null && process.env.CI === 'true') {
    it('libunicorn is installed on CI', () => {
      throw new Error(`UnicornEngine unavailable on CI: ${missing}`);
    });
    return;
  }
  if (missing !== null) console.warn(`SKIPPING the unicorn half of the corpus: ${missing}`);
  for (const c of cases) {
    it.skipIf(missing !== null)(`${c.scenario}/${c.name}`, async () => {
      const [wasm, unicorn] = [await verifyCase(c, 'wasm'), await verifyCase(c, 'unicorn')];
      expect({ verdict: unicorn.result.verdict, exitCode: unicorn.exitCode, findings: pinnedCodes(unicorn), error: unicorn.result.error }).toEqual({
        verdict: wasm.result.verdict,
        exitCode: wasm.exitCode,
        findings: pinnedCodes(wasm),
        error: wasm.result.error,
      });
      expect(unicorn.result.run?.patchPoint).toBe(wasm.result.run?.patchPoint);
      const summary = (r: CommandOutcome): unknown => r.result.exploration && { ...r.result.exploration, seconds: 0, pointsPerSecond: 0 };
      expect(summary(unicorn), 'the same exploration').toEqual(summary(wasm));
      expect(unicorn.result.run?.output.map((l) => l.text)).toEqual(wasm.result.run?.output.map((l) => l.text));
    });
  }
});

describe('the real CLI: exit codes', () => {
  const CLI = join(import.meta.dirname, '../../src/cli/verify-patch.ts');
  const pick = (verdict: string): ResolvedCase => cases.find((c) => c.verdict === verdict)!;
  let runs: { c: ResolvedCase; status: number | null; stdout: string; stderr: string }[] = [];
  beforeAll(() => {
    runs = [pick('safe'), pick('unsafe'), pick('error')].map((c) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, c.mainPath, c.patchPath, c.symbol, ...c.args], { encoding: 'utf8', timeout: 60_000 });
      return { c, status: r.status, stdout: r.stdout, stderr: r.stderr };
    });
  }, 120_000);
  it('exits 0 for a safe case, 1 for an unsafe one, 2 for one it cannot verify, without a stack trace', () => {
    expect(runs.map((r) => r.status)).toEqual([0, 1, 2]);
    for (const r of runs) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(runs[0]!.stdout).toMatch(/verdict: SAFE/);
    expect(runs[1]!.stdout).toMatch(/verdict: UNSAFE/);
    expect(runs[2]!.stderr).toContain(runs[2]!.c.messageContains!);
  });
});
