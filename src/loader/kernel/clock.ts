// The virtual clock: time passes only when the guest asks to sleep (instantly, in
// emulation), so runs are deterministic and a program that sleeps a minute finishes at once.

export class VirtualClock {
  /** Nanoseconds since the epoch for CLOCK_REALTIME; CLOCK_MONOTONIC counts from boot. */
  private realtimeNs: bigint;
  private monotonicNs = 1_000_000_000n;

  constructor(startRealtimeNs = 1_700_000_000_000_000_000n) {
    this.realtimeNs = startRealtimeNs;
  }

  now(clockId: number): bigint {
    // 0 REALTIME, 5 REALTIME_COARSE, 8 REALTIME_ALARM, 11 TAI; the rest are monotonic-like.
    return clockId === 0 || clockId === 5 || clockId === 8 || clockId === 11 ? this.realtimeNs : this.monotonicNs;
  }

  advance(ns: bigint): void {
    if (ns <= 0n) return;
    this.realtimeNs += ns;
    this.monotonicNs += ns;
  }

  saveState(): { realtimeNs: bigint; monotonicNs: bigint } {
    return { realtimeNs: this.realtimeNs, monotonicNs: this.monotonicNs };
  }

  restoreState(state: { realtimeNs: bigint; monotonicNs: bigint }): void {
    this.realtimeNs = state.realtimeNs;
    this.monotonicNs = state.monotonicNs;
  }

  /** Total slept so far, for reports. */
  get elapsedNs(): bigint {
    return this.monotonicNs - 1_000_000_000n;
  }
}
