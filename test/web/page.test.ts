// The browser page end to end: build it with Vite, serve the static output on 127.0.0.1,
// drive Debian's chromium, verify corpus scenarios and look at what a user sees.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const repo = new URL('../../', import.meta.url).pathname;
const screenshots = join(repo, 'test-output/web');
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  console.warn(`test/web: SKIPPED, ${CHROMIUM} not found (apt-get install -y chromium)`);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
};

function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What the CLI prints for the same input (its stderr line without the program name). */
function cliMessage(dir: string, args: string[]): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/verify-patch.ts'), ...args], { cwd: join(repo, dir), encoding: 'utf8' });
  expect(run.status).toBe(2);
  return run.stderr.trim().replace(/^verify-patch: /, '');
}

describe.skipIf(!available)('browser page', () => {
  let dist: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    dist = mkdtempSync(join(tmpdir(), 'patchsandbox-web-'));
    await build({ configFile: join(repo, 'web/vite.config.ts'), logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });
    server = await serve(dist);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  async function verifyScenario(id: string): Promise<string> {
    await page.selectOption('#scenario', id);
    await page.click('#verify');
    const verdict = page.locator('#verdict .verdict-word');
    await verdict.waitFor({ timeout: 90_000 });
    return (await verdict.getAttribute('data-verdict')) ?? '';
  }

  it('verifies seed-classic in a worker: safe, no findings, and the trace steps', async () => {
    const loaded = performance.now();
    await page.goto(`${origin}/index.html`);
    expect(await verifyScenario('seed-classic/tool-patches-need-fix-func')).toBe('safe');
    console.log(`test/web: page load to verdict for seed-classic: ${((performance.now() - loaded) / 1000).toFixed(2)} s`);
    expect(await page.locator('#verdict .error-text').count()).toBe(0);
    expect(await page.locator('.finding.severity-error').count()).toBe(0);
    // The patch site shows the overwritten bytes and the trampoline's listing.
    expect(await page.locator('#patch-site .line.overwritten').count()).toBeGreaterThan(0);
    expect(await page.locator('#patch-site .line.trampoline').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('jmp rax')]),
    );
    // Every trampoline byte is on the page (long encodings continue on a second row, as in
    // objdump), the same bytes the timeline shows written into code, and no bytes cell is cut.
    const trampolineBytes = (await page.locator('#patch-site .line.trampoline .bytes').allTextContents()).join(' ');
    const written = await page.locator('.timeline [data-kind="code-write"] .what').first().textContent();
    expect(trampolineBytes).toMatch(/^48 b8( [0-9a-f]{2}){8} ff e0$/);
    expect(written).toContain(`: ${trampolineBytes} (by host)`);
    expect(await page.locator('.listing .bytes').evaluateAll((cells) => cells.filter((c) => c.scrollWidth > c.clientWidth + 1).length)).toBe(0);
    // Timeline: the patcher's writes into code and the replacement's calls.
    expect(await page.locator('.timeline [data-kind="code-write"]').count()).toBeGreaterThan(0);
    expect(await page.locator('.timeline [data-kind="call-replacement"]').count()).toBeGreaterThan(0);

    // Step with the keyboard: the position and rip move, one register row is the current one.
    const position = page.locator('.stepper .position');
    const stepBefore = Number(await position.getAttribute('data-step'));
    await page.focus('.stepper');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(Number(await position.getAttribute('data-step'))).toBe(stepBefore + 2);
    await page.keyboard.press('ArrowLeft');
    expect(Number(await position.getAttribute('data-step'))).toBe(stepBefore + 1);
    expect(await page.locator('.trace-listing .line.current:not(.continuation)').count()).toBe(1);
    // Jump to the replacement's call: the current instruction is its entry.
    await page.locator('.timeline button[data-kind="call-replacement"]').first().click();
    const rip = await position.getAttribute('data-rip');
    expect(await page.locator('.trace-listing .line.current:not(.continuation) .addr').textContent()).toBe(rip!.slice(2));
    expect(await page.locator('.trace-listing h3').textContent()).toContain('fix_func');
    await page.screenshot({ path: join(screenshots, 'seed-classic.png'), fullPage: false });
  }, 120_000);

  it('shows loop-head as unsafe with BRANCH_INTO_PATCHED_BYTES and the branch drawn into the range', async () => {
    expect(await verifyScenario('loop-head/tool-patches-total-amount')).toBe('unsafe');
    const codes = await page.locator('.finding').evaluateAll((items) => items.map((i) => i.getAttribute('data-code')));
    expect(codes).toContain('BRANCH_INTO_PATCHED_BYTES');
    expect(await page.locator('#patch-site .arrow').count() + (await page.locator('#patch-site .into').count())).toBeGreaterThan(0);
    // Clicking the finding jumps to its evidence in the listing.
    await page.locator('.finding[data-code="BRANCH_INTO_PATCHED_BYTES"] .finding-title').click();
    expect(await page.evaluate(() => document.activeElement?.closest('#patch-site') !== null)).toBe(true);
    await page.screenshot({ path: join(screenshots, 'loop-head.png'), fullPage: true });
  }, 120_000);

  it('gives the CLI\'s error for a truncated executable dropped by the user', async () => {
    await page.setInputFiles('#main-file', join(repo, 'corpus/bad-input/main-truncated'));
    await page.setInputFiles('#patch-file', join(repo, 'corpus/bad-input/patch.so'));
    await page.fill('#symbol', 'need_fix_func');
    await page.click('#verify');
    const error = page.locator('#verdict .error-text');
    await error.waitFor({ timeout: 30_000 });
    const expected = cliMessage('corpus/bad-input', ['main-truncated', 'patch.so', 'need_fix_func']);
    expect(expected).toContain('truncated');
    expect(await error.textContent()).toBe(expected);
    await page.screenshot({ path: join(screenshots, 'truncated.png') });
  }, 60_000);

  it('made no request outside 127.0.0.1 and raised no page error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
