// Shards of one exploration (--shard i/n, or the --jobs workers) combined into the report an
// unsharded run gives: counts summed, windows joined across slice boundaries, the verdict
// recomputed. Works on Exploration values and on parsed JSON reports (verify-patch merge).

import { VerifyError } from '../error.js';
import { verdictWith } from './attach.js';
import type { Exploration } from './types.js';
import { joinWindows } from './windows.js';

/** What every shard of one exploration must agree on. */
const SAME = ['mode', 'from', 'to', 'stride', 'horizon', 'seed', 'method', 'defaultPointVerdict'] as const;

export function mergeExplorations(parts: readonly Exploration[]): Exploration {
  if (parts.length === 0) throw new VerifyError('bad-input', 'no shard reports to merge');
  const count = parts[0]!.shard?.count;
  for (const p of parts) {
    if (!p.shard) throw new VerifyError('bad-input', 'a report to merge has no exploration shard (run it with --explore ... --shard i/n)');
    if (p.shard.count !== count) throw new VerifyError('bad-input', `shards of different splits: ${p.shard.index}/${p.shard.count} and ?/${count}`);
    for (const key of SAME) {
      if (JSON.stringify(p[key]) !== JSON.stringify(parts[0]![key])) throw new VerifyError('bad-input', `shard ${p.shard.index}/${p.shard.count} explored with a different ${key} than shard ${parts[0]!.shard!.index}/${count}`);
    }
  }
  const sorted = [...parts].sort((a, b) => a.shard!.index - b.shard!.index);
  sorted.forEach((p, i) => {
    if (p.shard!.index !== i + 1) {
      const missing = p.shard!.index > i + 1 ? `shard ${i + 1}/${count} is missing` : `shard ${p.shard!.index}/${count} is given twice`;
      throw new VerifyError('bad-input', missing);
    }
  });
  if (sorted.length !== count) throw new VerifyError('bad-input', `shard ${sorted.length + 1}/${count} is missing`);

  const first = sorted[0]!;
  const sum = (key: 'points' | 'unsafePoints' | 'notApplied' | 'patchedRuns' | 'seconds'): number => sorted.reduce((n, p) => n + p[key], 0);
  const ends = sorted.map((p) => p.programEnded).filter((e): e is number => e !== null);
  const points = sum('points');
  const sweepSeconds = sorted.reduce((n, p) => n + (p.pointsPerSecond > 0 ? p.points / p.pointsPerSecond : 0), 0);
  const merged: Exploration = {
    ...first,
    points,
    unsafePoints: sum('unsafePoints'),
    notApplied: sum('notApplied'),
    programEnded: ends.length > 0 ? Math.min(...ends) : null,
    windows: joinWindows(sorted.map((p) => ({ windows: p.windows, first: p.shard!.first, last: p.shard!.last })), first.stride),
    patchedRuns: sum('patchedRuns'),
    seconds: sum('seconds'),
    pointsPerSecond: sweepSeconds > 0 ? Math.round(points / sweepSeconds) : 0,
  };
  delete merged.shard;
  return merged;
}

/** Inner shard j (1-based) of `jobs` for an outer shard (or the whole window). */
export function subShard(outer: { index: number; count: number } | undefined, j: number, jobs: number): { index: number; count: number } {
  const o = outer ?? { index: 1, count: 1 };
  return { index: (o.index - 1) * jobs + j, count: o.count * jobs };
}

/**
 * Inner shards merged, relabelled as the outer shard they make up (so `merge` can combine them
 * with other machines' shards), or as the whole exploration.
 */
export function mergeSubShards(parts: readonly Exploration[], outer: { index: number; count: number } | undefined, jobs: number): Exploration {
  if (!outer) return mergeExplorations(parts);
  const lo = (outer.index - 1) * jobs;
  const relabelled = parts.map((p) => ({ ...p, shard: { ...p.shard!, index: p.shard!.index - lo, count: jobs } }));
  const merged = mergeExplorations(relabelled);
  const firsts = parts.map((p) => p.shard!.first).filter((f): f is number => f !== null);
  const lasts = parts.map((p) => p.shard!.last).filter((l): l is number => l !== null);
  return { ...merged, shard: { ...outer, first: firsts.length ? Math.min(...firsts) : null, last: lasts.length ? Math.max(...lasts) : null } };
}

type JsonReport = Record<string, unknown> & { verdict?: unknown; exploration?: Exploration };

/** `verify-patch merge`: the shards' JSON reports (parsed) into the unsharded one. */
export function mergeReports(reports: readonly unknown[], names: readonly string[]): JsonReport {
  const parsed = reports.map((r, i) => {
    if (r === null || typeof r !== 'object' || !('exploration' in r)) throw new VerifyError('bad-input', `'${names[i]}' is not a verify-patch JSON report with an exploration (run with --explore --format json)`);
    return r as JsonReport;
  });
  const base = (r: JsonReport): string => JSON.stringify({ ...r, verdict: undefined, exploration: undefined });
  parsed.forEach((r, i) => {
    if (base(r) !== base(parsed[0]!)) throw new VerifyError('bad-input', `'${names[i]}' verifies something else than '${names[0]}' (target, patch, options or run differ)`);
  });
  const exploration = mergeExplorations(parsed.map((r) => r.exploration!));
  const verdict = exploration.defaultPointVerdict ? verdictWith(exploration.defaultPointVerdict, exploration) : parsed[0]!.verdict;
  return { ...parsed[0]!, verdict, exploration };
}
