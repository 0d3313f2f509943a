// --explore: the fast classification (one patched run per class of points, per-point hazards
// from the recorded run) must equal brute force (restore, run to the point, patch, run the
// horizon, at every point) on windows of several corpus scenarios; shards merged must equal the
// unsharded run byte for byte (timing aside); program-driven exploration finds the moments a
// signal handler's patch is unsafe.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { parseCommandLine, runCommand, TOOL } from '../../src/verify/command.js';
import { explorePatch, explorationPoints } from '../../src/verify/explore/explore.js';
import { mergeExplorations, mergeReports, mergeSubShards, subShard } from '../../src/verify/explore/merge.js';
import type { LiveHazard } from '../../src/verify/explore/moment.js';
import type { Exploration, ExploreOptions, PointVerdict } from '../../src/verify/explore/types.js';
import type { VerifyInput } from '../../src/verify/input.js';
import { CORPUS_DIR } from '../corpus/cases.js';

function input(scenario: string, main: string, symbol: string, extra: Partial<VerifyInput> = {}): VerifyInput {
  const dir = join(CORPUS_DIR, scenario);
  return {
    main: new Uint8Array(readFileSync(join(dir, main))), mainName: main,
    patch: new Uint8Array(readFileSync(join(dir, 'patch.so'))), patchName: 'patch.so',
    symbol, ...extra,
  };
}

/** Everything but timing and the method's own bookkeeping. */
function classification(e: Exploration): unknown {
  const { seconds: _s, pointsPerSecond: _p, patchedRuns: _r, method: _m, ...rest } = e;
  return rest;
}

type PointLog = [number, string, string][];

async function both(i: VerifyInput, options: ExploreOptions): Promise<{ classes: Exploration; brute: Exploration; classesPoints: PointLog; brutePoints: PointLog }> {
  const log = (into: PointLog) => (point: number, verdict: PointVerdict, live: LiveHazard): void => {
    into.push([point, verdict.applied ? [...new Set(verdict.codes)].sort().join(',') || 'safe' : 'not applied', live]);
  };
  const classesPoints: PointLog = [];
  const brutePoints: PointLog = [];
  const classes = await explorePatch({ input: i, options: { ...options, method: 'classes' }, onPoint: log(classesPoints) });
  const brute = await explorePatch({ input: i, options: { ...options, method: 'brute-force' }, onPoint: log(brutePoints) });
  return { classes, brute, classesPoints, brutePoints };
}

