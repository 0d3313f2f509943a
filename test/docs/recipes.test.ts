// The README's API example and CI recipes, run as far as this machine allows: the library
// example on a -g fixture; the GitHub Actions workflow and the GitLab CI job parsed as YAML
// (Debian's python3-yaml) and their shell steps executed step by step with this checkout's
// verify-patch on PATH (install/build steps and `uses:` actions checked, not run), their
// reports validated against the SARIF 2.1.0 and report schemas; the shell gate run against
// stand-in pidof/kill, on safe, unsafe and unverifiable patches.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validate } from '../helpers/json-schema.js';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The installed command: package.json's bin, as npm links it. */
const BIN = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['verify-patch']!;
const PYTHON = '/usr/bin/python3';
const yamlAvailable = spawnSync(PYTHON, ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;
if (!yamlAvailable) {
  if (process.env['CI'] === 'true') throw new Error('python3-yaml is missing: apt-get install -y python3-yaml');
  console.warn('test/docs/recipes: YAML recipes SKIPPED, /usr/bin/python3 cannot import yaml (apt-get install python3-yaml)');
}
const work = mkdtempSync(join(tmpdir(), 'recipes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fenced block right after `<!-- recipe:NAME -->`. */
function recipe(name: string): string {
  const m = new RegExp(`<!-- recipe:${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!m) throw new Error(`README has no recipe:${name} block`);
  return m[1]!;
}

function parseYaml(text: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(execFileSync(PYTHON, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8' }));
}

const FIXTURES = {
  unsafe: { dir: 'test/fixtures/debug-lines/call-in-prologue', main: 'main', symbol: 'handle_events' },
  safe: { dir: 'corpus/seed-classic', main: 'main', symbol: 'need_fix_func' },
  error: { dir: 'corpus/bad-input', main: 'main-truncated', symbol: 'need_fix_func' },
} as const;

/** A fresh workspace: build/server and build/patch.so from a fixture, verify-patch (and stand-ins) on PATH. */
function workspace(name: string, fixture: keyof typeof FIXTURES): { cwd: string; env: NodeJS.ProcessEnv; symbol: string } {
  const f = FIXTURES[fixture];
  const cwd = join(work, `${name}-${fixture}`);
  mkdirSync(join(cwd, 'build'), { recursive: true });
  mkdirSync(join(cwd, 'bin'));
  copyFileSync(join(ROOT, f.dir, f.main), join(cwd, 'build/server'));
  copyFileSync(join(ROOT, f.dir, 'patch.so'), join(cwd, 'build/patch.so'));
  symlinkSync(join(ROOT, BIN), join(cwd, 'bin/verify-patch'));
  // pidof and kill stand-ins record what the gate would do to the real process.
  writeFileSync(join(cwd, 'bin/pidof'), '#!/bin/sh\necho 4242\n');
  writeFileSync(join(cwd, 'bin/kill'), `#!/bin/sh\necho "$@" > ${join(cwd, 'killed')}\n`);
  chmodSync(join(cwd, 'bin/pidof'), 0o755);
  chmodSync(join(cwd, 'bin/kill'), 0o755);
  return { cwd, env: { ...process.env, PATH: `${join(cwd, 'bin')}:${process.env['PATH']}` }, symbol: f.symbol };
}

const SARIF_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'test/vendor/sarif/sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;
const REPORT_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8')) as Record<string, unknown>;

describe('README: the library example', () => {
  it('runs as printed (on the call-in-prologue -g build) and prints the findings with their source lines', () => {
    const code = /## As a library\n\n```js\n([\s\S]*?)```/.exec(README)![1]!;
    expect(code.trim().split('\n').filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(10);
    const { cwd } = workspace('api', 'unsafe');
    mkdirSync(join(cwd, 'node_modules'));
    symlinkSync(ROOT, join(cwd, 'node_modules/patchsandbox'));
    writeFileSync(join(cwd, 'example.mjs'), code);
    const out = execFileSync('node', ['example.mjs'], { cwd, encoding: 'utf8' });
    expect(out).toMatch(/^RETURN_ADDRESS_IN_PATCHED_BYTES a call inside the overwritten bytes leaves a return address there \{ file: 'corpus\/call-in-prologue\/target\.c', line: 25/m);
    expect(out).toContain('unsafe ### verify-patch: **UNSAFE** `handle_events` in `server`');
  });
});

describe.skipIf(!yamlAvailable)('README: GitHub Actions workflow', () => {
  const workflow = yamlAvailable ? parseYaml(recipe('github-actions')) : {};
  const job = yamlAvailable ? workflow.jobs['verify-patch'] : {};
  const NOT_RUN = [/^make /, /^npm install --global patchsandbox$/];

  it('is a workflow code scanning accepts: security-events write, upload-sarif of the file the verify step writes', () => {
    expect(workflow.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
    const uses = job.steps.filter((s: any) => s.uses).map((s: any) => s.uses); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(uses).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'github/codeql-action/upload-sarif@v3']);
    const upload = job.steps.find((s: any) => s.uses?.startsWith('github/codeql-action/upload-sarif')); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(upload.if).toBe('always()');
    const verify = job.steps.find((s: any) => s.id === 'verify'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(verify.run).toContain(`> ${upload.with.sarif_file}`);
    const summary = job.steps.find((s: any) => s.name === 'summary'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(summary.if).toBe('always()');
    expect(verify.run).toContain('--report markdown:verify-patch.md');
    expect(verify['continue-on-error']).toBe(true);
  });

  /** Runs the job's steps as the runner would (bash -e, job env, continue-on-error, if:). */
  function runJob(fixture: keyof typeof FIXTURES): { failed: boolean; ran: string[]; cwd: string; sarif: string; summary: string } {
    const { cwd, env, symbol } = workspace('github', fixture);
    const jobEnv = { ...env, ...job.env, SYMBOL: symbol, GITHUB_STEP_SUMMARY: join(cwd, 'step-summary.md') };
    const outcomes: Record<string, 'success' | 'failure'> = {};
    let failed = false;
    const ran: string[] = [];
    let sarif = '';
    for (const step of job.steps) {
      const condition: string = step.if ?? 'success()';
      const go = condition === 'always()' || (condition === 'success()' && !failed) || (condition === "steps.verify.outcome == 'failure'" && outcomes['verify'] === 'failure');
      expect(['always()', 'success()', "steps.verify.outcome == 'failure'"]).toContain(condition);
      if (!go) continue;
      if (step.uses) {
        if (step.uses.startsWith('github/codeql-action/upload-sarif')) sarif = readFileSync(join(cwd, step.with.sarif_file), 'utf8');
        ran.push(step.uses);
        continue;
      }
      if (NOT_RUN.some((re) => re.test(step.run))) continue;
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { cwd, env: jobEnv, encoding: 'utf8' });
      ran.push(`${step.name ?? step.run} -> ${r.status}`);
      if (step.id) outcomes[step.id] = r.status === 0 ? 'success' : 'failure';
      if (r.status !== 0 && !step['continue-on-error']) failed = true;
    }
    return { failed, ran, cwd, sarif, summary: readFileSync(join(cwd, 'step-summary.md'), 'utf8') };
  }

  it('unsafe patch: the SARIF (valid 2.1.0, on the source line) is uploaded and the job fails', () => {
    const job = runJob('unsafe');
    expect(job.ran).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'verify-patch -> 1', 'summary -> 0', 'github/codeql-action/upload-sarif@v3', 'fail unless safe -> 1']);
    expect(job.failed).toBe(true);
    expect(job.summary).toMatch(/^### verify-patch: \*\*UNSAFE\*\* `handle_events` in `build\/server`/);
    expect(job.summary).toContain('`corpus/call-in-prologue/target.c:25`');
    const log = JSON.parse(job.sarif);
    expect(validate(SARIF_SCHEMA, log)).toEqual([]);
    const where = log.runs[0].results.map((r: any) => `${r.ruleId} ${r.locations[0].physicalLocation.artifactLocation.uri}:${r.locations[0].physicalLocation.region?.startLine}`); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(where).toContain('RETURN_ADDRESS_IN_PATCHED_BYTES corpus/call-in-prologue/target.c:25');
  });
  it('safe patch: uploaded, the job passes', () => {
    const job = runJob('safe');
    expect(job.failed).toBe(false);
    expect(job.ran).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'verify-patch -> 0', 'summary -> 0', 'github/codeql-action/upload-sarif@v3']);
    expect(job.summary).toMatch(/^### verify-patch: \*\*SAFE\*\*/);
    expect(JSON.parse(job.sarif).runs[0].properties.verdict).toBe('safe');
  });
  it('could not verify: the SARIF says why, the job fails', () => {
    const job = runJob('error');
    expect(job.failed).toBe(true);
    const log = JSON.parse(job.sarif);
    expect(validate(SARIF_SCHEMA, log)).toEqual([]);
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(false);
    expect(job.summary).toMatch(/^### verify-patch: \*\*COULD NOT VERIFY\*\*/);
  });
});

describe.skipIf(!yamlAvailable)('README: GitLab CI job', () => {
  const job = yamlAvailable ? parseYaml(recipe('gitlab-ci'))['verify-patch'] : {};
  function runJob(fixture: keyof typeof FIXTURES): { status: number; report: unknown; html: string } {
    const { cwd, env, symbol } = workspace('gitlab', fixture);
    // GitLab runs the script lines as one shell script that stops at the first failing line.
    const lines = (job.script as string[]).filter((l) => !/^npm install --global patchsandbox$/.test(l));
    const r = spawnSync('bash', ['-e', '-c', lines.join('\n')], { cwd, env: { ...env, ...job.variables, SYMBOL: symbol }, encoding: 'utf8' });
    // artifacts: when: always -> collected whatever the status.
    return { status: r.status ?? -1, report: JSON.parse(readFileSync(join(cwd, job.artifacts.paths[0]), 'utf8')), html: readFileSync(join(cwd, job.artifacts.paths[1]), 'utf8') };
  }
  it('keeps the JSON report as an artifact whatever the verdict', () => {
    expect(job.artifacts.when).toBe('always');
    expect(job.artifacts.paths).toEqual(['verify-patch.json', 'verify-patch.html']);
    expect(job.script).toContain('npm install --global patchsandbox');
  });
  for (const [fixture, status, verdict] of [['unsafe', 1, 'unsafe'], ['safe', 0, 'safe'], ['error', 2, 'error']] as const) {
    it(`${fixture}: job exit ${status}, report verdict ${verdict}, valid against schema/report.schema.json`, () => {
      const r = runJob(fixture);
      expect(r.status).toBe(status);
      expect(r.report).toMatchObject({ schemaVersion: 1, verdict });
      expect(validate(REPORT_SCHEMA, r.report)).toEqual([]);
      expect(r.html).toContain(`<span class="verdict ${verdict}">`);
    });
  }
});

describe('README: the shell gate', () => {
  const script = recipe('shell-gate');
  for (const [fixture, status, signalled] of [['safe', 0, true], ['unsafe', 1, false], ['error', 2, false]] as const) {
    it(`${fixture}: exit ${status}, ${signalled ? 'sends SIGUSR1 to the process' : 'leaves the process alone'}, keeps a Markdown report`, () => {
      const { cwd, env, symbol } = workspace('gate', fixture);
      writeFileSync(join(cwd, 'deploy-patch.sh'), script);
      const r = spawnSync('sh', ['deploy-patch.sh', 'build/server', 'build/patch.so', symbol], { cwd, env, encoding: 'utf8' });
      expect(r.status).toBe(status);
      expect(existsSync(join(cwd, 'killed')) ? readFileSync(join(cwd, 'killed'), 'utf8') : null).toBe(signalled ? '-USR1 4242\n' : null);
      expect(readFileSync(join(cwd, 'verify-patch.md'), 'utf8')).toMatch(/^### verify-patch: \*\*(SAFE|UNSAFE|COULD NOT VERIFY)\*\*/);
    });
  }
});
