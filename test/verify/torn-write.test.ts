// TORN_WRITE from a recorded race (write-race.ts's record, built by hand): the stores into the
// 12 bytes and the fetches of another thread, in one order. Torn only between the first and
// the last store (or after the first when the handler never finished); the bytes it saw are
// shown with the old ones in brackets and disassembled from where it fetched.
import { describe, expect, it } from 'vitest';
import { checkTornWrite } from '../../src/verify/checks/torn-write.js';
import type { RaceFetch, RaceWrite, WriteRace } from '../../src/verify/dynamic/write-race.js';

const SITE = 0x555555555400n;
// endbr64; test edi, edi; jle +0x48; xor esi, esi; xor r8d, r8d (the old score's first bytes)
const OLD = Uint8Array.of(0xf3, 0x0f, 0x1e, 0xfa, 0x85, 0xff, 0x7e, 0x48, 0x31, 0xf6, 0x45, 0x31, 0xc0, 0x90, 0x90, 0x90);
// movabs rax, 0x7ffff6597110; jmp rax
const NEW = Uint8Array.of(0x48, 0xb8, 0x10, 0x71, 0x59, 0xf6, 0xff, 0x7f, 0x00, 0x00, 0xff, 0xe0);
const describeAddress = (a: bigint): string => `score+0x${(a - SITE).toString(16)}`;

/** Byte-by-byte stores; a fetch of the entry by thread 4243 after `after` of them. */
function race(after: number | null, stores = 12): WriteRace {
  const writes: RaceWrite[] = [];
  const fetches: RaceFetch[] = [];
  let seq = 0;
  const window = OLD.slice();
  for (let i = 0; i < stores; i++) {
    if (after === i) fetches.push({ seq: ++seq, tid: 4243, name: 'pool-0', address: SITE, size: 10, window: window.slice(), instruction: 1000 });
    window[i] = NEW[i]!;
    writes.push({ seq: ++seq, tid: 4242, name: 'main', address: SITE + BigInt(i), size: 1, rip: 0x555555555593n });
  }
  if (after !== null && after >= stores) fetches.push({ seq: ++seq, tid: 4243, name: 'pool-0', address: SITE, size: 10, window: window.slice(), instruction: 2000 });
  return { site: SITE, original: OLD, writes, fetches, pausePending: false, stop: () => undefined };
}

const read = (): Uint8Array => new Uint8Array(0);

describe('TORN_WRITE', () => {
  it('a fetch after 6 of 12 one-byte stores saw half a movabs: the bytes, the writer and the decoding', () => {
    const [finding, more] = checkTornWrite(race(6), 12, true, describeAddress, read);
    expect(more).toBeUndefined();
    expect(finding).toMatchObject({ code: 'TORN_WRITE', severity: 'error', address: SITE });
    expect(finding!.message).toBe('thread 4243 (pool-0) fetched an instruction at score+0x0 while thread 4242 (main) was writing the 12 bytes there (12 stores): it ran half old, half new bytes');
    const text = (label: string): string | undefined => finding!.evidence.find((e) => e.label === label)?.text;
    expect(text('the bytes it saw ([old])')).toBe('48 b8 10 71 59 f6 [7e] [48] [31] [f6] [45] [31]');
    // mov rax's imm64 is 10 71 59 f6 (new) 7e 48 31 f6 (old); then the old tail 45 31 c0
    expect(text('which decode as')).toBe('mov rax, 0xf631487ef6597110; xor r8d, r8d; nop');
    expect(text('thread 4242 (main) was writing')).toBe('6 of 12 bytes written, last at 0x555555555405');
  });

  it('before the first store and after the last one, the thread saw whole instructions: nothing torn', () => {
    expect(checkTornWrite(race(0), 12, true, describeAddress, read)).toEqual([]);
    expect(checkTornWrite(race(12), 12, true, describeAddress, read)).toEqual([]);
    expect(checkTornWrite(race(null), 12, true, describeAddress, read)).toEqual([]);
  });

  it('a handler that never finished (the run died after 11 stores) was still writing at any later fetch', () => {
    const [finding] = checkTornWrite(race(11, 11), 11, false, describeAddress, read);
    expect(finding?.message).toContain('(11 stores, the last before the run stopped)');
    expect(checkTornWrite(race(11, 11), 11, true, describeAddress, read)).toEqual([]);
  });

  it('one 12-byte store cannot be seen half done', () => {
    const r = race(null, 0);
    r.writes.push({ seq: 1, tid: 4242, name: 'main', address: SITE, size: 12, rip: 0n });
    r.fetches.push({ seq: 2, tid: 4243, name: 'pool-0', address: SITE, size: 10, window: NEW, instruction: 5 });
    expect(checkTornWrite(r, 12, true, describeAddress, read)).toEqual([]);
  });
});
