// futex operations glibc's common paths do not reach (bitsets, requeue, wake-op), checked on
// the Scheduler's wait queues directly: which waiters wake, which move, what the word becomes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess, type GuestThread } from '../../../src/loader/system/index.js';
import { THREAD_SYSCALLS } from '../../../src/loader/system/syscalls/threads.js';

const FUTEX = THREAD_SYSCALLS[202]!;

async function setup() {
  const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../system/fixtures/hello')));
  const engine = await createEngine('wasm');
  const p = SystemProcess.create(engine, { vfs: buildVfs('/', [{ guest: 'hello', bytes }]), executable: './hello', cwd: GUEST_CWD });
  const word = (p.image.rsp - 0x2000n) & ~0xfffn;
  const a = word, b = word + 64n;
  const waiter = (address: bigint, bitset = 0xffffffff, seq = 0): GuestThread => {
    const t = p.threads.spawn(engine.saveContext(), 0);
    t.state = 'futex';
    t.futex = { address, bitset };
    t.waitSeq = seq;
    return t;
  };
  const futex = (...args: bigint[]) => FUTEX.run(p.kernel, p.threads, [...args, 0n, 0n, 0n, 0n, 0n].slice(0, 6));
  return { p, a, b, waiter, futex };
}

describe('futex', () => {
  it('WAIT: a changed word is EAGAIN, an expired timeout ETIMEDOUT, otherwise the thread blocks', async () => {
    const { p, a, futex } = await setup();
    p.kernel.writeU32(a, 7);
    expect(futex(a, 128n /* WAIT|PRIVATE */, 8n)).toBe(-11);
    const ts = a + 256n;
    p.kernel.write(ts, new Uint8Array(16)); // {0, 0}: already expired
    expect(futex(a, 128n, 7n, ts)).toBe(-110);
    expect(futex(a, 128n, 7n)).toEqual({ kind: 'blocked' });
    expect(p.threads.current.state).toBe('futex');
  });

  it('WAKE_BITSET wakes only waiters whose bitset meets it, in wait order, up to the count', async () => {
    const { a, waiter, futex } = await setup();
    const one = waiter(a, 1, 1), two = waiter(a, 2, 2), three = waiter(a, 2, 3);
    expect(futex(a, 10n /* WAKE_BITSET */, 1n, 0n, 0n, 2n)).toBe(1);
    expect([one.state, two.state, three.state]).toEqual(['futex', 'runnable', 'futex']);
    expect(futex(a, 1n /* WAKE */, 10n)).toBe(2);
  });

  it('CMP_REQUEUE checks the word, wakes some and moves the rest to the second futex', async () => {
    const { p, a, b, waiter, futex } = await setup();
    p.kernel.writeU32(a, 3);
    const one = waiter(a, 0xffffffff, 1), two = waiter(a, 0xffffffff, 2), three = waiter(a, 0xffffffff, 3);
    expect(futex(a, 4n, 1n, 1n, b, 4n)).toBe(-11);
    expect(futex(a, 4n, 1n, 1n, b, 3n)).toBe(2);
    expect(one.state).toBe('runnable');
    expect(two.futex?.address).toBe(b);
    expect(three.futex?.address).toBe(a);
  });

  it('WAKE_OP applies the operation to the second word and wakes there when the comparison holds', async () => {
    const { p, a, b, waiter, futex } = await setup();
    p.kernel.writeU32(b, 5);
    const onA = waiter(a, 0xffffffff, 1), onB = waiter(b, 0xffffffff, 2);
    const op = (1 << 28) | (0 << 24) | (3 << 12) | 5; // ADD 3; wake on b if old == 5
    expect(futex(a, 5n, 1n, 1n, b, BigInt(op))).toBe(2);
    expect(p.kernel.u32(b)).toBe(8);
    expect([onA.state, onB.state]).toEqual(['runnable', 'runnable']);
    const again = waiter(b, 0xffffffff, 3);
    expect(futex(a, 5n, 1n, 1n, b, BigInt(op))).toBe(0); // old is 8 now: no wake
    expect(p.kernel.u32(b)).toBe(11);
    expect(again.state).toBe('futex');
  });
});
