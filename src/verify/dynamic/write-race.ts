// Program-driven with threads: the handler writes the patch while the other threads keep
// running. This watches the bytes at the target while the handler runs: every store into them
// (in order, by whom, from where) and every instruction another thread fetches that overlaps
// them once the first store happened, with the bytes that thread saw at that moment. At the
// first store it pauses the run once so every other thread can be looked at where it is.

import { HookType, type HookHandle } from '../../engine/engine.js';
import type { GuestProcess } from '../../loader/index.js';
import { SystemProcess } from '../../loader/system/index.js';

/** Bytes watched from the target's entry (the longest trampoline form is 14; programs may write more). */
export const RACE_WINDOW = 32;
/** x86 instructions are at most 15 bytes: one starting this far before the entry can overlap it. */
const LONGEST_INSTRUCTION = 15;
/** Fetches kept: one per thread, address and number of stores so far (a loop re-fetching the same bytes adds nothing). */
const MAX_FETCHES = 4096;

export interface RaceWrite {
  seq: number;
  tid: number;
  name: string;
  address: bigint;
  size: number;
  /** The storing instruction. */
  rip: bigint;
}

export interface RaceFetch {
  seq: number;
  tid: number;
  name: string;
  address: bigint;
  size: number;
  /** The bytes at [site, site + RACE_WINDOW) when the instruction was fetched. */
  window: Uint8Array;
  instruction: number;
}

export interface WriteRace {
  site: bigint;
  /** The bytes before the handler ran. */
  original: Uint8Array;
  writes: RaceWrite[];
  fetches: RaceFetch[];
  /** Set once, at the first store: the run pauses so the world can be looked at (cleared by the pause). */
  pausePending: boolean;
  stop(): void;
}

/** Watches the target's bytes on the system model with threads; null otherwise (one thread cannot race). */
export function watchWriteRace(process: GuestProcess, site: bigint): WriteRace | null {
  if (!(process instanceof SystemProcess) || process.threads.live.length < 2) return null;
  const engine = process.engine;
  const threads = process.threads;
  let seq = 0;
  const race: WriteRace = { site, original: process.mem.read(site, RACE_WINDOW), writes: [], fetches: [], pausePending: false, stop: () => undefined };
  let writer = -1;
  const seen = new Set<string>();
  const hooks: HookHandle[] = [
    engine.addHook({
      type: HookType.MemWrite,
      begin: site,
      end: site + BigInt(RACE_WINDOW) - 1n,
      callback: (_access, address, size) => {
        const { tid, name } = threads.current;
        if (race.writes.length === 0) {
          writer = tid;
          race.pausePending = true;
          process.stopSoon();
        }
        race.writes.push({ seq: ++seq, tid, name, address, size, rip: engine.readRegister('rip') });
      },
    }),
    engine.addHook({
      type: HookType.Code,
      begin: site - BigInt(LONGEST_INSTRUCTION),
      end: site + BigInt(RACE_WINDOW) - 1n,
      callback: (address, size) => {
        if (race.writes.length === 0 || race.fetches.length >= MAX_FETCHES) return;
        const t = threads.current;
        if (t.tid === writer || address + BigInt(size) <= site) return;
        const key = `${t.tid}:${address}:${race.writes.length}`;
        if (seen.has(key)) return;
        seen.add(key);
        race.fetches.push({ seq: ++seq, tid: t.tid, name: t.name, address, size, window: process.mem.read(site, RACE_WINDOW), instruction: process.instructions });
      },
    }),
  ];
  race.stop = () => {
    for (const h of hooks) engine.removeHook(h);
  };
  return race;
}
