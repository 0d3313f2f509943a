// The page on the system process model: the web build bundles the pinned Debian 12 sysroot
// (scripts/fetch-sysroot.sh) and its licence notices; chromium verifies a real C++ program of
// corpus/real (TinyXML2: iostream and std::map) with it, and the verdict, the findings and the
// emulated stdout on the page equal the command line's on the same libraries (--sysroot of the
// bundled archive itself). Then the same with the archive dropped in as the user's own sysroot
// (gzip-compressed), and a tar without ld.so refused with a clear message; and a build
// without the sysroot, whose page says so in one line and runs the stubs model.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, createLogger } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumAvailable, LAUNCH_ARGS, repo, serve } from './chromium.js';

const sysrootDir = join(repo, '.cache/sysroot');
const available = chromiumAvailable('test/web/sysroot');
interface JsonReport {
  verdict: string;
  findings: { code: string }[];
  run: { output: { stream: string; text: string }[]; process?: { model: string; libc: string } };
}

/** The command line's report for a corpus/real case, on the bundled packages' files. */
function cliReport(dir: string, caseName: string): JsonReport {
  const expect = JSON.parse(readFileSync(join(repo, 'corpus/real', dir, 'expect.json'), 'utf8')) as { cases: { name: string; main: string; patch: string; symbol: string; args?: string[] }[] };
  const c = expect.cases.find((x) => x.name === caseName)!;
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/verify-patch.ts'), c.main, c.patch, c.symbol, ...(c.args ?? []),
    '--process', 'system', '--sysroot', join(sysrootDir, 'sysroot.tar'), '--format', 'json', '--no-progress'], { cwd: join(repo, 'corpus/real', dir), encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`the command line failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as JsonReport;
}

describe.skipIf(!available)('browser page: the system model with the bundled Debian 12 sysroot', () => {
  let dist: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const buildLines: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'patchsandbox-web-sysroot-'));
    const logger = createLogger('warn');
    logger.info = () => {};
    const stderrWrite = process.stderr.write.bind(process.stderr);
    // The plugin's one line about the sysroot goes to stderr: keep it to check what the build said.
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (typeof chunk === 'string' && chunk.startsWith('web build:')) buildLines.push(chunk.trim());
      return stderrWrite(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      await build({ configFile: join(repo, 'web/vite.config.ts'), customLogger: logger, build: { outDir: dist, emptyOutDir: true } });
    } finally {
      process.stderr.write = stderrWrite;
    }
    if (!existsSync(join(sysrootDir, 'sysroot.tar'))) {
      const why = `the web build bundled no sysroot (${buildLines.join(' ') || 'scripts/fetch-sysroot.sh failed'})`;
      if (process.env['CI'] === 'true') throw new Error(why);
      console.warn(`test/web/sysroot: ${why}`);
    }
    server = await serve(dist);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it('ships the sysroot (only what ld.so needs) and each package\'s copyright, and says so on the build\'s output', () => {
    expect(buildLines.some((l) => /^web build: bundling the Debian 12 \(bookworm\) sysroot \(libc6 2\.36-9\+deb12u\d+, libstdc\+\+6 12\.2\.0-14\+deb12u\d+, libgcc-s1 /.test(l))).toBe(true);
    const assets = readdirSync(join(dist, 'assets'));
    const tar = assets.find((f) => /^sysroot-.*\.tar$/.test(f));
    expect(tar).toBeDefined();
    const members = spawnSync('tar', ['-tf', join(dist, 'assets', tar!)], { encoding: 'utf8' }).stdout.split('\n').filter((m) => m !== '' && !m.endsWith('/'));
    expect(members.sort()).toEqual([
      'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/libc.so.6', 'lib/x86_64-linux-gnu/libgcc_s.so.1', 'lib/x86_64-linux-gnu/libm.so.6',
      'lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6',
    ]);
    const notices = assets.filter((f) => f.endsWith('.txt'));
    expect(notices.map((f) => f.replace(/-[\w-]{8}\.txt$/, ''))).toEqual(expect.arrayContaining(['libc6.copyright', 'gcc-12-base.copyright']));
    expect(readFileSync(join(dist, 'assets', notices.find((f) => f.startsWith('libc6'))!), 'utf8')).toMatch(/GNU Lesser General Public\s+License/);
  });

  async function verifyCase(id: string): Promise<void> {
    await page.selectOption('#scenario', id);
    await page.click('#verify');
    await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
  }

  async function shown(): Promise<{ verdict: string; codes: string[]; stdout: string; process: string }> {
    return {
      verdict: (await page.locator('#verdict .verdict-word').getAttribute('data-verdict')) ?? '',
      codes: await page.locator('#verdict .finding').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-code') ?? '')),
      stdout: (await page.locator('#program-stdout').textContent()) ?? '',
      process: (await page.locator('#process-used').textContent()) ?? '',
    };
  }

  it('verifies TinyXML2 (C++: iostream, std::map) on the bundled sysroot: verdict, findings and stdout as the command line gives them', async () => {
    const started = performance.now();
    await page.goto(`${origin}/index.html`);
    // A real program's case runs on the system model by default; the footer links the licences.
    await page.selectOption('#scenario', 'tinyxml2/tool-patches-mangled-name');
    expect(await page.inputValue('#process-model')).toBe('bundled');
    expect(await page.locator('#sysroot-note').textContent()).toContain('libc6 2.36-9+deb12u');
    expect(await page.locator('#licences a.licence').count()).toBe(2);
    await verifyCase('tinyxml2/tool-patches-mangled-name');
    console.log(`test/web/sysroot: page load to verdict for tinyxml2 on the system model: ${((performance.now() - started) / 1000).toFixed(2)} s`);
    const cli = cliReport('tinyxml2', 'tool-patches-mangled-name');
    const onPage = await shown();
    expect(cli.verdict).toBe('safe');
    expect(onPage.verdict).toBe(cli.verdict);
    expect(onPage.codes).toEqual(cli.findings.map((f) => f.code));
    const stdout = cli.run.output.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n');
    expect(stdout).toContain('round 1 from globex');
    expect(onPage.stdout).toBe(stdout);
    // Which libc ran it, in the report's words: the Debian package's glibc, from the sysroot.
    expect(onPage.process).toBe(`process: system model: the real ld.so and ${cli.run.process!.libc}`);
    expect(onPage.process).toMatch(/glibc 2\.36 \(Debian GLIBC 2\.36-9\+deb12u\d+\) \(\/lib\/x86_64-linux-gnu\/libc\.so\.6\)/);
    // The trace is a replay on the same sysroot, checked against the verifier's run; it steps through the real libc.
    expect(await page.locator('#replay-check').getAttribute('data-matches')).toBe('true');
    expect(await page.locator('#replay-check').textContent()).toContain(`${stdout.split('\n').length} output lines`);
    expect(await page.locator('.stepper').count()).toBe(1);
    expect(await page.locator('.trace-listing h3').textContent()).toContain('main  [/app/main]');
    // The timeline has the patcher's writes and the replacement's calls, as on the stubs model.
    expect(await page.locator('.timeline [data-kind="code-write"]').count()).toBeGreaterThan(0);
    expect(await page.locator('.timeline [data-kind="call-replacement"] .what').first().textContent()).toContain('tally_item_fixed');
    const position = page.locator('.stepper .position');
    const step = Number(await position.getAttribute('data-step'));
    await page.focus('.stepper');
    await page.keyboard.press('ArrowRight');
    expect(Number(await position.getAttribute('data-step'))).toBe(step + 1);
    // The case's own model is not in its permalink; the stubs model, chosen by hand, is.
    expect(new URL(page.url()).hash).not.toContain('process=');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('runs on a sysroot the user drops in (a .tar.gz), and refuses a tar without ld.so saying what to put in', async () => {
    const work = mkdtempSync(join(tmpdir(), 'patchsandbox-sysroot-'));
    try {
      // A permalink with the stubs model for a real program: the stubs lack its libc and libstdc++ imports.
      await page.goto(`${origin}/index.html#case=tinyxml2%2Ftool-patches-mangled-name&symbol=tally_item&process=stubs`);
      await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
      expect(await page.inputValue('#process-model')).toBe('stubs');
      expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('error');
      const gz = join(work, 'production-libs.tar.gz');
      writeFileSync(gz, gzipSync(readFileSync(join(sysrootDir, 'sysroot.tar'))));
      await page.selectOption('#scenario', 'tinyxml2/signal-handler-patches-demangled-name');
      await page.selectOption('#process-model', 'own');
      expect(await page.locator('#sysroot-file').isVisible()).toBe(true);
      await page.setInputFiles('#sysroot-file', gz);
      await page.click('#verify');
      await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
      const cli = cliReport('tinyxml2', 'signal-handler-patches-demangled-name');
      const onPage = await shown();
      expect(onPage.verdict).toBe(cli.verdict);
      expect(onPage.stdout).toBe(cli.run.output.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n'));
      expect(onPage.stdout).toContain('do fix');

      mkdirSync(join(work, 'empty/usr/lib'), { recursive: true });
      writeFileSync(join(work, 'empty/usr/lib/README'), 'no loader here\n');
      const bad = join(work, 'no-loader.tar');
      spawnSync('tar', ['-cf', bad, '-C', join(work, 'empty'), 'usr']);
      await page.setInputFiles('#sysroot-file', bad);
      await page.click('#verify');
      await page.locator('#verdict .verdict-word').waitFor({ timeout: 90_000 });
      expect(await page.locator('#verdict .verdict-word').getAttribute('data-verdict')).toBe('error');
      expect(await page.locator('#verdict .error-text').textContent()).toContain("sysroot 'no-loader.tar' has no /lib64/ld-linux-x86-64.so.2");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('a build without the sysroot ships none, and its page says so in one visible line and runs the stubs model', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'patchsandbox-web-bare-'));
    const bareServer = { server: undefined as Server | undefined };
    process.env['PATCHSANDBOX_WEB_SYSROOT'] = 'none';
    try {
      const logger = createLogger('warn');
      logger.info = () => {};
      await build({ configFile: join(repo, 'web/vite.config.ts'), customLogger: logger, logLevel: 'warn', build: { outDir: bare, emptyOutDir: true } });
      expect(readdirSync(join(bare, 'assets')).filter((f) => f.endsWith('.tar') || f.endsWith('.txt'))).toEqual([]);
      bareServer.server = await serve(bare);
      const bareOrigin = `http://127.0.0.1:${(bareServer.server.address() as AddressInfo).port}`;
      await page.goto(`${bareOrigin}/index.html`);
      await page.selectOption('#scenario', 'tinyxml2/tool-patches-mangled-name');
      expect(await page.inputValue('#process-model')).toBe('stubs');
      expect(await page.locator('#process-model option[value="bundled"]').isDisabled()).toBe(true);
      const note = page.locator('#sysroot-note');
      expect(await note.isVisible()).toBe(true);
      expect(await note.getAttribute('class')).toContain('note');
      expect(await note.textContent()).toBe('No bundled sysroot in this build (PATCHSANDBOX_WEB_SYSROOT=none): the page runs the stubs model; choose your own sysroot tar for the system model.');
      expect(await page.locator('#licences').textContent()).toContain('bundles no sysroot');
      // The old corpus still verifies there, on the stubs model.
      await verifyCase('seed-classic/tool-patches-need-fix-func');
      expect((await shown()).verdict).toBe('safe');
      expect((await shown()).process).toMatch(/^process: stubs model/);
    } finally {
      delete process.env['PATCHSANDBOX_WEB_SYSROOT'];
      await new Promise((resolve) => (bareServer.server ? bareServer.server.close(resolve) : resolve(undefined)));
      rmSync(bare, { recursive: true, force: true });
    }
  }, 120_000);
});
