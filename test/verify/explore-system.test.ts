// --explore on the system model (real ld.so and glibc over the emulated kernel): the class
// sweep equals brute force point by point there too, each window's reproducing point verified
// alone (--patch-at N) gets the same answer, and points before main's code first runs (the
// tool cannot dlopen patch.so inside ld.so's start-up) are reported as not applied.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import { launchProcess, openEngine } from '../../src/verify/dynamic/launch.js';
import type { LiveHazard } from '../../src/verify/explore/moment.js';
import { explorePatch } from '../../src/verify/explore/explore.js';
import type { ExploreOptions, PointVerdict } from '../../src/verify/explore/types.js';
import type { VerifyInput } from '../../src/verify/input.js';
import { verifyPatch } from '../../src/verify/verify.js';
import { CORPUS_DIR } from '../corpus/cases.js';

function input(scenario: string, main: string, symbol: string, extra: Partial<VerifyInput> = {}): VerifyInput {
  const dir = join(CORPUS_DIR, scenario);
  return {
    main: new Uint8Array(readFileSync(join(dir, main))), mainName: main,
    patch: new Uint8Array(readFileSync(join(dir, 'patch.so'))), patchName: 'patch.so',
    symbol, process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(dir)) }, ...extra,
  };
}

type PointLog = [number, string, string][];
const log = (into: PointLog) => (point: number, verdict: PointVerdict, live: LiveHazard): void => {
  into.push([point, verdict.applied ? [...new Set(verdict.codes)].sort().join(',') || 'safe' : 'not applied', live]);
};

/** Codes that can differ from one moment to the next (what exploration classifies by). */
function momentCodes(findings: readonly { code: string; severity: string }[]): string[] {
  const independent = new Set(['TRAMPOLINE_OVERRUNS_FUNCTION', 'BRANCH_INTO_PATCHED_BYTES', 'RETURN_ADDRESS_IN_PATCHED_BYTES', 'REL32_OUT_OF_RANGE', 'PATCH_BINDS_OWN_COPY', 'SYMBOL_NOT_EXPORTED', 'PATCH_NOT_REACHED', 'CALLER_ASSUMES_PRESERVED_REGISTER']);
  return [...new Set(findings.filter((f) => f.severity !== 'info' && !independent.has(f.code)).map((f) => f.code))].sort();
}

