// The browser page end to end: build it with Vite, serve the static output on 127.0.0.1,
// drive Debian's chromium, verify corpus scenarios and look at what a user sees; then the
// same page from the dev server (`npm run web`), which loads its modules differently.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, createLogger, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyResult } from '../../src/verify/result.js';
import { verifyPatch } from '../../src/verify/verify.js';
import type { TimelineEvent } from '../../web/src/protocol.js';
import { CHROMIUM, chromiumAvailable, devServer, LAUNCH_ARGS, repo, serve } from './chromium.js';
import { threadPoolResult } from './thread-pool.js';

const screenshots = join(repo, 'test-output/web');
const available = chromiumAvailable('test/web');

/** What the CLI prints for the same input (its stderr line without the program name). */
function cliMessage(dir: string, args: string[]): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/verify-patch.ts'), ...args], { cwd: join(repo, dir), encoding: 'utf8' });
  expect(run.status).toBe(2);
  return run.stderr.trim().replace(/^verify-patch: /, '');
}

interface ExpectCase {
  name: string;
  main: string;
  patch: string;
  symbol: string;
  args?: string[];
}

/** The verifier's result for a corpus case, computed here in Node: the oracle for the page's replay. */
async function verifyInNode(id: string): Promise<VerifyResult> {
  const [scenario, name] = id.split('/') as [string, string];
  const dir = join(repo, 'corpus', scenario);
  const c = (JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as { cases: ExpectCase[] }).cases.find((x) => x.name === name)!;
  const args = c.args ?? [];
  const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const trampoline = option('--trampoline');
  return verifyPatch({
    main: readFileSync(join(dir, c.main)), mainName: c.main, patch: readFileSync(join(dir, c.patch)), patchName: c.patch, symbol: c.symbol,
    ...(option('--with') !== undefined ? { with: option('--with')! } : {}),
    ...(option('--signal') !== undefined ? { signal: option('--signal')! } : {}),
    ...(trampoline === undefined ? {} : { trampoline: trampoline === 'rel32' || trampoline === 'abs-indirect' || trampoline === 'abs-rax' ? trampoline : { template: trampoline } }),
    engine: 'wasm',
  });
}

/** The page verifies a permalink's case on load: wait for the DOM, not for every resource, on a loaded machine. */
const OPEN = { waitUntil: 'domcontentloaded', timeout: 90_000 } as const;