describe('exploration: classes of points against brute force, point by point', () => {
  const scenarios: [string, VerifyInput, ExploreOptions][] = [
    // need_fix_func's entry runs every 17 instructions; a thread at +4 or +5 resumes inside the jump. The whole run.
    ['seed-classic, the whole run', input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' }), { from: 0, to: 1_000 }],
    // The window that once disagreed: it starts right after a touch (a fetch inside the bytes).
    ['seed-classic, a shard starting inside the bytes', input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' }), { from: 40, to: 180, shard: { index: 2, count: 2 } }],
    // A call from handle_events+0x5 returns to +0xa: unsafe for as long as it is in progress (the stack holds the word: steps).
    ['call-in-prologue (idle), the whole run', input('call-in-prologue', 'main-idle', 'handle_events', { with: 'fix_handle_events' }), { from: 0, to: 1_000 }],
    // Starting while that call is in progress (points 113-117): the sweep's first scan of the stack must find the word.
    ['call-in-prologue (idle), a window starting inside the call', input('call-in-prologue', 'main-idle', 'handle_events', { with: 'fix_handle_events' }), { from: 115, to: 200 }],
    // The loop head at +6 inside the bytes: every iteration's branch back is a touch.
    ['loop-head, the whole run', input('loop-head', 'main', 'total_amount', { with: 'fix_total_amount' }), { from: 0, to: 1_000 }],
    // Classes with no explored point, and patched runs at a class's first explored point.
    ['loop-head, stride 3', input('loop-head', 'main', 'total_amount', { with: 'fix_total_amount' }), { from: 60, to: 220, stride: 3 }],
    ['seed-classic, stride 7', input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' }), { from: 3, to: 1_000, stride: 7 }],
    // Vectorised code, a horizon of N instructions rather than until the return.
    ['o3-vectorized, fixed horizon', input('o3-vectorized', 'main', 'volley_damage'), { from: 0, to: 400, horizon: { instructions: 300, untilReturn: false } }],
    // Edges inside the bytes (a forward jns, a get-PC call): hand-written kernels.
    ['in-range-edges (get-PC), the whole run', input('in-range-edges', 'main', 'pc_base', { with: 'fix_pc_base' }), { from: 0, to: 1_000 }],
  ];
  for (const [name, i, options] of scenarios) {
    it(name, async () => {
      const { classes, brute, classesPoints, brutePoints } = await both(i, options);
      expect(classes.method).toBe('classes');
      expect(brute.method).toBe('brute-force');
      expect(classes.points).toBeGreaterThan(10);
      expect(classesPoints.length).toBe(brutePoints.length);
      expect(classesPoints).toEqual(brutePoints);
      expect(classification(classes)).toEqual(classification(brute));
      // Fewer patched runs than points is the point of the classes.
      expect(classes.patchedRuns).toBeLessThan(brute.patchedRuns);
    }, 120_000);
  }

  it('the windows hold unsafe and safe moments (the comparison above is not vacuous)', async () => {
    const e = await explorePatch({ input: input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' }), options: { from: 0, to: 1_000 } });
    expect(e.method, 'classes are the default for tool-driven points').toBe('classes');
    expect(e.unsafePoints).toBeGreaterThan(0);
    expect(e.unsafePoints).toBeLessThan(e.points);
  }, 60_000);

  it('the call in progress is reported with the frame it will return into', async () => {
    const e = await explorePatch({ input: input('call-in-prologue', 'main-idle', 'handle_events', { with: 'fix_handle_events' }), options: { from: 70, to: 160 } });
    const frames = e.windows.filter((w) => w.live === 'frame');
    const rips = e.windows.filter((w) => w.live === 'rip');
    expect(frames.length).toBeGreaterThan(0);
    expect(rips.length).toBeGreaterThan(0);
    for (const w of frames) {
      expect(w.doing).toMatch(/^the call from handle_events\+0x5 .*is in progress/);
      expect(w.callChain[0]).toMatch(/^handle_events\+0x5 /);
      expect(w.codes).toContain('LIVE_INSTRUCTION_CLOBBERED');
    }
    for (const w of rips) {
      expect(w.doing).toMatch(/^executing handle_events\+0x[0-9a-f]+ .*inside the overwritten bytes/);
      expect(w.callChain[0]).toMatch(/^main\+0x/);
    }
  }, 60_000);
});

describe('exploration: program-driven', () => {
  it('call-in-prologue (blocking): every point while the handler-less start-up runs is not applied; the blocked call is unsafe', async () => {
    const e = await explorePatch({ input: input('call-in-prologue', 'main-blocking', 'handle_events', { signal: 'USR1' }), options: { from: 0, to: 200, stride: 4 } });
    expect(e.method).toBe('brute-force');
    expect(e.mode).toBe('program-driven');
    expect(e.notApplied, 'before main installs its handler a SIGUSR1 would not patch').toBeGreaterThan(0);
    expect(e.unsafePoints).toBeGreaterThan(0);
    const pending = e.windows.filter((w) => /the call from handle_events\+0x5 .*is in progress/.test(w.doing));
    expect(pending.length, JSON.stringify(e.windows.map((w) => w.doing))).toBeGreaterThan(0);
    for (const w of pending) expect(w.codes).toContain('LIVE_INSTRUCTION_CLOBBERED');
  }, 120_000);

  it('a patch that is never written (rel32 out of range) is unsafe nowhere, by either method', async () => {
    const { classes, brute } = await both(input('o3-vectorized', 'main', 'volley_damage', { trampoline: 'rel32' }), { from: 100, to: 112 });
    expect(classes.unsafePoints).toBe(0);
    expect(classification(classes)).toEqual(classification(brute));
  }, 60_000);

  it('--strategy got|vtable is refused with a clear message, not explored as a trampoline', async () => {
    await expect(explorePatch({ input: input('vtable-swap', 'main', 'Imp1::hello()', { with: 'Imp1Fixed::hello()', strategy: 'vtable' }), options: { from: 0, to: 10 } })).rejects.toThrow(/--explore with --strategy vtable is not supported yet/);
  });

  it('the classes method refuses program-driven points (the handler may act differently at each)', async () => {
    await expect(explorePatch({ input: input('seed-classic', 'main', 'need_fix_func', { signal: 'USR1' }), options: { from: 0, to: 10, method: 'classes' } })).rejects.toThrow(/tool-driven only/);
  });
});

describe('exploration: shards', () => {
  it('explorationPoints slices the window into contiguous shards covering every point once', () => {
    const all: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = explorationPoints(10, 47, 3, { index: i, count: 4 });
      if (r) for (let p = r.first; p <= r.last; p += 3) all.push(p);
    }
    const whole = explorationPoints(10, 47, 3)!;
    const expected: number[] = [];
    for (let p = whole.first; p <= whole.last; p += 3) expected.push(p);
    expect(all).toEqual(expected);
    expect(explorationPoints(5, 4, 1)).toBeNull();
  });

  it('4 shards merged by `verify-patch merge` equal the unsharded run byte for byte (timing aside)', async () => {
    const dir = join(CORPUS_DIR, 'call-in-prologue');
    const main = new Uint8Array(readFileSync(join(dir, 'main-idle')));
    const patch = new Uint8Array(readFileSync(join(dir, 'patch.so')));
    const report = async (...extra: string[]): Promise<string> => {
      const request = parseCommandLine(['main-idle', 'patch.so', 'handle_events', '--with', 'fix_handle_events', '--explore', '60:200', '--format', 'json', ...extra]);
      if (request.kind !== 'verify') throw new Error('not a verify command');
      return (await runCommand(request.command, main, patch)).report;
    };
    const normalise = (json: string): string => json.replace(/"(seconds|pointsPerSecond|patchedRuns)": [\d.e+-]+/g, '"$1": 0');
    const single = await report();
    const shards: unknown[] = [];
    for (let i = 4; i >= 1; i--) shards.push(JSON.parse(await report('--shard', `${i}/4`)) as unknown);
    const merged = mergeReports(shards, ['d', 'c', 'b', 'a']);
    expect(normalise(JSON.stringify(merged, null, 2) + '\n')).toBe(normalise(single));
    expect((JSON.parse(single) as { exploration: Exploration }).exploration.unsafePoints).toBeGreaterThan(0);
    // A missing or doubled shard is an error naming it.
    expect(() => mergeReports(shards.slice(1), ['c', 'b', 'a'])).toThrow(/shard 4\/4 is missing/);
    expect(() => mergeReports([shards[0], shards[0]], ['d', 'd'])).toThrow(/given twice|missing/);
    void renderJson;
    void TOOL;
  }, 120_000);

  it('--jobs inner shards of an outer shard merge back into that outer shard', async () => {
    const i = input('seed-classic', 'main', 'need_fix_func', { with: 'fix_func' });
    const outer = { index: 2, count: 3 };
    const direct = await explorePatch({ input: i, options: { from: 50, to: 160, shard: outer } });
    const parts: Exploration[] = [];
    for (let j = 1; j <= 2; j++) parts.push(await explorePatch({ input: i, options: { from: 50, to: 160, shard: subShard(outer, j, 2) } }));
    expect(classification(mergeSubShards(parts, outer, 2))).toEqual(classification(direct));
    expect(() => mergeExplorations([direct, direct])).toThrow(/given twice|missing/);
  }, 60_000);
});

describe('exploration: options', () => {
  const parse = (...extra: string[]): ReturnType<typeof parseCommandLine> => parseCommandLine(['main', 'patch.so', 'f', ...extra]);
  it('parses the window, stride, horizon, shard and jobs', () => {
    const r = parse('--explore', '10:2_000', '--stride', '5', '--horizon', 'return:300', '--shard', '2/8', '--jobs', '2');
    expect(r.kind === 'verify' && r.command.explore).toEqual({ from: 10, to: 2000, stride: 5, horizon: { instructions: 300, untilReturn: true }, shard: { index: 2, count: 8 } });
    expect(r.kind === 'verify' && r.command.jobs).toBe(2);
    // A bare --explore followed by another option or a positional.
    const bare = parseCommandLine(['--explore', 'main', 'patch.so', 'f']);
    expect(bare.kind === 'verify' && bare.command.explore).toEqual({});
    const fixed = parse('--explore', '--horizon', '50');
    expect(fixed.kind === 'verify' && fixed.command.explore?.horizon).toEqual({ instructions: 50, untilReturn: false });
  });
  it('rejects what makes no sense, in one line', () => {
    expect(() => parse('--stride', '2')).toThrow(/--stride applies to --explore only/);
    expect(() => parse('--explore', '9:3')).toThrow(/TO is before FROM/);
    expect(() => parse('--explore', '--stride', '0')).toThrow(/--stride must be/);
    expect(() => parse('--explore', '--shard', '5/4')).toThrow(/1 <= i <= n/);
    expect(() => parse('--explore', '--shard', 'half')).toThrow(/--shard wants i\/n/);
    expect(() => parse('--explore', '--horizon', 'forever')).toThrow(/--horizon wants/);
    expect(() => parseCommandLine(['merge'])).toThrow(/merge needs the JSON reports/);
    expect(parseCommandLine(['merge', 'a.json', 'b.json'])).toEqual({ kind: 'merge', files: ['a.json', 'b.json'] });
  });
});
