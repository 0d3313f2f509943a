// The reports people read: --format html (one self-contained file: verdict, findings with
// evidence and source lines, the patch site with the overwritten bytes marked, the run's
// timeline; opened in chromium, it makes no request at all) and --format markdown (a pull-
// request comment: verdict heading, a findings table, details folded), both escaping what
// the guest or the inputs control.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { parseCommandLine, runCommand, TOOL, type CommandOutcome } from '../../src/verify/command.js';
import type { VerifyResult } from '../../src/verify/result.js';

const ROOT = join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const CASES = {
  unsafeWithLines: ['test/fixtures/debug-lines/loop-head', 'main', 'total_amount'],
  signal: ['test/fixtures/debug-lines/call-in-prologue', 'main', 'handle_events', '--signal', 'USR1'],
  safe: ['corpus/seed-classic', 'main', 'need_fix_func'],
  explored: ['corpus/seed-classic', 'main', 'need_fix_func', '--with', 'fix_func', '--explore'],
  nothingWritten: ['corpus/seed-own-copy', 'main', 'need_fix_func', '--signal', 'USR1'],
  error: ['corpus/bad-input', 'main-truncated', 'need_fix_func'],
} as const;
type CaseName = keyof typeof CASES;
const outcomes = {} as Record<CaseName, CommandOutcome>;
const work = mkdtempSync(join(tmpdir(), 'readable-'));

beforeAll(async () => {
  for (const [name, [dir, main, symbol, ...args]] of Object.entries(CASES) as [CaseName, readonly string[]][]) {
    const request = parseCommandLine([main!, 'patch.so', symbol!, ...args, '--format', 'html']);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const bytes = (file: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, dir!, file)));
    outcomes[name] = await runCommand(request.command, bytes(main!), bytes('patch.so'), 'wasm');
  }
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A result whose strings carry markup, Markdown syntax and control characters. */
function hostile(result: VerifyResult): VerifyResult {
  const f = result.findings[0]!;
  return {
    ...result,
    findings: [{ ...f, message: '<script>alert(1)</script> | `x` **b** \u001b[31m', evidence: [{ label: '<img src=x onerror=alert(2)>', text: 'a|b\nc' }] }, ...result.findings.slice(1)],
    run: result.run && { ...result.run, output: [{ stream: 'stdout', text: '</code><iframe src="https://example.com/">', instruction: 1 }] },
  };
}

