// The scheduler's generator (threads.ts ScheduleRandom, two 32-bit halves) must draw exactly what
// kernel.ts's BigInt SeededRandom draws: schedules, and so every --seed in a report, depend on it.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/loader/system/kernel.js';
import { ScheduleRandom } from '../../../src/loader/system/threads.js';

describe('ScheduleRandom', () => {
  it('gives SeededRandom.bytes(4) step for step, and the same state', () => {
    for (const seed of [1n, 0n, 0x7468726561647321n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0001n]) {
      const big = new SeededRandom(seed);
      const fast = new ScheduleRandom(seed);
      for (let i = 0; i < 20_000; i++) {
        const b = big.bytes(4);
        expect(fast.next32(), `seed ${seed} draw ${i}`).toBe((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0);
      }
      expect(fast.seed).toBe(big.seed);
    }
  });

  it('restores a saved state', () => {
    const r = new ScheduleRandom(42n);
    r.next32();
    const saved = r.seed;
    const next = [r.next32(), r.next32()];
    r.seed = saved;
    expect([r.next32(), r.next32()]).toEqual(next);
  });
});
