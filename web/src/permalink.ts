// The page's permalink: the case and the options in the URL's fragment, never the files (a
// fragment is not sent to the server either). `#case=loop-head/tool-patches-total-amount&
// symbol=total_amount&trampoline=rel32` opens that case with those fields and verifies it.

import type { TrampolineChoice } from './protocol.js';

export interface PermalinkState {
  /** A corpus case id; absent when the user's own files were verified. */
  case?: string;
  symbol: string;
  replacement?: string;
  trampoline: TrampolineChoice;
  signal?: string;
  /** Absent: prologue. */
  strategy?: 'got' | 'vtable';
  /** The thread scheduler's seed (system model, --seed): a failing schedule replays from it. */
  seed?: string;
  /** --explore: the window ({} for the default one); absent: no exploration. */
  explore?: { from?: number; to?: number };
  /** --stride (with explore only); absent: every point. */
  stride?: number;
  /** The process model, when it is not the default (a corpus case's own, else system). */
  process?: 'system' | 'stubs';
}

const TRAMPOLINE_FORMS = ['abs-rax', 'rel32', 'abs-indirect'] as const;

/** The fragment (with its '#') for a state; keys in a fixed order so equal states give equal links. */
export function toFragment(state: PermalinkState): string {
  const params = new URLSearchParams();
  if (state.case !== undefined) params.set('case', state.case);
  params.set('symbol', state.symbol);
  if (state.replacement !== undefined) params.set('with', state.replacement);
  if (typeof state.trampoline === 'string') params.set('trampoline', state.trampoline);
  else params.set('template', state.trampoline.template);
  if (state.signal !== undefined) params.set('signal', state.signal);
  if (state.strategy !== undefined) params.set('strategy', state.strategy);
  if (state.seed !== undefined) params.set('seed', state.seed);
  if (state.explore !== undefined) {
    const { from, to } = state.explore;
    params.set('explore', from === undefined && to === undefined ? '' : `${from ?? ''}:${to ?? ''}`);
    if (state.stride !== undefined && state.stride !== 1) params.set('stride', String(state.stride));
  }
  if (state.process !== undefined) params.set('process', state.process);
  return `#${params.toString()}`;
}

/** The state a fragment describes, or an error saying what is wrong with it; null for no fragment. */
export function fromFragment(fragment: string): PermalinkState | { error: string } | null {
  const text = fragment.replace(/^#/, '');
  if (text === '') return null;
  const params = new URLSearchParams(text);
  const known = new Set(['case', 'symbol', 'with', 'trampoline', 'template', 'signal', 'strategy', 'explore', 'stride', 'seed', 'process']);
  const unknown = [...params.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) return { error: `the link has parameters this page does not know: ${unknown.join(', ')}` };
  const symbol = params.get('symbol')?.trim() ?? '';
  if (symbol === '') return { error: 'the link names no function to patch (symbol=)' };
  const form = params.get('trampoline');
  const template = params.get('template');
  let trampoline: TrampolineChoice = 'abs-rax';
  if (template !== null) trampoline = { template };
  else if (form !== null) {
    if (!(TRAMPOLINE_FORMS as readonly string[]).includes(form)) return { error: `unknown trampoline '${form}' in the link (abs-rax, rel32, abs-indirect or template=)` };
    trampoline = form as (typeof TRAMPOLINE_FORMS)[number];
  }
  const state: PermalinkState = { symbol, trampoline };
  const c = params.get('case');
  if (c !== null) state.case = c;
  const replacement = params.get('with');
  if (replacement !== null && replacement.trim() !== '') state.replacement = replacement.trim();
  const signal = params.get('signal');
  if (signal !== null && signal.trim() !== '') state.signal = signal.trim();
  const strategy = params.get('strategy');
  if (strategy !== null && strategy !== 'prologue') {
    if (strategy !== 'got' && strategy !== 'vtable') return { error: `unknown strategy '${strategy}' in the link (prologue, got or vtable)` };
    state.strategy = strategy;
  }
  const explore = params.get('explore');
  if (explore !== null) {
    const window = /^(\d*):(\d*)$/.exec(explore);
    if (explore !== '' && !window) return { error: `the exploration window '${explore}' in the link is not FROM:TO (instruction counts)` };
    state.explore = {};
    if (window?.[1]) state.explore.from = Number(window[1]);
    if (window?.[2]) state.explore.to = Number(window[2]);
    if (state.explore.from !== undefined && state.explore.to !== undefined && state.explore.to < state.explore.from) return { error: `the exploration window '${explore}' in the link ends before it starts` };
  }
  const stride = params.get('stride');
  if (stride !== null) {
    if (explore === null) return { error: 'the link has a stride but no exploration (explore=)' };
    if (!/^\d+$/.test(stride) || Number(stride) < 1 || !Number.isSafeInteger(Number(stride))) return { error: `the stride '${stride}' in the link is not a whole number >= 1` };
    if (Number(stride) !== 1) state.stride = Number(stride);
  }
  const seed = params.get('seed');
  if (seed !== null) {
    const error = seedError(seed);
    if (error) return { error: `${error} in the link` };
    state.seed = BigInt(seed.trim()).toString();
  }
  const model = params.get('process');
  if (model !== null) {
    if (model !== 'system' && model !== 'stubs') return { error: `unknown process model '${model}' in the link (system or stubs)` };
    state.process = model;
  }
  return state;
}

/** Why a schedule seed is not one (as --seed takes it: a decimal integer 0..2^64-1), or undefined. */
export function seedError(text: string): string | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return `the seed '${text}' is not a decimal number`;
  if (BigInt(t) >= 1n << 64n) return `the seed ${t} does not fit in 64 bits`;
  return undefined;
}
