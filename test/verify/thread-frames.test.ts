// A thread's frames where the .eh_frame rules end (code without them: generated code, a
// stripped object): the rbp chain, then the conservative scan of the stack words above it.
import { describe, expect, it } from 'vitest';
import type { GuestProcess } from '../../src/loader/index.js';
import type { ThreadView } from '../../src/loader/system/index.js';
import { threadFrames } from '../../src/verify/dynamic/patch-point.js';

const CODE = 0x1000n; // [0x1000, 0x2000): one object with no unwind rules
const STACK = 0x7000n;

function fakeProcess(words: Map<bigint, bigint>): GuestProcess {
  const object = { contains: (a: bigint) => a >= CODE && a < CODE + 0x1000n, base: CODE, elf: { unwindRule: () => null } };
  return {
    objects: [object],
    mem: { u64: (a: bigint) => words.get(a) ?? 0n },
    describe: (a: bigint) => `code+0x${(a - CODE).toString(16)}`,
  } as unknown as GuestProcess;
}

describe('thread frames without unwind rules', () => {
  it('follows the rbp chain, then adds the scanned return addresses it did not reach', () => {
    // rsp = STACK; frame 1 at rbp = STACK+0x20: [rbp] = STACK+0x40, [rbp+8] = 0x1100;
    // frame 2 at STACK+0x40: [rbp] = 0 (end), [rbp+8] = 0x1200; a stray return address 0x1300 at STACK+0x60.
    const words = new Map<bigint, bigint>([
      [STACK + 0x20n, STACK + 0x40n], [STACK + 0x28n, 0x1100n],
      [STACK + 0x40n, 0n], [STACK + 0x48n, 0x1200n],
      [STACK + 0x60n, 0x1300n],
    ]);
    const stackWords = Array.from({ length: 16 }, (_, i) => ({ slot: STACK + BigInt(i * 8), value: words.get(STACK + BigInt(i * 8)) ?? 0n }));
    const view: ThreadView = {
      tid: 2, name: 'w', state: 'runnable', running: false, rip: 0x1050n, rsp: STACK, rbp: STACK + 0x20n, stackWords,
      callChain: [{ address: 0x1100n, location: '' }, { address: 0x1200n, location: '' }, { address: 0x1300n, location: '' }],
    };
    const frames = threadFrames(fakeProcess(words), view);
    expect(frames.map((f) => [f.address, f.how])).toEqual([
      [0x1100n, 'frame pointer'],
      [0x1200n, 'frame pointer'],
      [0x1300n, 'stack scan'],
    ]);
  });
});
