// --explore through the real CLI: --jobs spreads the points over worker threads and gives the
// one-thread report; shard reports written to files are combined by `verify-patch merge`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../elf/elf-files.js';

const CLI = join(REPO_ROOT, 'src/cli/verify-patch.ts');
const SEED = join(REPO_ROOT, 'corpus/seed-classic');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const normalise = (json: string): string => json.replace(/"(seconds|pointsPerSecond|patchedRuns)": [\d.e+-]+/g, '"$1": 0');
const base = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--with', 'fix_func', '--explore', '40:180', '--format', 'json', '--process', 'stubs'];

describe('verify-patch --explore', () => {
  it('--jobs 2 gives the report of one thread; shard files merge into it; exit 1 for the unsafe moments', () => {
    const one = run(...base);
    const two = run(...base, '--jobs', '2');
    expect(one.stderr).toBe('');
    expect(two.stderr).toBe('');
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    expect(normalise(two.stdout)).toBe(normalise(one.stdout));
    const e = (JSON.parse(one.stdout) as { exploration: { unsafePoints: number; defaultPointVerdict: string } }).exploration;
    expect(e.defaultPointVerdict).toBe('safe');
    expect(e.unsafePoints).toBeGreaterThan(0);

    const dir = mkdtempSync(join(tmpdir(), 'explore-shards-'));
    const files = [1, 2].map((i) => {
      const file = join(dir, `shard-${i}.json`);
      writeFileSync(file, run(...base, '--shard', `${i}/2`).stdout);
      return file;
    });
    const merged = run('merge', files[1]!, files[0]!);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(1);
    expect(normalise(merged.stdout)).toBe(normalise(one.stdout));
    const missing = run('merge', files[1]!);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^verify-patch: shard 1\/2 is missing\n$/);
  }, 180_000);

  it('on the system model (the default where / has ld.so), --jobs 2 rebuilds the file system in each worker and gives the report of one thread', () => {
    const system = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', '--with', 'fix_func', '--explore', '92000:95000', '--format', 'json', '--process', 'system'];
    const one = run(...system);
    const two = run(...system, '--jobs', '2');
    expect(one.stderr).toBe('');
    expect(two.stderr).toBe('');
    expect(normalise(two.stdout)).toBe(normalise(one.stdout));
    const report = JSON.parse(one.stdout) as { run: { process: { model: string } }; exploration: { unsafePoints: number; patchLoadedAt: number; windows: { reproduce: string }[] } };
    expect(report.run.process.model).toBe('system');
    expect(report.exploration.unsafePoints).toBeGreaterThan(0);
    expect(report.exploration.patchLoadedAt).toBeGreaterThan(0);
    expect(report.exploration.windows[0]!.reproduce).toMatch(/--explore (\d+):\1$/);
  }, 180_000);
});
