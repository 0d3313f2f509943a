// malloc's memory: a real allocator over a [heap] mapping in guest memory (right after the
// executable, where brk puts it). Chunks carry glibc's size header at ptr-8, so guest code
// that peeks at it sees the familiar layout; which chunks are free is kept on the host.
// Misuse (double free, foreign pointer) is reported as glibc would abort, as data.

import { Perm } from '../engine/engine.js';
import type { AddressSpace } from './kernel/address-space.js';
import type { GuestMemory } from './guest-memory.js';
import { HEAP_INITIAL_SIZE, pageUp } from './layout.js';

const HEADER = 16n; // prev_size + size, as glibc's malloc_chunk
const ALIGN = 16n;

/** The allocator's bookkeeping at one point, for EmulatedProcess snapshots (the bytes are the engine's). */
export interface HeapState {
  end: bigint;
  top: bigint;
  live: ReadonlyMap<bigint, bigint>;
  free: ReadonlyMap<bigint, bigint>;
  freed: ReadonlySet<bigint>;
}

export type HeapMisuse = 'free(): invalid pointer' | 'free(): double free detected in tcache 2' | 'realloc(): invalid pointer';

export class GuestHeap {
  private end: bigint;
  private top: bigint;
  /** Live chunks: user pointer -> usable size. */
  private readonly live = new Map<bigint, bigint>();
  /** Free chunks: user pointer -> usable size (first fit, no coalescing: runs are short). */
  private readonly free = new Map<bigint, bigint>();
  private readonly freed = new Set<bigint>();

  constructor(
    private readonly space: AddressSpace,
    private readonly mem: GuestMemory,
    readonly begin: bigint,
  ) {
    space.mapFixed(begin, BigInt(HEAP_INITIAL_SIZE), Perm.RW, '[heap]');
    this.end = begin + BigInt(HEAP_INITIAL_SIZE);
    this.top = begin;
  }

  malloc(size: bigint, alignment = ALIGN): bigint {
    const usable = size === 0n ? ALIGN : (size + ALIGN - 1n) & ~(ALIGN - 1n);
    for (const [ptr, avail] of this.free) {
      if (avail >= usable && ptr % alignment === 0n) {
        this.free.delete(ptr);
        this.freed.delete(ptr);
        this.live.set(ptr, avail);
        return ptr;
      }
    }
    let ptr = this.top + HEADER;
    while (ptr % alignment !== 0n) ptr += ALIGN;
    const newTop = ptr + usable;
    if (newTop > this.end) {
      const grow = pageUp(newTop - this.end + BigInt(HEAP_INITIAL_SIZE));
      if (grow > 1n << 32n || !this.space.canReserve(grow)) return 0n; // ENOMEM: beyond the address-space limit
      this.space.mapFixed(this.end, grow, Perm.RW, '[heap]');
      this.end += grow;
    }
    this.top = newTop;
    this.mem.writeU64(ptr - 8n, (usable + HEADER) | 1n); // size | PREV_INUSE
    this.live.set(ptr, usable);
    return ptr;
  }

  /** Returns the misuse glibc would abort with, or undefined. */
  release(ptr: bigint): HeapMisuse | undefined {
    if (ptr === 0n) return undefined;
    const size = this.live.get(ptr);
    if (size === undefined) return this.freed.has(ptr) ? 'free(): double free detected in tcache 2' : 'free(): invalid pointer';
    this.live.delete(ptr);
    this.free.set(ptr, size);
    this.freed.add(ptr);
    return undefined;
  }

  usableSize(ptr: bigint): bigint | undefined {
    return this.live.get(ptr);
  }

  owns(ptr: bigint): boolean {
    return this.live.has(ptr);
  }

  saveState(): HeapState {
    return { end: this.end, top: this.top, live: new Map(this.live), free: new Map(this.free), freed: new Set(this.freed) };
  }

  restoreState(state: HeapState): void {
    this.end = state.end;
    this.top = state.top;
    replace(this.live, state.live);
    replace(this.free, state.free);
    this.freed.clear();
    for (const p of state.freed) this.freed.add(p);
  }

  get liveBytes(): bigint {
    let total = 0n;
    for (const s of this.live.values()) total += s;
    return total;
  }
}

function replace<K, V>(target: Map<K, V>, source: ReadonlyMap<K, V>): void {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}
