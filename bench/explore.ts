// --explore throughput: patch points classified per second on the corpus's seed-style
// programs, against the cost of one full verification measured in the same run (in-process,
// modules and engine code warm). Best of RUNS after a warm-up, by wall and CPU time; the
// peak RSS of this process. Run alone: node --import tsx bench/explore.ts; bench/run.ts
// (`npm run bench`) adds these lines to its report.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildVfs, directoryFiles } from '../src/cli/sysroot.js';
import { explorePatch } from '../src/verify/explore/explore.js';
import type { ExploreOptions } from '../src/verify/explore/types.js';
import type { VerifyInput } from '../src/verify/input.js';
import { verifyPatch } from '../src/verify/verify.js';

const ROOT = join(import.meta.dirname, '..');
// A dense case's sweep lasts 15-40 ms of CPU: one major GC or a neighbour's burst on the shared
// machine halves a single run's figure, so the best of ten (after the JIT has settled) is reported.
const RUNS = 10;
const WARM_UP_RUNS = 3;

interface Case {
  name: string;
  scenario: string;
  main: string;
  symbol: string;
  extra: Partial<VerifyInput>;
  options: ExploreOptions;
}

/** Whole runs: every boundary from the start to the end of the program. */
const CASES: Case[] = [
  { name: 'seed-classic tool-driven, classes (the default)', scenario: 'seed-classic', main: 'main', symbol: 'need_fix_func', extra: { with: 'fix_func' }, options: { from: 0, to: 1_000 } },
  { name: 'loop-head tool-driven, classes (the default)', scenario: 'loop-head', main: 'main', symbol: 'total_amount', extra: { with: 'fix_total_amount' }, options: { from: 0, to: 1_000 } },
  { name: 'call-in-prologue (idle) tool-driven, classes (the default)', scenario: 'call-in-prologue', main: 'main-idle', symbol: 'handle_events', extra: { with: 'fix_handle_events' }, options: { from: 0, to: 1_000 } },
  // The real ld.so and glibc (printf, usleep): the target runs once in ~1000 instructions, as in a real program.
  { name: 'seed-classic on the system model (real glibc), tool-driven, classes (the default)', scenario: 'seed-classic', main: 'main', symbol: 'need_fix_func', extra: { with: 'fix_func', process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(join(ROOT, 'corpus', 'seed-classic'))) } }, options: { from: 89_000, to: 99_000 } },
  { name: 'seed-classic tool-driven, brute force', scenario: 'seed-classic', main: 'main', symbol: 'need_fix_func', extra: { with: 'fix_func' }, options: { from: 0, to: 1_000, method: 'brute-force' } },
  { name: 'seed-classic program-driven, brute force', scenario: 'seed-classic', main: 'main', symbol: 'need_fix_func', extra: { signal: 'USR1' }, options: { from: 0, to: 1_000 } },
];

export interface ExploreRow {
  name: string;
  points: number;
  patchedRuns: number;
  unsafePoints: number;
  /** Sweep only (set-up excluded): points per CPU second, best run. */
  pointsPerSecond: number;
  /** The same, median run. */
  medianPointsPerSecond: number;
  /** Whole explorePatch call, best run, by wall and CPU time. */
  wallMs: number;
  cpuMs: number;
  /** One full verification of the same case, in-process, best run. */
  verifyMs: number;
  verifyCpuMs: number;
}

function input(c: Case): VerifyInput {
  const dir = join(ROOT, 'corpus', c.scenario);
  return { main: new Uint8Array(readFileSync(join(dir, c.main))), mainName: c.main, patch: new Uint8Array(readFileSync(join(dir, 'patch.so'))), patchName: 'patch.so', symbol: c.symbol, ...c.extra };
}

async function best<T>(f: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  for (let i = 0; i < WARM_UP_RUNS; i++) await f();
  const runs: { value: T; wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const value = await f();
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    runs.push({ value, wallMs, cpuMs: (used.user + used.system) / 1000 });
  }
  const fastest = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  return { ...fastest, cpuMs: Math.min(...runs.map((r) => r.cpuMs)) };
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function measureExploration(): Promise<{ rows: ExploreRow[]; peakRssMiB: number }> {
  const rows: ExploreRow[] = [];
  // The code every case shares (the core's tiers, the sweep's JavaScript) warmed by all of them
  // first: the first case measured would otherwise pay for it.
  for (let round = 0; round < WARM_UP_RUNS; round++) {
    for (const c of CASES) if (c.options.method !== 'brute-force') await explorePatch({ input: input(c), options: c.options });
  }
  for (const c of CASES) {
    const i = input(c);
    const verify = await best(() => verifyPatch(i));
    const sweeps: number[] = [];
    const run = await best(async () => {
      // The sweep timed by this process's CPU time: the machine is shared, wall time is not ours.
      const e = await explorePatch({ input: i, options: c.options, now: cpuNow });
      sweeps.push(e.pointsPerSecond);
      return e;
    });
    const e = run.value;
    const measured = sweeps.slice(WARM_UP_RUNS).sort((a, b) => a - b);
    rows.push({
      name: c.name, points: e.points, patchedRuns: e.patchedRuns, unsafePoints: e.unsafePoints,
      pointsPerSecond: measured[measured.length - 1]!, medianPointsPerSecond: measured[Math.floor(measured.length / 2)]!,
      wallMs: run.wallMs, cpuMs: run.cpuMs, verifyMs: verify.wallMs, verifyCpuMs: verify.cpuMs,
    });
  }
  return { rows, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

export function formatExploration(report: { rows: ExploreRow[]; peakRssMiB: number }): string[] {
  return [
    '## Exploration (--explore)',
    '',
    `Every instruction boundary of a whole run patched and classified; best (and median) of ${RUNS} after ${WARM_UP_RUNS} unmeasured runs. ` +
      'points/s counts the sweep (set-up, parsing and the run to the window excluded) per CPU second of this process; "one verification" is a full verifyPatch of the same case in the same process. ' +
      'These programs call the target every 15-30 instructions (a touch of the patched bytes, so a new class of points, every few instructions): the densest case for the class method.',
    '',
    '| case | points | patched runs | unsafe | points/s (sweep, CPU; best) | (median) | points per CPU second (whole exploration) | whole exploration (wall / CPU) | one verification (wall / CPU) | points in the time of one verification (CPU) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.rows.map((r) => `| ${r.name} | ${r.points} | ${r.patchedRuns} | ${r.unsafePoints} | ${r.pointsPerSecond} | ${r.medianPointsPerSecond} | ${Math.round(r.points / (r.cpuMs / 1000))} | ${r.wallMs.toFixed(0)} / ${r.cpuMs.toFixed(0)} ms | ${r.verifyMs.toFixed(1)} / ${r.verifyCpuMs.toFixed(1)} ms | ${((r.points / r.cpuMs) * r.verifyCpuMs).toFixed(1)} |`),
    '',
    `Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (the machine is shared; wall figures suffer most).`,
    `Peak RSS of the bench process: ${report.peakRssMiB.toFixed(0)} MiB (one engine per exploration; snapshots are the core's copy-on-write pages, one at a time).`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatExploration(await measureExploration()).join('\n'));
}
