// Touches of the patched bytes: an instruction fetched over them, or a guest read or write of
// them. Until the program touches them, a patched run is the unpatched run with other bytes
// in a range nobody looks at; the first touch is where the two can part.

import { HookType, type HookHandle } from '../../engine/engine.js';
import type { GuestProcess } from '../../loader/index.js';

/** Longest x86 instruction: one starting this far before the bytes can still cover them. */
const MAX_INSTRUCTION = 15n;
/** Widest guest access (an xsave area is larger, but starts aligned well before code). */
const MAX_ACCESS = 64n;

export class TouchWatch {
  touched = false;
  /** What the last touch was: a fetch (seen before the instruction runs) or a read or write (after it). */
  kind: 'fetch' | 'access' = 'fetch';
  /** Stop the engine at a touch: before a fetching instruction executes, after an accessing one. */
  stopOnTouch = false;
  enabled = true;
  private readonly hooks: HookHandle[];

  constructor(private readonly process: GuestProcess, readonly site: bigint, readonly length: number) {
    const engine = process.engine;
    const last = site + BigInt(Math.max(length, 1)) - 1n;
    const overlaps = (address: bigint, size: number): boolean => address <= last && address + BigInt(size) > site;
    const hit = (kind: 'fetch' | 'access'): void => {
      if (!this.enabled) return;
      if (!this.touched) this.kind = kind;
      this.touched = true;
      if (this.stopOnTouch) engine.stop();
    };
    this.hooks = [
      engine.addHook({ type: HookType.Code, begin: site - MAX_INSTRUCTION, end: last, callback: (a, s) => overlaps(a, s) && hit('fetch') }),
      engine.addHook({ type: HookType.MemRead, begin: site - MAX_ACCESS, end: last, callback: (_k, a, s) => overlaps(a, s) && hit('access') }),
      engine.addHook({ type: HookType.MemWrite, begin: site - MAX_ACCESS, end: last, callback: (_k, a, s) => overlaps(a, s) && hit('access') }),
    ];
  }

  covers(range: { site: bigint; length: number }): boolean {
    return range.site === this.site && range.length === this.length;
  }

  close(): void {
    for (const h of this.hooks) this.process.engine.removeHook(h);
  }
}
