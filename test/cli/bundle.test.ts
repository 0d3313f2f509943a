// The package bin is the esbuild bundle (scripts/bundle-cli.mjs, built by `npm run build`, which
// `npm ci` runs): it must give the same report as the command core, with both engines (the
// bundle names UnicornEngine's module, hidden from browser bundlers), Keystone loaded lazily,
// --jobs workers found, and its V8 code cache in place.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCommand } from '../../src/verify/command.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = `${ROOT}dist/verify-patch.mjs`;
const SEED = ['corpus/seed-classic/main', 'corpus/seed-classic/patch.so', 'need_fix_func'];

function bin(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('the bundled CLI (dist/verify-patch.mjs)', () => {
  it('prints the same JSON report as the command core, on both engines', async () => {
    // The stubs model on both sides: the command core has no sysroot (the bin's default would be the system model).
    const request = parseCommandLine([...SEED, '--format', 'json', '--process', 'stubs']);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const core = await runCommand(request.command, new Uint8Array(readFileSync(`${ROOT}${SEED[0]}`)), new Uint8Array(readFileSync(`${ROOT}${SEED[1]}`)));
    for (const engine of ['wasm', 'unicorn']) {
      const r = bin([...SEED, '--format', 'json', '--engine', engine, '--process', 'stubs']);
      expect(r.stderr, engine).toBe('');
      expect(r.status, engine).toBe(0);
      const report = JSON.parse(r.stdout) as { verdict: string; findings: { code: string }[]; run: { instructions: number } };
      const expected = JSON.parse(core.report) as typeof report;
      expect([report.verdict, report.findings.map((f) => f.code), report.run.instructions], engine).toEqual([expected.verdict, expected.findings.map((f) => f.code), expected.run.instructions]);
    }
  });

  it('assembles a template trampoline (Keystone imported on demand)', () => {
    const r = bin([...SEED, '--with', 'fix_func', '--trampoline', 'movabs r11, {target}; jmp r11']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/verdict: SAFE/);
  });

  it('starts --jobs workers (dist/cli/explore-worker.js, named from the bundle)', () => {
    const r = bin([...SEED, '--with', 'fix_func', '--explore', '40:180', '--jobs', '2', '--format', 'json', '--process', 'stubs']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1); // unsafe moments in the window, as test/cli/explore.test.ts finds through the sources
    expect((JSON.parse(r.stdout) as { exploration?: unknown }).exploration).toBeDefined();
  });

  it('compiles the bundle from the V8 code cache it names: the build\'s trained one, else written by a run', () => {
    const name = /verify-patch-bundle\.[0-9a-f]{16}\.v8cache/.exec(readFileSync(BIN, 'utf8'))?.[0];
    expect(name).toBeDefined();
    const cache = `${ROOT}dist/${name!}`;
    // The build trains the cache on four verifications (scripts/bundle-cli.mjs): the bin accepts it
    // (same source text, same V8 flags), so it leaves it as it is.
    const trained = spawnSync(process.execPath, [`${ROOT}scripts/bundle-cli.mjs`, '--code-cache', cache], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(trained.stderr).toBe('');
    expect(trained.status).toBe(0);
    const bytes = readFileSync(cache);
    expect(bin([...SEED, '--signal', 'USR1', '--process', 'stubs']).status).toBe(0);
    expect(readFileSync(cache).equals(bytes)).toBe(true);
    // Missing (an installed package has none): the first run writes it, even one that only prints the version.
    rmSync(cache, { force: true });
    const r = bin(['--version']);
    expect(r.status).toBe(0);
    expect(existsSync(cache)).toBe(true);
    expect(statSync(cache).size).toBeGreaterThan(100_000);
    // A verification compiles far more of the bundle than --version; the training covers more still.
    rmSync(cache, { force: true });
    expect(bin(SEED).status).toBe(0);
    const oneRun = statSync(cache).size;
    expect(oneRun).toBeLessThan(bytes.length);
    // Left as the build leaves it.
    expect(spawnSync(process.execPath, [`${ROOT}scripts/bundle-cli.mjs`, '--code-cache', cache], { cwd: ROOT, timeout: 120_000 }).status).toBe(0);
    expect(statSync(cache).size).toBeGreaterThan(oneRun);
  });

  it('is what package.json names as the bin', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['verify-patch']).toBe('dist/verify-patch.mjs');
  });
});
