// Sleeping and clocks on the virtual clock: a sleep returns at once, having advanced time.

import { EFAULT, EINVAL } from '../kernel/errno.js';
import { fail, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'time', summary, run };
}

const NS = 1_000_000_000n;

function writeTimespec(c: StubCall, at: bigint, ns: bigint, subUnit: bigint): void {
  c.libc.writeU64(at, ns / NS);
  c.libc.writeU64(at + 8n, (ns % NS) / subUnit);
}

export const TIME_STUBS: StubDefinition[] = [
  def('sleep', 'sleep(s): advances the virtual clock', (c) => {
    c.libc.clock.advance(BigInt.asUintN(32, c.arg(0)) * NS);
    return ret(0);
  }),
  def('usleep', 'usleep(us): advances the virtual clock', (c) => {
    c.libc.clock.advance(BigInt.asUintN(32, c.arg(0)) * 1000n);
    return ret(0);
  }),
  def('nanosleep', 'nanosleep(req, rem): advances the virtual clock', (c) => {
    const req = c.arg(0);
    if (req === 0n) return fail(c, EFAULT);
    const sec = BigInt.asIntN(64, c.libc.u64(req));
    const nsec = BigInt.asIntN(64, c.libc.u64(req + 8n));
    if (sec < 0n || nsec < 0n || nsec >= NS) return fail(c, EINVAL);
    c.libc.clock.advance(sec * NS + nsec);
    return ret(0);
  }),
  def('clock_gettime', 'clock_gettime(id, ts): virtual time', (c) => {
    const id = i32(c.arg(0));
    if (id < 0 || id > 11) return fail(c, EINVAL);
    writeTimespec(c, c.arg(1), c.libc.clock.now(id), 1n);
    return ret(0);
  }),
  def('time', 'time(t): virtual seconds', (c) => {
    const s = c.libc.clock.now(0) / NS;
    if (c.arg(0) !== 0n) c.libc.writeU64(c.arg(0), s);
    return ret(s);
  }),
  def('gettimeofday', 'gettimeofday(tv, tz): virtual time', (c) => {
    if (c.arg(0) !== 0n) writeTimespec(c, c.arg(0), c.libc.clock.now(0), 1000n);
    return ret(0);
  }),
];
