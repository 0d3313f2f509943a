// The trace stepper's thread picker in chromium: a real system-model replay of corpus/thread-pool
// (tool-driven, recorded in Node by the page's own replay code), stepped in the page's own
// stepper (web/src/view/trace.ts) from the dev server. Pick a thread: → and ← visit only its
// steps, each naming the thread; the picker is in the tab order, right after the stepper. Then the
// same case verified by the page itself on the bundled sysroot.
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDemangler } from '../../src/elf/index.js';
import { stepsOf } from '../../web/src/trace-threads.js';
import { replay } from '../../web/src/worker/replay.js';
import { CHROMIUM, chromiumAvailable, devServer, LAUNCH_ARGS, repo } from './chromium.js';
import { threadPoolProcess, threadPoolRequest, threadPoolResult } from './thread-pool.js';

const available = chromiumAvailable('test/web');
/** JSON with bigints and byte arrays (the trace's), revived in the page by the module script below. */
const encode = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { $b: v.toString() } : v instanceof Uint8Array ? { $u: [...v] } : v));

describe.skipIf(!available)('trace stepper thread picker', () => {
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

  it('picks a thread and steps through its instructions only, each step naming its thread', async () => {
    await initDemangler();
    const result = await threadPoolResult('tool');
    const replayed = await replay(threadPoolRequest('tool'), result, () => {}, threadPoolProcess());
    expect(replayed.check.differences).toEqual([]);
    const trace = replayed.trace!;
    const list = result.run!.process!.threads!.list!;
    const address = server.httpServer!.address() as AddressInfo;
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.evaluate((input) => Object.assign(window, { stepperInput: input }), encode({ trace, timeline: replayed.timeline, list }));
    await page.addScriptTag({
      type: 'module',
      content: `
        import { TraceStepper } from '/src/view/trace.ts';
        const input = JSON.parse(window.stepperInput, (_key, v) => v && typeof v === 'object' ? ('$b' in v ? BigInt(v.$b) : '$u' in v ? new Uint8Array(v.$u) : v) : v);
        const stepper = new TraceStepper(input.trace, input.timeline, input.list);
        document.getElementById('results').replaceChildren(stepper.element);
        window.stepperReady = true;`,
    });
    await page.waitForFunction(() => 'stepperReady' in window, undefined, { timeout: 30_000 });
    expect(errors).toEqual([]);

    const tids = [...new Set(trace.steps.map((s) => s.thread!))];
    expect(tids.length).toBeGreaterThan(1);
    const picker = page.locator('.stepper select.thread-picker');
    const options = await picker.locator('option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    expect(options[0]).toEqual(['', `all threads (${tids.length})`]);
    expect(options.slice(1).map(([v]) => Number(v)).sort()).toEqual([...tids].sort());
    for (const [value, text] of options.slice(1)) expect(text).toContain(`thread ${value} ${list.find((t) => t.tid === Number(value))!.name}`);

    // The picker is the first tab stop after the stepper itself.
    const position = page.locator('.stepper .position');
    await page.focus('.stepper');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('thread-picker'))).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.matches(':focus-visible'))).toBe(true);

    // Pick the thread that does not run at the patch point: the stepper moves to its next step.
    const start = Number(await position.getAttribute('data-step'));
    const other = tids.find((t) => t !== trace.steps[start]!.thread)!;
    const mine = stepsOf(trace.steps, other);
    await picker.selectOption(String(other));
    const at = Number(await position.getAttribute('data-step'));
    expect(at).toBe(mine.find((s) => s >= start) ?? mine.at(-1));
    expect(await position.getAttribute('data-thread')).toBe(String(other));
    // From the stepper (keyboard): → visits the thread's next steps, ← comes back.
    await page.focus('.stepper');
    const visited: number[] = [at];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('ArrowRight');
      visited.push(Number(await position.getAttribute('data-step')));
      expect(await position.getAttribute('data-thread')).toBe(String(other));
      expect(await position.textContent()).toContain(`thread ${other} ${list.find((t) => t.tid === other)!.name}`);
    }
    const k = mine.indexOf(at);
    expect(visited).toEqual(mine.slice(k, k + 5).concat(Array(Math.max(0, k + 5 - mine.length)).fill(mine.at(-1))));
    await page.keyboard.press('ArrowLeft');
    expect(Number(await position.getAttribute('data-step'))).toBe(visited[3]);
    expect(await position.textContent()).toMatch(/step \d+ \/ \d+ of this thread/);
    // The next button does the same.
    await page.click('.stepper button:has-text("next ▶")');
    expect(Number(await position.getAttribute('data-step'))).toBe(visited[4]);
    // "all threads": every step again, each naming the thread that ran it.
    await picker.selectOption('');
    await page.focus('.stepper');
    const here = Number(await position.getAttribute('data-step'));
    await page.keyboard.press('ArrowRight');
    const next = Number(await position.getAttribute('data-step'));
    expect(next).toBe(Math.min(here + 1, trace.steps.length - 1));
    expect(await position.getAttribute('data-thread')).toBe(String(trace.steps[next]!.thread));
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(repo, 'test-output/web/thread-picker.png') });
    await page.close();
  }, 240_000);

  it('the page itself: thread-pool on the bundled sysroot gets a checked trace with the picker, keyboard first', async () => {
    const address = server.httpServer!.address() as AddressInfo;
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.selectOption('#scenario', 'thread-pool/parked-workers-tool-patches-score');
    await page.click('#verify');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 180_000 });
    expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('safe');
    expect(await page.locator('#replay-check').getAttribute('data-matches')).toBe('true');
    // The page's own run on the system model draws one timeline lane per thread.
    expect(await page.locator('.timeline-threads .lanes .lane').count()).toBeGreaterThan(1);
    const picker = page.locator('.stepper select.thread-picker');
    const values = await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(values.length).toBeGreaterThan(2);
    const position = page.locator('.stepper .position');
    await page.focus('.stepper');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('thread-picker'))).toBe(true);
    // From the keyboard: ↓ picks the first thread (the select keeps its own keys), Shift+Tab back to the stepper, → steps it.
    await page.keyboard.press('ArrowDown');
    expect(await picker.inputValue()).toBe(values[1]);
    expect(await position.getAttribute('data-thread')).toBe(values[1]);
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('stepper'))).toBe(true);
    for (let i = 0; i < 3; i++) {
      const before = Number(await position.getAttribute('data-step'));
      await page.keyboard.press('ArrowRight');
      const after = Number(await position.getAttribute('data-step'));
      expect(await position.getAttribute('data-thread')).toBe(values[1]);
      if (after === before) break; // the thread's last recorded step
      expect(after).toBeGreaterThan(before);
    }
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(repo, 'test-output/web/thread-picker-page.png') });
    await page.close();
  }, 300_000);
});
