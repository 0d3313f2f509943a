// Bookkeeping of mapped regions for WasmEngine, kept the way Unicorn keeps them: one entry per
// map() call, split by partial unmap()/protect(), never merged (so regions() matches the oracle).

import type { MemRegion, Perm } from './engine.js';

export class MappedRegions {
  private list: MemRegion[] = [];

  /** Whether any byte of [begin, end) is mapped. */
  overlaps(begin: bigint, end: bigint): boolean {
    return this.list.some((r) => r.begin < end && begin < r.end);
  }

  /** Whether every byte of [begin, end) is mapped. */
  covers(begin: bigint, end: bigint): boolean {
    let at = begin;
    for (const r of this.list) {
      if (r.end <= at || r.begin > at) continue;
      at = r.end;
      if (at >= end) return true;
    }
    return at >= end;
  }

  add(begin: bigint, end: bigint, perms: Perm): void {
    this.list.push({ begin, end, perms });
    this.list.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : 0));
  }

  /** Removes [begin, end) from every region, splitting the ones it cuts. */
  remove(begin: bigint, end: bigint): void {
    this.list = this.list.flatMap((r) => this.cut(r, begin, end));
  }

  /** Sets perms on [begin, end), splitting regions at the edges. */
  protect(begin: bigint, end: bigint, perms: Perm): void {
    const out: MemRegion[] = [];
    for (const r of this.list) {
      if (r.end <= begin || r.begin >= end) {
        out.push(r);
        continue;
      }
      out.push(...this.cut(r, begin, end));
      out.push({ begin: r.begin > begin ? r.begin : begin, end: r.end < end ? r.end : end, perms });
    }
    out.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : 0));
    this.list = out;
  }

  all(): MemRegion[] {
    return this.list.map((r) => ({ ...r }));
  }

  replace(regions: readonly MemRegion[]): void {
    this.list = regions.map((r) => ({ ...r }));
  }

  private cut(r: MemRegion, begin: bigint, end: bigint): MemRegion[] {
    if (r.end <= begin || r.begin >= end) return [r];
    const parts: MemRegion[] = [];
    if (r.begin < begin) parts.push({ begin: r.begin, end: begin, perms: r.perms });
    if (r.end > end) parts.push({ begin: end, end: r.end, perms: r.perms });
    return parts;
  }
}