describe('--format html', () => {
  it('is what runCommand returns for --format html', () => {
    expect(outcomes.unsafeWithLines.report).toBe(renderHtml(outcomes.unsafeWithLines.result, TOOL));
  });
  it('shows the verdict, each finding with its source line, the overwritten bytes and the timeline with the patch point', () => {
    const html = outcomes.unsafeWithLines.report;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<span class="verdict unsafe">UNSAFE</span>');
    expect(html).toContain('<code>BRANCH_INTO_PATCHED_BYTES</code>');
    expect(html).toContain('<span class="source mono">corpus/loop-head/target.c:12</span>');
    expect(html.match(/<span class="over">/g)).toHaveLength(12);
    expect(html).toMatch(/<li class="patch"><span class="n">insn \d+<\/span> patch point: the tool writes the trampoline/);
    expect(html).toMatch(/<li class="end"><span class="n">insn \d+<\/span> the run ends: the program exited/);
  });
  it('program-driven: the patch point is the signal, the output lines are events', () => {
    const html = outcomes.signal.report;
    expect(html).toContain('patch point: the signal is delivered; the program patches itself');
    expect(html).toContain('<code>fix result 0</code>');
    expect(html).toContain('LIVE_INSTRUCTION_CLOBBERED');
  });
  it('no trampoline at the target: says where the handler wrote; could not verify: says why', () => {
    expect(outcomes.nothingWritten.report).toMatch(/wrote nothing at the target; it wrote:<\/p><ul><li>12 bytes at <code>0x[0-9a-f]+<\/code>/);
    expect(outcomes.error.report).toMatch(/<span class="verdict error">COULD NOT VERIFY<\/span>[\s\S]*Could not verify the patch: .*truncated/);
  });
  it('--explore: the exploration map (window bar with the unsafe windows shaded, a row per window with its reproducing command)', () => {
    const x = outcomes.explored.result.exploration!;
    expect(x.unsafePoints).toBeGreaterThan(0);
    const html = outcomes.explored.report;
    expect(html).toContain('<h2>Every moment: the exploration</h2>');
    expect(html).toContain(`unsafe at ${x.unsafePoints}`);
    expect(html.match(/<rect [^>]*fill="#c62828"/g)?.length).toBe(x.windows.length);
    for (const w of x.windows) expect(html).toContain(`--patch-at ${w.example}`);
    expect(outcomes.safe.report).not.toContain('Every moment');
  });

  it('escapes what the inputs control', () => {
    const html = renderHtml(hostile(outcomes.unsafeWithLines.result), TOOL);
    expect(html).not.toMatch(/<script|<img|<iframe/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;/code&gt;&lt;iframe src=&quot;https://example.com/&quot;&gt;');
    expect(html).not.toContain('\u001b');
  });
  it('refers to nothing outside itself', () => {
    for (const name of Object.keys(CASES) as CaseName[]) {
      const html = outcomes[name].report;
      expect(html, name).not.toMatch(/\b(src|href)\s*=|url\(|@import|https?:\/\//i);
    }
  });

  const available = existsSync(CHROMIUM);
  if (!available && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium`);
  it.skipIf(!available)('opened in chromium from a file: renders the findings and makes no request, even with hostile strings', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const dialogs: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      for (const [name, html] of [['unsafe', outcomes.unsafeWithLines.report], ['hostile', renderHtml(hostile(outcomes.unsafeWithLines.result), TOOL)]] as const) {
        const file = join(work, `${name}.html`);
        writeFileSync(file, html);
        await page.goto(`file://${file}`);
        expect(await page.locator('.verdict').innerText()).toBe('UNSAFE');
        expect(await page.locator('section.finding').count()).toBe(outcomes.unsafeWithLines.result.findings.length);
        expect(await page.locator('ol.timeline li.patch').count()).toBe(1);
      }
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(requests).toHaveLength(2);
      expect(dialogs).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('--format markdown', () => {
  const md = (name: CaseName): string => renderMarkdown(outcomes[name].result);
  it('a heading with the verdict, a table row per finding with its source line, details folded', () => {
    const text = md('unsafeWithLines');
    expect(text.split('\n')[0]).toBe('### verify-patch: **UNSAFE** `total_amount` in `main`');
    expect(text).toContain('| severity | code | where | what |');
    expect(text).toMatch(/^\| error \| `BRANCH_INTO_PATCHED_BYTES` \| `corpus\/loop-head\/target\.c:12` `0x[0-9a-f]+ <total_amount\+0x6>` \| a branch targets total\\_amount\+0x6, inside the overwritten bytes/m);
    expect(text).toContain('<details><summary>Evidence and fixes</summary>');
    expect(text).toMatch(/- \*\*fix:\*\* patch a function whose first 12 bytes/);
    expect(text).toMatch(/```\noriginal \(overwritten\):\n0x[0-9a-f]+ +f3 0f 1e fa +endbr64\n/);
  });
  it('safe and could-not-verify cases', () => {
    expect(md('safe').split('\n')[0]).toBe('### verify-patch: **SAFE** `need_fix_func` in `main`');
    expect(md('safe')).toContain('0 errors, 0 warnings, 3 notes. Exit code 0.');
    expect(md('error')).toMatch(/^### verify-patch: \*\*COULD NOT VERIFY\*\*\n\nCould not verify the patch: .*truncated/);
  });
  it('a table row stays one row whatever the message holds; markup is inert', () => {
    const text = renderMarkdown(hostile(outcomes.unsafeWithLines.result));
    const row = text.split('\n').find((l) => l.startsWith('| error |'))!;
    // (the hostile evidence has no location, so the address stands alone)
    expect(row).toBe('| error | `BRANCH_INTO_PATCHED_BYTES` | `corpus/loop-head/target.c:12` `0x5555555552b6` | &lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\` \\*\\*b\\*\\* \ufffd\\[31m |');
    expect(text).not.toMatch(/<script|<img/);
    expect(text).toContain('- &lt;img src=x onerror=alert(2)&gt; a\\|b c');
  });
});
