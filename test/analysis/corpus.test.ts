// The static evidence on the corpus's real compiled scenarios (corpus/<scenario>/main*),
// for the findings their expect.json names. Skipped for binaries not built yet.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CodeMap } from '../../src/analysis/code-map.js';
import { analyzePatchSite, type PatchSite } from '../../src/analysis/patch-site.js';
import { elfImage } from './helpers.js';

const ABS_RAX_LENGTH = 12;

function site(binary: string, symbol: string): PatchSite {
  const map = CodeMap.build(elfImage(binary));
  return analyzePatchSite(map, symbol, ABS_RAX_LENGTH);
}

const corpus = (path: string): string => new URL(`../../corpus/${path}`, import.meta.url).pathname;
const when = (path: string) => it.skipIf(!existsSync(corpus(path)));

describe('corpus scenarios: patch-site evidence', () => {
  when('short-function/main-adjacent')('short_function_adjacent_overruns_into_the_next_function', () => {
    const s = site(corpus('short-function/main-adjacent'), 'get_level');
    expect(s.function.size).toBeLessThan(ABS_RAX_LENGTH);
    expect(s.overrun?.severity).toBe('error');
    expect(s.overrun?.spans.some((span) => span.region === 'function')).toBe(true);
    // calls to the next function's entry now land inside the trampoline
    expect(s.branchesInto.length).toBeGreaterThan(0);
  });

  when('short-function/main-padded')('short_function_padded_overruns_only_into_padding', () => {
    const s = site(corpus('short-function/main-padded'), 'get_level');
    expect(s.overrun?.severity).toBe('warning');
    expect(s.branchesInto).toEqual([]);
    expect(s.returnAddressesInRange).toEqual([]);
  });

  when('loop-head/main')('loop_head_branches_back_into_offset_6', () => {
    const s = site(corpus('loop-head/main'), 'total_amount');
    expect(s.overrun).toBeNull();
    expect(s.branchesInto.map((b) => [b.offset, b.sourceFunction])).toContainEqual([6, 'total_amount']);
  });

  when('call-in-prologue/main-idle')('call_in_prologue_returns_to_offset_10', () => {
    const s = site(corpus('call-in-prologue/main-idle'), 'handle_events');
    expect(s.returnAddressesInRange.map((r) => r.offset)).toEqual([10]);
    expect(s.returnAddressesInRange[0]!.call.text).toMatch(/^call /);
  });

  when('page-straddle/main-two-pages')('page_straddle_write_touches_two_pages', () => {
    const s = site(corpus('page-straddle/main-two-pages'), 'need_fix_func');
    expect(s.pages.count).toBe(2);
    expect(Number(s.range.start % 4096n)).toBe(0xffa);
    expect(s.overrun).toBeNull();
  });

  when('seed-classic/main')('seed_classic_is_clean', () => {
    const s = site(corpus('seed-classic/main'), 'need_fix_func');
    expect(s.overrun).toBeNull();
    expect(s.branchesInto).toEqual([]);
    expect(s.returnAddressesInRange).toEqual([]);
  });
});
