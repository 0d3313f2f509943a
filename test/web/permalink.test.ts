// The page's permalink format in Node: a state survives the round trip, the fragment holds no
// file bytes, and a malformed or foreign fragment is an error the page can show.
import { describe, expect, it } from 'vitest';
import { fromFragment, toFragment, type PermalinkState } from '../../web/src/permalink.js';

describe('permalink fragments', () => {
  const states: PermalinkState[] = [
    { case: 'loop-head/tool-patches-total-amount', symbol: 'total_amount', replacement: 'fix_total_amount', trampoline: 'rel32' },
    { case: 'seed-classic/signal-handler-patches', symbol: 'need_fix_func', trampoline: 'abs-rax', signal: 'USR1' },
    { symbol: 'record_hit(SessionTable&, std::string const&, int)', trampoline: { template: 'movabs r11, {target}; jmp r11' } },
    { symbol: 'f#&=?%', trampoline: 'abs-indirect' },
    { case: 'thread-pool/parked-workers-signal-handler-patches-score', symbol: 'score', trampoline: 'abs-rax', signal: 'USR1', seed: '18446744073709551615' },
  ];
  for (const state of states) {
    it(`round trip: ${toFragment(state)}`, () => {
      expect(fromFragment(toFragment(state))).toEqual(state);
      expect(toFragment(state)).toMatch(/^#case=|^#symbol=/);
    });
  }
  it('a fixed key order: equal states give equal links', () => {
    expect(toFragment({ signal: 'USR1', trampoline: 'rel32', symbol: 's', case: 'a/b' })).toBe('#case=a%2Fb&symbol=s&trampoline=rel32&signal=USR1');
  });
  it('no fragment: nothing to open; broken ones say what is wrong', () => {
    expect(fromFragment('')).toBeNull();
    expect(fromFragment('#')).toBeNull();
    expect(fromFragment('#case=a/b')).toEqual({ error: 'the link names no function to patch (symbol=)' });
    expect(fromFragment('#symbol=f&trampoline=jmp')).toEqual({ error: "unknown trampoline 'jmp' in the link (abs-rax, rel32, abs-indirect or template=)" });
    expect(fromFragment('#symbol=f&main=AAAA')).toEqual({ error: 'the link has parameters this page does not know: main' });
    expect(fromFragment('#symbol=f&seed=007')).toEqual({ symbol: 'f', trampoline: 'abs-rax', seed: '7' });
    expect(fromFragment('#symbol=f&seed=-1')).toEqual({ error: "the seed '-1' is not a decimal number in the link" });
    expect(fromFragment('#symbol=f&seed=18446744073709551616')).toEqual({ error: 'the seed 18446744073709551616 does not fit in 64 bits in the link' });
  });
});
