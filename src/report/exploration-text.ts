// The exploration section of the text report: how much of the run is unsafe to patch in, the
// unsafe windows grouped by what the program was doing, and one command per place that
// reproduces it with --patch-at.

import type { Exploration, ExplorationWindow } from '../verify/explore/types.js';
import { plural } from './format.js';

/** Windows shown one by one per place; the rest are counted. */
const WINDOWS_LISTED = 4;
const PLACES_LISTED = 8;

function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${p < 0.1 && p > 0 ? p.toPrecision(1) : p.toFixed(1)}%`;
}

function horizonText(e: Exploration): string {
  const cap = `${e.horizon.instructions} instructions after the program first touches the patched bytes`;
  return e.horizon.untilReturn ? `until a call through the trampoline has returned, at most ${cap}` : cap;
}

function range(w: ExplorationWindow): string {
  return w.from === w.to ? `${w.from}` : `${w.from}..${w.to}`;
}

export function explorationLines(e: Exploration): string[] {
  const how = e.mode === 'program-driven' ? 'the signal delivered' : 'the trampoline written';
  const out = [`Exploration: ${how} at every ${e.stride === 1 ? '' : `${e.stride}th `}instruction boundary of ${e.from}..${e.to}${e.shard ? ` (shard ${e.shard.index}/${e.shard.count})` : ''}`];
  const ended = e.programEnded !== null ? `; the program ends after ${e.programEnded} instructions` : '';
  out.push(`  explored     ${plural(e.points, 'point')} by ${e.method === 'classes' ? `${plural(e.patchedRuns, 'patched run')} (one per class of points with the same patched future)` : 'brute force (one patched run per point)'}, ${e.pointsPerSecond} points/s${ended}`);
  if (e.notApplied > 0) {
    out.push(e.mode === 'tool-driven'
      ? `  not applied  ${plural(e.notApplied, 'point')}: before main's own code first runs (instruction ${e.patchLoadedAt ?? '?'}), where the tool loads patch.so`
      : `  not applied  ${plural(e.notApplied, 'point')}: the signal would not reach a handler there (none installed yet, or blocked)`);
  }
  if (e.patchLoadedAt !== undefined && e.notApplied === 0) out.push(`  loaded       patch.so at instruction ${e.patchLoadedAt}, where main's own code first runs: points count from that run (--explore N:N reproduces point N)`);
  out.push(`  horizon      ${horizonText(e)}`);
  if (e.unsafePoints === 0) {
    out.push(`  unsafe       none: applying the patch is safe at every explored point`);
    return out;
  }
  const places = new Map<string, ExplorationWindow[]>();
  for (const w of e.windows) {
    const key = `${w.doing}\n${w.codes.join(',')}`;
    places.set(key, [...(places.get(key) ?? []), w]);
  }
  const ranked = [...places.values()].sort((a, b) => total(b) - total(a));
  const top = ranked[0]![0]!;
  out.push(`  unsafe       in ${percent(e.unsafePoints, e.points)} of the explored run (${e.unsafePoints} of ${e.points} points, ${plural(e.windows.length, 'window')}): mostly whenever ${top.doing}`);
  for (const group of ranked.slice(0, PLACES_LISTED)) {
    const first = group[0]!;
    const listed = group.slice(0, WINDOWS_LISTED).map(range).join(', ');
    const more = group.length > WINDOWS_LISTED ? ` and ${group.length - WINDOWS_LISTED} more` : '';
    out.push(`  window${group.length > 1 ? 's' : ' '}      ${listed}${more} (${plural(total(group), 'point')}): ${first.codes.join(', ')}`);
    out.push(`                 ${first.doing}${first.callChain.length > 0 ? `; called from ${first.callChain.join(' < ')}` : ''}`);
    if (first.reproduce) out.push(`                 reproduce: ${first.reproduce}`);
  }
  if (ranked.length > PLACES_LISTED) out.push(`  ...          ${plural(ranked.length - PLACES_LISTED, 'more place')} (see --format json)`);
  return out;
}

function total(group: readonly ExplorationWindow[]): number {
  return group.reduce((n, w) => n + w.points, 0);
}