describe.skipIf(!available)('browser page', () => {
  let dist: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const buildWarnings: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    dist = mkdtempSync(join(tmpdir(), 'patchsandbox-web-'));
    // Quiet, but every warning kept: the build must not warn.
    const logger = createLogger('warn');
    logger.warn = (message) => void buildWarnings.push(message);
    logger.warnOnce = (message) => void buildWarnings.push(message);
    logger.info = () => {};
    await build({ configFile: join(repo, 'web/vite.config.ts'), customLogger: logger, build: { outDir: dist, emptyOutDir: true } });
    server = await serve(dist);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
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

  it('builds without a warning and without Node-only modules (koffi, UnicornEngine)', () => {
    expect(buildWarnings).toEqual([]);
    const files = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => readFileSync(join(dist, 'assets', f), 'utf8').includes('koffi'))).toEqual([]);
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

  // The trace comes from a replay in a process of the page's own; it must be the verifier's run.
  // The oracle is the verifier run here in Node: the page's timeline (the replay's output lines
  // and end) must equal its output lines and instruction count.
  for (const id of [
    'seed-classic/tool-patches-need-fix-func',
    'seed-classic/signal-handler-patches',
    'loop-head/tool-patches-total-amount',
    'call-in-prologue/blocking-signal-handler-patches-suspended-frame',
  ]) {
    it(`replays ${id} exactly as the verifier ran it`, async () => {
      const expected = await verifyInNode(id);
      expect(expected.run?.output.length).toBeGreaterThan(0);
      expect(await verifyScenario(id)).toBe(expected.verdict);
      expect(await page.locator('#replay-check').getAttribute('data-matches')).toBe('true');
      expect(await page.locator('.stepper').count()).toBe(1);
      const shown = await page.locator('.timeline [data-kind="output"]').evaluateAll((items) =>
        items.map((i) => `${i.getAttribute('data-at')} ${i.querySelector('.what')?.textContent ?? ''}`));
      expect(shown).toEqual(expected.run!.output.map((l) => `${l.instruction} ${l.stream}: ${l.text}`));
      expect(await page.locator('.timeline [data-kind="exit"]').getAttribute('data-at')).toBe(String(expected.run!.instructions));
      expect(await page.locator('.timeline [data-kind="patch-point"]').getAttribute('data-at')).toBe(String(expected.run!.patchPoint));
    }, 120_000);
  }

  it('lists main\'s functions (demangled) for a corpus case, and verifies the one typed in the field', async () => {
    await page.selectOption('#scenario', 'cxx-containers/tool-patches-mangled-name');
    const demangled = 'record_hit(SessionTable&, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, int)';
    await expect.poll(() => page.locator('#functions option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), { timeout: 30_000 })
      .toEqual(expect.arrayContaining([demangled, 'main', 'hotfix_apply']));
    expect(await page.locator('#functions-hint').textContent()).toMatch(/^\d+ functions in main/);
    // The case fills the fields in (its mangled name); the demangled one from the list works too.
    expect(await page.inputValue('#symbol')).toBe('_Z10record_hitR12SessionTableRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEi');
    await page.fill('#symbol', demangled);
    await page.click('#verify');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('safe');
    expect(await page.locator('#verdict .verdict-what').textContent()).toContain(`${demangled} in main`);
    // Another function of the same binary: the page verifies what the field says, not the case.
    await page.fill('#symbol', 'scenario_iterations');
    await page.fill('#replacement', '');
    await page.click('#verify');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.locator('#verdict').textContent()).toContain('scenario_iterations');
  }, 120_000);

  it('works from the keyboard alone: choose a scenario, verify, step the trace', async () => {
    await page.goto(`${origin}/index.html`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('scenario');
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue('#scenario')).toBe('seed-classic/signal-handler-patches');
    expect(await page.inputValue('#mode')).toBe('USR1');
    // Tab order: the form's controls in reading order, each with a visible focus ring.
    const order: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const e = document.activeElement as HTMLElement;
        return `${e.id}${e.matches(':focus-visible') && getComputedStyle(e).outlineStyle !== 'none' ? '' : ' (no visible focus)'}`;
      }));
    }
    expect(order).toEqual(['main-file', 'patch-file', 'symbol', 'replacement', 'library-files', 'strategy', 'trampoline', 'mode', 'seed', 'explore', 'process-model', 'verify']);
    for (let i = 0; i < 12; i++) await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('scenario');
    await page.keyboard.press('Enter');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('safe');
    expect(await page.evaluate(() => document.activeElement?.matches('#verdict h2'))).toBe(true);
    // Verdict heading → "patch site" → "trace": Enter there focuses the stepper.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('trace');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('stepper'))).toBe(true);
    // One thread (stubs model): no thread picker; the stepper's first tab stop is its first button
    // (a threaded run puts the picker there: test/web/thread-picker.test.ts).
    expect(await page.locator('.stepper .thread-picker').count()).toBe(0);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('⇤ patch point');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('stepper'))).toBe(true);
    const position = page.locator('.stepper .position');
    const start = Number(await position.getAttribute('data-step'));
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    expect(Number(await position.getAttribute('data-step'))).toBe(start + 2);
    await page.keyboard.press('Shift+Space');
    expect(Number(await position.getAttribute('data-step'))).toBe(start + 1);
    // Enter: the next timeline event's instruction.
    const eventSteps = (await page.locator('.timeline button[data-step]').evaluateAll((bs) => bs.map((b) => Number(b.getAttribute('data-step'))))).sort((x, y) => x - y);
    await page.keyboard.press('Enter');
    expect(Number(await position.getAttribute('data-step'))).toBe(eventSteps.find((step) => step > start + 1));
    // The timeline is one tab stop before the trace; ↓ moves inside it, Enter jumps the trace.
    await page.keyboard.press('Shift+Tab');
    const firstEvent = await page.evaluate(() => document.activeElement?.closest('.timeline') !== null && document.activeElement?.getAttribute('data-at'));
    expect(firstEvent).toBeTruthy();
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate(() => ({ at: document.activeElement?.getAttribute('data-at'), step: document.activeElement?.getAttribute('data-step') }));
    expect(Number(second.at)).toBeGreaterThanOrEqual(Number(firstEvent));
    await page.keyboard.press('Enter');
    expect(await position.getAttribute('data-step')).toBe(second.step);
    expect(await page.evaluate(() => document.activeElement?.classList.contains('stepper'))).toBe(true);
    await page.screenshot({ path: join(screenshots, 'keyboard.png') });
  }, 120_000);

  it('draws the exploration: unsafe windows shaded on the strip; clicking one verifies at its --patch-at', async () => {
    if (!page.url().startsWith(origin)) await page.goto(`${origin}/index.html`);
    expect(await verifyScenario('seed-classic/tool-explores-the-run')).toBe('unsafe');
    const shaded = page.locator('#exploration .exploration-strip .unsafe');
    expect(await shaded.count()).toBe(6);
    expect(await page.locator('#exploration .exploration-windows .window').count()).toBe(6);
    expect(await page.locator('#exploration').textContent()).toContain('Unsafe at 12 of 165 explored points');
    const from = await shaded.first().getAttribute('data-from');
    await page.locator('#exploration .exploration-windows .window').first().click();
    await page.locator('#replaying').waitFor({ timeout: 90_000 });
    // The verification at that moment: its patch point is the window's first point, and it is unsafe there.
    expect(await page.locator('.timeline [data-kind="patch-point"]').getAttribute('data-at')).toBe(from);
    expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('unsafe');
    expect(await page.locator('#exploration .exploration-strip .unsafe').count()).toBe(6);
    await page.screenshot({ path: join(screenshots, 'exploration.png'), fullPage: false });
  }, 180_000);

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
    // Own files: the last corpus case's fields are gone and no case is selected.
    expect(await page.inputValue('#scenario')).toBe('');
    expect(await page.inputValue('#symbol')).toBe('');
    expect(await page.inputValue('#replacement')).toBe('');
    expect(await page.inputValue('#mode')).toBe('');
    expect(await page.locator('#scenario-description').textContent()).toContain('No corpus case selected');
    await page.fill('#symbol', 'need_fix_func');
    await page.click('#verify');
    const error = page.locator('#verdict .error-text');
    await error.waitFor({ timeout: 30_000 });
    const expected = cliMessage('corpus/bad-input', ['main-truncated', 'patch.so', 'need_fix_func']);
    expect(expected).toContain('truncated');
    expect(await error.textContent()).toBe(expected);
    await page.screenshot({ path: join(screenshots, 'truncated.png') });
  }, 60_000);

  it('a permalink opens the case with its options and verifies it; the address bar is the permalink of what was verified', async () => {
    const link = '#case=loop-head%2Ftool-patches-total-amount&symbol=total_amount&with=fix_total_amount&trampoline=rel32';
    await page.goto(`${origin}/index.html${link}`, OPEN);
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.inputValue('#scenario')).toBe('loop-head/tool-patches-total-amount');
    expect(await page.inputValue('#trampoline')).toBe('rel32');
    // What the verifier says for the same case and options, run here in Node.
    const dir = join(repo, 'corpus/loop-head');
    const expected = await verifyPatch({ main: readFileSync(join(dir, 'main')), mainName: 'main', patch: readFileSync(join(dir, 'patch.so')), patchName: 'patch.so', symbol: 'total_amount', with: 'fix_total_amount', trampoline: 'rel32', engine: 'wasm' });
    expect(expected.findings.map((f) => f.code)).toContain('REL32_OUT_OF_RANGE');
    expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe(expected.verdict);
    expect(await page.locator('.finding').evaluateAll((items) => items.map((i) => i.getAttribute('data-code')))).toEqual(expected.findings.map((f) => f.code));
    expect(new URL(page.url()).hash).toBe(link);
    expect(await page.locator('#permalink').getAttribute('href')).toBe(link);
    // Edited fields give a new permalink; opening it in a fresh page reproduces the verdict.
    await page.selectOption('#trampoline', 'abs-rax');
    await page.click('#verify');
    await expect.poll(() => page.locator('#verdict .verdict-word').getAttribute('data-verdict'), { timeout: 90_000 }).toBe('unsafe');
    const edited = new URL(page.url()).hash;
    expect(edited).toBe('#case=loop-head%2Ftool-patches-total-amount&symbol=total_amount&with=fix_total_amount&trampoline=abs-rax');
    const fresh = await page.context().newPage();
    await fresh.goto(`${origin}/index.html${edited}`, OPEN);
    await fresh.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await fresh.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('unsafe');
    await fresh.close();
    // A link without a case carries the options only and asks for the files; a broken one says why.
    await page.goto(`${origin}/index.html#symbol=handle_events&signal=USR1&template=movabs%20r11%2C%20%7Btarget%7D%3B%20jmp%20r11`, OPEN);
    expect(await page.locator('#permalink-note').textContent()).toContain('choose main and patch.so');
    expect(await page.inputValue('#symbol')).toBe('handle_events');
    expect(await page.inputValue('#mode')).toBe('USR1');
    expect(await page.inputValue('#template')).toBe('movabs r11, {target}; jmp r11');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main-file');
    // Choosing the files keeps the link's options (they are not a corpus case's to clear).
    await page.setInputFiles('#main-file', join(repo, 'test/fixtures/debug-lines/call-in-prologue/main'));
    await page.setInputFiles('#patch-file', join(repo, 'test/fixtures/debug-lines/call-in-prologue/patch.so'));
    expect(await page.inputValue('#symbol')).toBe('handle_events');
    expect(await page.inputValue('#template')).toBe('movabs r11, {target}; jmp r11');
    await page.goto(`${origin}/index.html#case=no-such%2Fcase&symbol=f`, OPEN);
    expect(await page.locator('#permalink-note').textContent()).toContain("names the case 'no-such/case'");
    // A schedule seed rides along (seed=): the field shows it and the verified request keeps it.
    const seeded = '#case=seed-classic%2Fsignal-handler-patches&symbol=need_fix_func&trampoline=abs-rax&signal=USR1&seed=7';
    await page.goto(`${origin}/index.html${seeded}`, OPEN);
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.inputValue('#seed')).toBe('7');
    expect(new URL(page.url()).hash).toBe(seeded);
    await page.fill('#seed', 'x1');
    await page.click('#verify');
    await expect.poll(() => page.locator('#results').textContent(), { timeout: 30_000 }).toContain("the seed 'x1' is not a decimal number");
    await page.goto(`${origin}/index.html#symbol=f&seed=18446744073709551616`, OPEN);
    expect(await page.locator('#permalink-note').textContent()).toContain('the seed 18446744073709551616 does not fit in 64 bits in the link');
  }, 240_000);

  it('files built with -g: the evidence names its source lines; the permalink holds the options, not the files', async () => {
    await page.goto(`${origin}/index.html`, OPEN);
    await page.setInputFiles('#main-file', join(repo, 'test/fixtures/debug-lines/loop-head/main'));
    await page.setInputFiles('#patch-file', join(repo, 'test/fixtures/debug-lines/loop-head/patch.so'));
    await page.fill('#symbol', 'total_amount');
    await page.fill('#replacement', 'fix_total_amount');
    await page.click('#verify');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    expect(await page.locator('.finding[data-code="BRANCH_INTO_PATCHED_BYTES"] .evidence .source').allTextContents()).toEqual([
      ' corpus/loop-head/target.c:12', ' corpus/loop-head/target.c:14',
    ]);
    expect(new URL(page.url()).hash).toBe('#symbol=total_amount&with=fix_total_amount&trampoline=abs-rax');
  }, 120_000);

  it('downloads the shown verification as JSON, SARIF and HTML reports, as the CLI writes them', async () => {
    await page.goto(`${origin}/index.html#case=loop-head%2Ftool-patches-total-amount&symbol=total_amount&with=fix_total_amount&trampoline=abs-rax`, OPEN);
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
    const download = async (format: string): Promise<{ name: string; text: string }> => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(`.report-actions button[data-format="${format}"]`)]);
      return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
    };
    const expected = await verifyInNode('loop-head/tool-patches-total-amount');
    const json = await download('json');
    expect(json.name).toBe('verify-patch-total_amount.json');
    const doc = JSON.parse(json.text) as { schemaVersion: number; verdict: string; findings: { code: string }[] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.verdict).toBe(expected.verdict);
    expect(doc.findings.map((f) => f.code)).toEqual(expected.findings.map((f) => f.code));
    const sarif = await download('sarif');
    expect(sarif.name).toBe('verify-patch-total_amount.sarif');
    const log = JSON.parse(sarif.text) as { version: string; runs: { results: { ruleId: string }[]; artifacts: { location: { uri: string } }[] }[] };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.results.map((r) => r.ruleId)).toEqual(expected.findings.map((f) => f.code));
    expect(log.runs[0]!.artifacts.slice(0, 2).map((a) => a.location.uri)).toEqual(['main', 'patch.so']);
    const html = await download('html');
    expect(html.name).toBe('verify-patch-total_amount.html');
    expect(html.text).toMatch(/^<!doctype html>[\s\S]*<span class="verdict unsafe">UNSAFE<\/span>[\s\S]*BRANCH_INTO_PATCHED_BYTES/);
  }, 120_000);

  it('offers the strategy and draws the GOT and vtable slots written: slot, old target, new target', async () => {
    // got-slot: the case sets the strategy; libgame.so (next to main) is fetched with it.
    expect(await verifyScenario('got-slot/tool-internal-call')).toBe('unsafe');
    expect(await page.locator('#strategy').inputValue()).toBe('got');
    expect(await page.locator('#trampoline').isDisabled()).toBe(true);
    expect(await page.locator('.finding').evaluateAll((items) => items.map((i) => i.getAttribute('data-code')))).toContain('OLD_FUNCTION_STILL_CALLED');
    const got = page.locator('#patch-site[data-strategy="got"] .slot:not(.slot-head)');
    expect(await got.count()).toBe(1);
    expect(await got.locator('.slot-where').textContent()).toContain('R_X86_64_JUMP_SLOT of ./main-internal');
    expect(await got.locator('.slot-old').textContent()).toContain('compute_damage+0x0 (./libgame.so)');
    expect(await got.locator('.slot-new').textContent()).toContain('compute_damage+0x0 (./patch.so)');
    // vtable-swap with method_count one too large: the stray write is drawn and marked.
    expect(await verifyScenario('vtable-swap/signal-method-count-too-large')).toBe('unsafe');
    const rows = page.locator('#patch-site[data-strategy="vtable"] .slot:not(.slot-head)');
    expect(await rows.evaluateAll((items) => items.map((i) => i.getAttribute('data-in-target')))).toEqual(['true', 'true', 'false']);
    expect(await page.locator('#patch-site .slot.outside .slot-where').textContent()).toContain('vtable for Imp1Loud');
    await page.screenshot({ path: join(screenshots, 'vtable-slots.png'), fullPage: true });
    // A prologue case afterwards gets its trampoline back.
    expect(await verifyScenario('seed-classic/tool-patches-need-fix-func')).toBe('safe');
    expect(await page.locator('#strategy').inputValue()).toBe('prologue');
    expect(await page.locator('#trampoline').isDisabled()).toBe(false);
  }, 180_000);

  it('verifies your own files after a corpus case without carrying over its replacement', async () => {
    await page.selectOption('#scenario', 'short-function/adjacent-tool-patches');
    expect(await page.inputValue('#replacement')).not.toBe('');
    await page.setInputFiles('#main-file', join(repo, 'corpus/seed-classic/main'));
    await page.setInputFiles('#patch-file', join(repo, 'corpus/seed-classic/patch.so'));
    expect(await page.inputValue('#replacement')).toBe('');
    await page.fill('#symbol', 'need_fix_func');
    await page.click('#verify');
    const verdict = page.locator('#verdict .verdict-word');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await page.locator('#verdict .error-text').allTextContents()).toEqual([]);
    expect(await verdict.getAttribute('data-verdict')).toBe('safe');
  }, 90_000);

  it('made no request outside 127.0.0.1 and raised no page error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

// `npm run web` (vite web) serves the page's sources as modules: iced-x86 through the plugin's
// virtual module, keystone's wasm from node_modules, the corpus binaries through
// web/plugins/corpus-binaries.ts. One scenario to its verdict proves that path works.
describe.skipIf(!available)('browser page from the dev server', () => {
  let server: ViteDevServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await devServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('verifies seed-classic to its verdict, with the replay checked', async () => {
    const address = server.httpServer!.address() as AddressInfo;
    const origin = `http://127.0.0.1:${address.port}`;
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    await page.selectOption('#scenario', 'seed-classic/tool-patches-need-fix-func');
    await page.click('#verify');
    const verdict = page.locator('#verdict .verdict-word');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await page.locator('#verdict .error-text').allTextContents()).toEqual([]);
    expect(await verdict.getAttribute('data-verdict')).toBe('safe');
    expect(await page.locator('#replay-check').getAttribute('data-matches')).toBe('true');
    expect(await page.locator('#patch-site .line.trampoline').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    // The corpus executable is served as bytes, not as a module Vite tried to transform.
    const main = await page.evaluate(async (url) => {
      const r = await fetch(url);
      return { type: r.headers.get('content-type'), magic: [...new Uint8Array(await r.arrayBuffer()).slice(0, 4)] };
    }, `/@fs${join(repo, 'corpus/seed-classic/main')}`);
    expect(main).toEqual({ type: 'application/octet-stream', magic: [0x7f, 0x45, 0x4c, 0x46] });
  }, 120_000);

  it('draws a threaded run as one lane per thread (corpus/thread-pool on the system model, verified in Node)', async () => {
    // The run is the verifier's in Node (fast); the page's own lane code (web/src/lanes.ts) and
    // timeline view draw it in chromium. test/web/thread-picker.test.ts runs thread-pool in the
    // page itself on the bundled sysroot and checks the lanes there too.
    const result = await threadPoolResult();
    const threads = result.run!.process!.threads!;
    const events: TimelineEvent[] = result.run!.output.map((o) => ({ kind: 'output', at: o.instruction, text: `${o.stream}: ${o.text}` }));
    events.push({ kind: 'patch-point', at: result.run!.patchPoint!, text: 'patch point' });
    const address = server.httpServer!.address() as AddressInfo;
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    // A module script (vitest would rewrite an import() inside page.evaluate): the dev server serves web/src as modules.
    await page.evaluate((input) => Object.assign(window, { laneInput: input }), { events, threads, end: result.run!.instructions });
    await page.addScriptTag({
      type: 'module',
      content: `
        import { eventsOnLanes, threadLanes } from '/src/lanes.ts';
        import { renderTimeline } from '/src/view/timeline.ts';
        const { events, threads, end } = window.laneInput;
        const results = document.getElementById('results');
        results.replaceChildren(renderTimeline(eventsOnLanes(events, threads), () => {}, threadLanes(threads, end)));
        const all = (root, selector) => Array.from(root.querySelectorAll(selector));
        window.laneDrawn = {
          labels: all(results, '.lane .lane-label').map((e) => e.textContent),
          spans: all(results, '.lane').map((l) => l.querySelectorAll('.lane-span').length),
          ticks: all(results, '.lane').map((l) => all(l, '.lane-event').map((t) => t.getAttribute('data-kind'))),
          rows: all(results, '.timeline .event').map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-thread')]),
          widths: all(results, '.lane-track').map((t) => t.getBoundingClientRect().width),
        };`,
    });
    await page.waitForFunction(() => 'laneDrawn' in window, undefined, { timeout: 30_000 });
    const drawn = await page.evaluate(() => (window as unknown as { laneDrawn: { labels: string[]; spans: number[]; ticks: string[][]; rows: [string, string | null][]; widths: number[] } }).laneDrawn);
    expect(errors).toEqual([]);
    const tids = threads.list!.map((t) => t.tid);
    expect(drawn.labels).toEqual(threads.list!.map((t) => `${t.tid} ${t.name}`));
    expect(drawn.spans.reduce((a, b) => a + b, 0)).toBe(threads.ran!.length);
    for (const w of drawn.widths) expect(w).toBeGreaterThan(100);
    // Every output line and the patch point sit on some lane; each worker's lane starts with its thread event.
    expect(drawn.ticks.flat().filter((k) => k === 'output').length).toBe(result.run!.output.length);
    expect(drawn.ticks.flat().filter((k) => k === 'patch-point')).toHaveLength(1);
    expect(drawn.ticks.slice(1).map((t) => t[0])).toEqual(['thread', 'thread', 'thread']);
    expect(drawn.rows.filter(([kind]) => kind === 'thread').map(([, tid]) => Number(tid))).toEqual(tids.slice(1));
    expect(drawn.rows.every(([, tid]) => tid !== null && tids.includes(Number(tid)))).toBe(true);
    await page.screenshot({ path: join(screenshots, 'thread-lanes.png') });
    await page.close();
  }, 180_000);
});
