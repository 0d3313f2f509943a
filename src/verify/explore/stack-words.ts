// Stack words that point inside the patched bytes, kept up to date by a write hook over the main
// stack, so the class sweep knows when no frame can resume inside them without scanning the
// stack at every point. While the set is empty, a point's hazard can only be the interrupted
// instruction itself (which the touch watch stops at); a guest write that puts such a word on
// the stack is reported at once (the sweep then classifies point by point).

import { HookType, type HookHandle } from '../../engine/engine.js';
import { layout, type GuestProcess } from '../../loader/index.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class StackWords {
  /** A guest write added a word inside the bytes since the flag was cleared. */
  inserted = false;
  /** Stop the engine at such a write (after the writing instruction). */
  stopOnInsert = false;
  /** Off while a patched run writes what a restore will undo. */
  enabled = true;
  private inside = new Set<bigint>();
  private readonly hook: HookHandle;

  /** `lo`..`hi`: the addresses (inclusive) a word must hold to count. */
  constructor(private readonly process: GuestProcess, private readonly lo: bigint, private readonly hi: bigint) {
    const top = layout.STACK_TOP;
    const bottom = top - BigInt(layout.STACK_LIMIT);
    for (const r of process.engine.regions()) {
      const begin = r.begin > bottom ? r.begin : bottom;
      const end = r.end < top ? r.end : top;
      if (begin < end) this.scan(begin, end);
    }
    const engine = process.engine;
    this.hook = engine.addHook({
      type: HookType.MemWrite, begin: bottom, end: top - 1n,
      callback: (_kind, address, size, value) => {
        if (!this.enabled) return;
        const first = address & ~7n;
        for (let w = first; w < address + BigInt(size); w += 8n) {
          // The written bytes laid over memory: engines call this before (Unicorn) or after (wasm) the write.
          const bytes = engine.readMemory(w, 8);
          for (let i = 0; i < size; i++) {
            const at = address + BigInt(i);
            if (at >= w && at < w + 8n) bytes[Number(at - w)] = Number((value >> BigInt(8 * i)) & 0xffn);
          }
          const word = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
          if (word >= this.lo && word <= this.hi) {
            if (!this.inside.has(w)) {
              this.inside.add(w);
              this.inserted = true;
              if (this.stopOnInsert) engine.stop();
            }
          } else this.inside.delete(w);
        }
      },
    });
  }

  private scan(begin: bigint, end: bigint): void {
    const bytes = this.process.engine.readMemory(begin, Number(end - begin));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The high halves first, as 32-bit lanes (a megabyte of stack, mostly zero): no BigInt for
    // the words that cannot be inside. The lanes are little-endian, as the host's typed arrays
    // are on every platform Node and browsers run on (checked: DataView otherwise).
    const loHigh = Number(this.lo >> 32n);
    const hiHigh = Number(this.hi >> 32n);
    const aligned = bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN;
    const lanes = aligned ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : null;
    if (lanes && loHigh === hiHigh) {
      // One high half to look for (the bytes lie in one 4 GiB span): the typed array's own search.
      for (let k = lanes.indexOf(loHigh, 1); k >= 0 && k < (lanes.length & ~1); k = lanes.indexOf(loHigh, k + 1)) {
        if ((k & 1) === 0) continue; // a low half that happens to match
        const w = view.getBigUint64((k - 1) * 4, true);
        if (w >= this.lo && w <= this.hi) this.inside.add(begin + BigInt((k - 1) * 4));
      }
      return;
    }
    for (let i = 0; i + 8 <= bytes.length; i += 8) {
      const high = lanes ? lanes[(i >>> 2) + 1]! : view.getUint32(i + 4, true);
      if (high < loHigh || high > hiHigh) continue;
      const w = view.getBigUint64(i, true);
      if (w >= this.lo && w <= this.hi) this.inside.add(begin + BigInt(i));
    }
  }

  /** No stack word anywhere on the main stack points inside the bytes. */
  get empty(): boolean {
    return this.inside.size === 0;
  }

  save(): ReadonlySet<bigint> {
    return new Set(this.inside);
  }

  restore(saved: ReadonlySet<bigint>): void {
    this.inside = new Set(saved);
  }

  close(): void {
    this.process.engine.removeHook(this.hook);
  }
}
