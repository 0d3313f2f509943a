// Whole-process memory snapshot, copy-on-write at page granularity. Taking one records every page
// entry and marks it COW (no bytes are copied); the first write to such a page after that copies
// its frame (mmu.ts prepareWrite), so the snapshot keeps the original. Restoring frees the frames
// written or mapped since, and puts the recorded entries back (still COW, so the same snapshot can
// be restored again). The core holds one snapshot; taking another releases the previous one.

import { reserve } from './layout';
import { PAGE_CODE, PAGE_COW, applyWriteWatch, flushTlb, forEachLeafNode, freeFrame, isZeroFrame } from './mmu';
import { invalidateDecodedCode } from './icache';

/**
 * Bumped whenever the write-watched ranges change (setHooks). The recorded entries carry the
 * PAGE_WATCH bits of their time, so a restore re-marks the pages only when the ranges changed
 * since the snapshot (a walk over every page otherwise paid by each restore).
 */
let watchVersion: u32 = 0;
let watchVersionAtSnapshot: u32 = 0;
export function writeWatchChanged(): void {
  watchVersion++;
}

/** (entry pointer, entry) pairs of the snapshot. */
let saved: usize = 0;
let savedCount: u32 = 0;
let savedCapacity: u32 = 0;
let taken: bool = false;

function record(node: usize): void {
  for (let k: usize = 0; k < 4096; k++) {
    const p = node + (k << 2);
    const e = load<u32>(p);
    if (e == 0) continue;
    if (savedCount == savedCapacity) {
      const capacity = savedCapacity == 0 ? <u32>4096 : savedCapacity * 2;
      const grown = reserve((<usize>capacity) << 3, 8);
      if (grown == 0) { savedCount = 0xffffffff; return; }
      if (savedCount) memory.copy(grown, saved, (<usize>savedCount) << 3);
      saved = grown;
      savedCapacity = capacity;
    }
    store<u32>(saved + ((<usize>savedCount) << 3), <u32>p);
    store<u32>(saved + ((<usize>savedCount) << 3) + 4, (e & ~PAGE_CODE) | PAGE_COW);
    store<u32>(p, e | PAGE_COW);
    savedCount++;
  }
}

/** Frees the previous snapshot's frames that no live page still uses. */
function release(): void {
  for (let i: u32 = 0; i < savedCount; i++) {
    const p = <usize>load<u32>(saved + ((<usize>i) << 3));
    const frame = load<u32>(saved + ((<usize>i) << 3) + 4) & ~0xfff;
    const live = load<u32>(p);
    if (live != 0 && (live & ~0xfff) == frame) {
      if (!isZeroFrame(<usize>frame)) store<u32>(p, live & ~PAGE_COW); // the page owns it again
    }
    else freeFrame(<usize>frame);
  }
  savedCount = 0;
  taken = false;
}

/** Takes the snapshot; false when wasm memory cannot hold the entry list (nothing is taken). */
export function takeSnapshot(): bool {
  if (taken) release();
  savedCount = 0;
  forEachLeafNode(record);
  if (savedCount == 0xffffffff) {
    savedCount = 0;
    return false;
  }
  taken = true;
  watchVersionAtSnapshot = watchVersion;
  flushTlb();
  return true;
}

function dropLive(node: usize): void {
  for (let k: usize = 0; k < 4096; k++) {
    const p = node + (k << 2);
    const e = load<u32>(p);
    if (e == 0) continue;
    if ((e & PAGE_COW) == 0) freeFrame(<usize>(e & ~0xfff)); // written or mapped since the snapshot
    store<u32>(p, 0);
  }
}

/** Puts memory back as it was at takeSnapshot(); false when no snapshot is held. */
export function restoreSnapshot(): bool {
  if (!taken) return false;
  invalidateDecodedCode(); // clears PAGE_CODE bits through the pointers it kept, before they are rewritten
  forEachLeafNode(dropLive);
  for (let i: u32 = 0; i < savedCount; i++) {
    const q = saved + ((<usize>i) << 3);
    store<u32>(<usize>load<u32>(q), load<u32>(q, 4));
  }
  if (watchVersion != watchVersionAtSnapshot) applyWriteWatch(); // the write hooks changed since the snapshot (flushes the TLB)
  else flushTlb();
  return true;
}

export function snapshotPages(): u32 {
  return taken ? savedCount : 0;
}
