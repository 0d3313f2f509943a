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
    // --explore and --stride: the default window, a window, a window with a stride.
    { case: 'seed-classic/tool-explores-the-run', symbol: 'need_fix_func', replacement: 'fix_func', trampoline: 'abs-rax', explore: {} },
    { case: 'seed-classic/tool-explores-start-up', symbol: 'need_fix_func', replacement: 'fix_func', trampoline: 'abs-rax', explore: { from: 0, to: 70 } },
    { symbol: 'handle_events', trampoline: 'abs-rax', signal: 'USR1', explore: { from: 40 }, stride: 4 },
    { case: 'tinyxml2/tool-patches-mangled-name', symbol: 'tally_item', trampoline: 'abs-rax', process: 'stubs' },
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
    expect(fromFragment('#symbol=f&process=kernel')).toEqual({ error: "unknown process model 'kernel' in the link (system or stubs)" });
    expect(fromFragment('#symbol=f&seed=007')).toEqual({ symbol: 'f', trampoline: 'abs-rax', seed: '7' });
    expect(fromFragment('#symbol=f&seed=-1')).toEqual({ error: "the seed '-1' is not a decimal number in the link" });
    expect(fromFragment('#symbol=f&seed=18446744073709551616')).toEqual({ error: 'the seed 18446744073709551616 does not fit in 64 bits in the link' });
    expect(fromFragment('#symbol=f&explore=9:3')).toEqual({ error: "the exploration window '9:3' in the link ends before it starts" });
    expect(fromFragment('#symbol=f&explore=all')).toEqual({ error: "the exploration window 'all' in the link is not FROM:TO (instruction counts)" });
    expect(fromFragment('#symbol=f&stride=4')).toEqual({ error: 'the link has a stride but no exploration (explore=)' });
    expect(fromFragment('#symbol=f&explore=&stride=0')).toEqual({ error: "the stride '0' in the link is not a whole number >= 1" });
  });
  it('carries the exploration: explore=FROM:TO (empty for the default window) and stride=k', () => {
    expect(toFragment({ symbol: 's', trampoline: 'abs-rax', explore: { from: 10, to: 2000 }, stride: 5 })).toBe('#symbol=s&trampoline=abs-rax&explore=10%3A2000&stride=5');
    expect(toFragment({ symbol: 's', trampoline: 'abs-rax', explore: {} })).toBe('#symbol=s&trampoline=abs-rax&explore=');
    expect(fromFragment('#symbol=s&explore=:500')).toEqual({ symbol: 's', trampoline: 'abs-rax', explore: { to: 500 } });
  });
});