describe('exploration on the system model', () => {
  const seed = input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' });

  it('classes equal brute force point by point around the default point (tool-driven, stride 3)', async () => {
    const verified = await verifyPatch(seed);
    expect(verified.run?.process?.model).toBe('system');
    const at = verified.run!.patchPoint!;
    const options: ExploreOptions = { from: at - 2_400, to: at + 600, stride: 3 };
    const classesPoints: PointLog = [];
    const brutePoints: PointLog = [];
    const classes = await explorePatch({ input: seed, options: { ...options, method: 'classes' }, onPoint: log(classesPoints) });
    const brute = await explorePatch({ input: seed, options: { ...options, method: 'brute-force' }, onPoint: log(brutePoints) });
    expect(classes.points).toBeGreaterThan(500);
    expect(classes.unsafePoints, 'need_fix_func runs in the window: a thread inside its first bytes').toBeGreaterThan(0);
    expect(classesPoints).toEqual(brutePoints);
    expect(classes.patchedRuns).toBeLessThan(brute.patchedRuns / 10);
  }, 300_000);

  it('program-driven: each unsafe window\'s point and the points around it, verified alone with --patch-at, get the same answer', async () => {
    const signal = input('seed-classic', 'main', 'need_fix_func', { signal: 'USR1' });
    // need_fix_func's second call (the handler is installed by then), found in a plain run of the same course.
    const process = launchProcess(await openEngine('wasm'), signal.main, signal.mainName, signal.patch, signal.patchName, [], signal.process);
    const entry = process.executable.base + BigInt(execFileSync('nm', [join(CORPUS_DIR, 'seed-classic', 'main')], { encoding: 'utf8' }).split('\n').find((l) => / T need_fix_func$/.test(l))!.split(' ')[0]!.replace(/^/, '0x'));
    for (let calls = 0; calls < 2;) {
      const stop = process.run({ maxInstructions: 10_000_000, stopAtCallOf: [entry] });
      expect(stop.reason).toBe('call');
      calls++;
      if (calls < 2) process.run({ maxInstructions: 1 });
    }
    const call = process.instructions;
    const points: PointLog = [];
    const e = await explorePatch({ input: signal, options: { from: call - 4, to: call + 16 }, onPoint: log(points) });
    expect(e.method).toBe('brute-force');
    expect(e.windows.length, JSON.stringify(e.windows)).toBeGreaterThan(0);
    const byPoint = new Map(points.map(([p, codes]) => [p, codes]));
    const samples = e.windows.slice(0, 2).flatMap((w) => [w.from - 1, w.example, w.to + 1]).filter((p) => byPoint.has(p));
    expect(samples.length).toBeGreaterThan(2);
    for (const p of samples) {
      const alone = await verifyPatch({ ...signal, patchAt: p });
      expect(alone.run?.patchPoint).toBe(p);
      const explored = byPoint.get(p)!;
      const codes = momentCodes(alone.findings);
      expect(alone.verdict === 'unsafe', `point ${p}: ${codes.join(',')} vs explored ${explored}`).toBe(explored !== 'safe');
      // Where the verifier's run could not decide (an instruction the emulator lacks), exploration counts the kill as a crash.
      if (/could not decide/.test(alone.run?.ended ?? '')) expect(explored.split(',')).toEqual(expect.arrayContaining(codes));
      else expect(codes.join(',') || 'safe', `point ${p}`).toBe(explored);
    }
  }, 300_000);

  it('tool-driven: patch.so is loaded once where main\'s code first runs; --explore N:N reproduces point N of any window', async () => {
    const verified = await verifyPatch(seed);
    const at = verified.run!.patchPoint!;
    const points: PointLog = [];
    const e = await explorePatch({ input: seed, options: { from: at - 3_000, to: at }, onPoint: log(points) });
    expect(e.patchLoadedAt).toBeGreaterThan(0);
    expect(e.patchLoadedAt).toBeLessThan(at - 3_000);
    const unsafe = e.windows.slice(0, 2).flatMap((w) => [w.from - 1, w.example, w.to + 1]);
    expect(unsafe.length).toBeGreaterThan(2);
    const byPoint = new Map(points.map(([p, codes, live]) => [p, `${codes} ${live}`]));
    for (const p of unsafe) {
      const one: PointLog = [];
      const alone = await explorePatch({ input: seed, options: { from: p, to: p }, onPoint: log(one) });
      expect(alone.patchLoadedAt).toBe(e.patchLoadedAt);
      expect(one.map(([q, codes, live]) => [q, `${codes} ${live}`])).toEqual([[p, byPoint.get(p)]]);
    }
  }, 300_000);

  it('with threads: a point is (instruction count, schedule seed); every thread is checked at each (blocked workers: unsafe throughout; parked: safe)', async () => {
    const pool = (main: string, symbol: string, fix: string, seed?: bigint): VerifyInput => input('thread-pool', main, symbol, { with: fix, ...(seed !== undefined ? { guest: { seed } } : {}) });
    const blocked = pool('main-blocking', 'serve', 'fix_serve');
    const at = (await verifyPatch(blocked)).run!.patchPoint!;
    const options: ExploreOptions = { from: at - 300, to: at + 300, stride: 10 };
    const classesPoints: PointLog = [];
    const brutePoints: PointLog = [];
    const classes = await explorePatch({ input: blocked, options: { ...options, method: 'classes' }, onPoint: log(classesPoints) });
    await explorePatch({ input: blocked, options: { ...options, method: 'brute-force' }, onPoint: log(brutePoints) });
    expect(classesPoints).toEqual(brutePoints);
    expect(classes.seed).toBe(1);
    expect(classes.unsafePoints).toBe(classes.points);
    expect(classes.windows[0]!.doing).toMatch(/^thread \d+ \(pool-\d\): the call from serve\+0x5 .*is in progress/);
    // Another schedule is another set of points: the seed is part of the point.
    const other = await explorePatch({ input: pool('main-blocking', 'serve', 'fix_serve', 7n), options });
    expect(other.seed).toBe(7);
    const parked = pool('main-parked', 'score', 'fix_score');
    const parkedAt = (await verifyPatch(parked)).run!.patchPoint!;
    const safe = await explorePatch({ input: parked, options: { from: parkedAt - 200, to: parkedAt + 200, stride: 10 } });
    expect(safe.points).toBeGreaterThan(30);
    expect(safe.unsafePoints, JSON.stringify(safe.windows)).toBe(0);
  }, 300_000);

  it('points in ld.so\'s start-up are not applied for the tool (no dlopen before main\'s code runs); the signal\'s are brute force', async () => {
    const e = await explorePatch({ input: seed, options: { from: 0, to: 2_000, stride: 100 } });
    expect(e.notApplied).toBe(e.points === 0 ? 21 : e.notApplied);
    expect(e.notApplied).toBeGreaterThan(0);
    const signal = await explorePatch({ input: input('seed-classic', 'main', 'need_fix_func', { signal: 'USR1' }), options: { from: 0, to: 2_000, stride: 100 } });
    expect(signal.method).toBe('brute-force');
    expect(signal.notApplied, 'no SIGUSR1 handler during start-up').toBe(21);
  }, 300_000);
});
