// Unsafe windows: consecutive explored points with the same codes, built point by point as a
// sweep goes, and joined across shard boundaries when shard reports are merged.

import type { LiveHazard } from './moment.js';
import type { ExplorationWindow } from './types.js';

export interface PointContext {
  where: string;
  callChain: string[];
  doing: string;
}

export class WindowBuilder {
  readonly windows: ExplorationWindow[] = [];
  unsafePoints = 0;
  private open: ExplorationWindow | null = null;
  private lastPoint: number | null = null;

  constructor(private readonly stride: number) {}

  /** Points must come in increasing order, `stride` apart. `context` is asked only for a window's first point. */
  add(point: number, codes: readonly string[], live: LiveHazard, context: () => PointContext): void {
    const consecutive = this.lastPoint !== null && point - this.lastPoint === this.stride;
    this.lastPoint = point;
    if (codes.length === 0) {
      this.open = null;
      return;
    }
    this.unsafePoints++;
    const sorted = [...new Set(codes)].sort();
    if (this.open && consecutive && this.open.live === live && sameCodes(this.open.codes, sorted)) {
      this.open.to = point;
      this.open.points++;
      return;
    }
    const { where, callChain, doing } = context();
    this.open = { from: point, to: point, codes: sorted, live, example: point, where, callChain, doing, points: 1 };
    this.windows.push(this.open);
  }

  /** A point that was not classified (not applied) breaks a window. */
  gap(point: number): void {
    this.lastPoint = point;
    this.open = null;
  }
}

export function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/**
 * Windows of consecutive slices joined: a window ending on the last explored point of one
 * slice and one starting on the first point of the next, with the same codes, are one window.
 */
export function joinWindows(slices: readonly { windows: readonly ExplorationWindow[]; first: number | null; last: number | null }[], stride: number): ExplorationWindow[] {
  const out: ExplorationWindow[] = [];
  let previousLast: number | null = null;
  for (const slice of slices) {
    for (const w of slice.windows) {
      const tail = out[out.length - 1];
      if (tail && previousLast !== null && tail.to === previousLast && w.from === slice.first && w.from - tail.to === stride && tail.live === w.live && sameCodes(tail.codes, w.codes)) {
        tail.to = w.to;
        tail.points += w.points;
        continue;
      }
      out.push({ ...w, codes: [...w.codes], callChain: [...w.callChain] });
    }
    if (slice.last !== null) previousLast = slice.last;
  }
  return out;
}
