// --report FORMAT:FILE through the real process: every requested file written from the one
// run (whatever the verdict), stdout unchanged, and one-line errors for a malformed value or
// a file that cannot be written.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const LOOP = join(REPO_ROOT, 'corpus/loop-head');
const work = mkdtempSync(join(tmpdir(), 'report-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  // Run from a scratch directory (the relative --report paths land there): tsx by its path.
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href, CLI, ...args], { encoding: 'utf8', cwd: work, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('verify-patch --report', () => {
  it('writes each requested format from the same run; stdout is the --format report', () => {
    const r = run(join(LOOP, 'main'), join(LOOP, 'patch.so'), 'total_amount', '--format', 'json', '--report', 'html:out.html', '--report=markdown:out.md', '--report', 'sarif:out.sarif');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { verdict: string; findings: { code: string }[] };
    expect(json.verdict).toBe('unsafe');
    expect(readFileSync(join(work, 'out.html'), 'utf8')).toContain('<span class="verdict unsafe">UNSAFE</span>');
    expect(readFileSync(join(work, 'out.md'), 'utf8')).toMatch(/^### verify-patch: \*\*UNSAFE\*\*/);
    const sarif = JSON.parse(readFileSync(join(work, 'out.sarif'), 'utf8')) as { runs: { results: { ruleId: string }[] }[] };
    expect(sarif.runs[0]!.results.map((x) => x.ruleId)).toEqual(json.findings.map((f) => f.code));
  });
  it('could not verify: the files are still written, saying why', () => {
    const bad = join(REPO_ROOT, 'corpus/bad-input');
    const r = run(join(bad, 'main-truncated'), join(bad, 'patch.so'), 'need_fix_func', '--report', 'markdown:error.md');
    expect(r.code).toBe(2);
    expect(readFileSync(join(work, 'error.md'), 'utf8')).toMatch(/COULD NOT VERIFY[\s\S]*truncated/);
  });
  it('one-line errors, exit 2: malformed values, an unwritable file', () => {
    for (const [value, pattern] of [['html', /--report wants FORMAT:FILE .* not 'html'/], ['pdf:x.pdf', /--report wants .* not 'pdf:x\.pdf'/], ['json:', /--report wants .* not 'json:'/]] as const) {
      const r = run(join(LOOP, 'main'), join(LOOP, 'patch.so'), 'total_amount', '--report', value);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^verify-patch: ${pattern.source}\\n$`));
    }
    const r = run(join(LOOP, 'main'), join(LOOP, 'patch.so'), 'total_amount', '--report', 'html:no/such/dir/out.html');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("verify-patch: cannot write the html report 'no/such/dir/out.html': no such directory\n");
  });
});
