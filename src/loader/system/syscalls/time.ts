// Time system calls on the virtual clock (kernel/clock.ts): time passes only when the guest
// sleeps, and a sleep returns at once, so runs are fast and byte-identical. There is no vDSO,
// so glibc's clock_gettime and gettimeofday arrive here.

import { EFAULT, EINVAL } from '../../kernel/errno.js';
import type { Kernel } from '../kernel.js';
import { i32, i64, type SyscallTable } from './types.js';

const TIMER_ABSTIME = 1;
const NS = 1_000_000_000n;

function timespec(k: Kernel, address: bigint): bigint {
  const sec = i64(k.u64(address));
  const nsec = i64(k.u64(address + 8n));
  if (sec < 0n || nsec < 0n || nsec >= NS) return -1n;
  return sec * NS + nsec;
}

function writeTimespec(k: Kernel, address: bigint, ns: bigint): void {
  k.writeU64(address, ns / NS);
  k.writeU64(address + 8n, ns % NS);
}

function validClock(id: number): boolean {
  return id >= 0 && id <= 11 && id !== 10;
}

export const TIME_SYSCALLS: SyscallTable = {
  35: {
    name: 'nanosleep',
    run: (k, a) => {
      const ns = timespec(k, a[0]!);
      if (ns < 0n) return -EINVAL;
      k.clock.advance(ns);
      return 0;
    },
  },
  96: {
    name: 'gettimeofday',
    run: (k, a) => {
      if (a[0] !== 0n) {
        const ns = k.clock.now(0);
        k.writeU64(a[0]!, ns / NS);
        k.writeU64(a[0]! + 8n, (ns % NS) / 1000n);
      }
      if (a[1] !== 0n) k.write(a[1]!, new Uint8Array(8));
      return 0;
    },
  },
  100: { name: 'times', run: (k, a) => {
    if (a[0] !== 0n) k.write(a[0]!, new Uint8Array(32));
    return k.clock.now(1) / 10_000_000n;
  } },
  201: {
    name: 'time',
    run: (k, a) => {
      const s = k.clock.now(0) / NS;
      if (a[0] !== 0n) k.writeU64(a[0]!, s);
      return s;
    },
  },
  228: {
    name: 'clock_gettime',
    run: (k, a) => {
      const id = i32(a[0]);
      if (!validClock(id)) return -EINVAL;
      if (a[1] === 0n) return -EFAULT;
      writeTimespec(k, a[1]!, k.clock.now(id));
      return 0;
    },
  },
  229: {
    name: 'clock_getres',
    run: (k, a) => {
      if (!validClock(i32(a[0]))) return -EINVAL;
      if (a[1] !== 0n) writeTimespec(k, a[1]!, 1n);
      return 0;
    },
  },
  230: {
    name: 'clock_nanosleep',
    run: (k, a) => {
      const id = i32(a[0]);
      if (!validClock(id)) return -EINVAL;
      const ns = timespec(k, a[2]!);
      if (ns < 0n) return -EINVAL;
      k.clock.advance((i32(a[1]) & TIMER_ABSTIME) ? ns - k.clock.now(id) : ns);
      return 0;
    },
  },
};
