// After the patch: run on to the end of the budget and watch (1) every instruction fetched
// from the overwritten bytes other than the entry, (2) each call of the old entry and the
// replacement's entry, comparing the caller's state (rsp, argument and callee-saved
// registers, al, xmm0-7) at the old entry with the state at the replacement's entry and
// after return.

import { GPRS, HookType, type Gpr, type HookHandle } from '../../engine/engine.js';
import type { GuestProcess, ProcessStop } from '../../loader/index.js';
import { threadOf } from './patch-point.js';
import { setPhase } from './progress.js';

export const ARGUMENT_REGISTERS: readonly Gpr[] = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
export const CALLEE_SAVED_REGISTERS: readonly Gpr[] = ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'];
/** xmm0..xmm7 carry float and vector arguments (and variadic ones, counted in al). */
export const VECTOR_ARGUMENT_REGISTERS = 8;

/** How many calls through the trampoline are compared before the run goes on unwatched. */
const CALLS_COMPARED = 8;
const MAX_FETCHES_KEPT = 16;

export type RegisterState = Record<Gpr, bigint>;
/** xmm0..xmm7, 16 bytes each. */
export type VectorState = readonly Uint8Array[];

export interface CallThroughTrampoline {
  /** Instruction count at the old entry. */
  at: number;
  returnAddress: bigint;
  atOldEntry: RegisterState;
  atReplacementEntry: RegisterState;
  xmmAtOldEntry: VectorState;
  xmmAtReplacementEntry: VectorState;
  /** The word at rsp at the replacement's entry: where it will return to. */
  replacementReturnAddress: bigint;
  /** null when it did not return to its caller while watched. */
  afterReturn: RegisterState | null;
}

export interface ClobberedFetch {
  address: bigint;
  at: number;
}

export interface Observation {
  stop: ProcessStop;
  /** Entries of any replacement address after the patch. */
  replacementRuns: number;
  firstReplacementRun: number | null;
  /** Calls of the old entry after the patch. */
  targetCalls: number;
  calls: CallThroughTrampoline[];
  fetches: ClobberedFetch[];
  fetchCount: number;
}

function readState(process: GuestProcess): RegisterState {
  const state = {} as RegisterState;
  for (const r of GPRS) state[r] = process.engine.readRegister(r);
  return state;
}

function readVectors(process: GuestProcess): VectorState {
  return Array.from({ length: VECTOR_ARGUMENT_REGISTERS }, (_, i) => process.engine.readXmm(i));
}

/**
 * The code hooks an observation needs (every fetch from the overwritten bytes, the replacements'
 * entries), installed once and lent to many observations in turn: adding and removing hooks per
 * run re-syncs the engine's hook state each time (exploration's thousands of patched runs).
 */
export class ObservationHooks {
  private onFetch: ((address: bigint, size: number) => void) | null = null;
  private onReplacement: (() => void) | null = null;
  private readonly handles: HookHandle[] = [];

  constructor(private readonly process: GuestProcess, readonly site: bigint, readonly overwritten: number, readonly replacements: readonly bigint[]) {
    const engine = process.engine;
    if (overwritten > 1) {
      this.handles.push(engine.addHook({ type: HookType.Code, begin: site, end: site + BigInt(overwritten) - 1n, callback: (address, size) => this.onFetch?.(address, size) }));
    }
    for (const address of new Set(replacements)) {
      this.handles.push(engine.addHook({ type: HookType.Code, begin: address, end: address, callback: () => this.onReplacement?.() }));
    }
  }

  /** Whether these hooks watch what an observation with these options needs. */
  fits(site: bigint, overwritten: number, replacements: readonly bigint[]): boolean {
    if (site !== this.site || overwritten !== this.overwritten) return false;
    if (replacements.length === 1 && this.replacements.length === 1) return replacements[0] === this.replacements[0];
    const mine = new Set(this.replacements);
    const theirs = new Set(replacements);
    return mine.size === theirs.size && [...theirs].every((a) => mine.has(a));
  }

  /** Routes the hooks to one observation until detach(). */
  attach(onFetch: (address: bigint, size: number) => void, onReplacement: () => void): void {
    if (this.onFetch || this.onReplacement) throw new Error('ObservationHooks: already lent to an observation');
    this.onFetch = onFetch;
    this.onReplacement = onReplacement;
  }

  detach(): void {
    this.onFetch = null;
    this.onReplacement = null;
  }

  close(): void {
    this.detach();
    for (const h of this.handles) this.process.engine.removeHook(h);
    this.handles.length = 0;
  }
}

export function observeAfterPatch(
  process: GuestProcess,
  options: {
    site: bigint; overwritten: number; replacements: readonly bigint[]; budget: number;
    /** End the run once this many calls through the trampoline have returned (exploration's horizon). */
    stopAfterCalls?: number;
    /** Hooks installed for many observations (used when they watch the same bytes and replacements). */
    hooks?: ObservationHooks;
  },
): Observation {
  const { site, overwritten } = options;
  setPhase(process.engine, 'running the patched program');
  const fetches: ClobberedFetch[] = [];
  let fetchCount = 0;
  // The trampoline's own instructions run in sequence from the entry; any other arrival at
  // a byte past the entry (a branch, a return, a fall-through from the function before) is
  // an old instruction boundary executed over new bytes.
  let expectedNext: bigint | null = null;
  const onFetch = (address: bigint, size: number): void => {
    if (address !== site && address !== expectedNext) {
      fetchCount++;
      if (fetches.length < MAX_FETCHES_KEPT) fetches.push({ address, at: process.instructions });
    }
    expectedNext = address + BigInt(size);
  };

  const observation: Observation = { stop: { reason: 'budget', instructions: process.instructions }, replacementRuns: 0, firstReplacementRun: null, targetCalls: 0, calls: [], fetches, fetchCount: 0 };
  // The caller's state at the old entry (a breakpoint stop), completed by the replacement's
  // entry and by the return to the caller (run until it). The replacement's entry is a code
  // hook, not a stop: it counts every run of the replacement, also in the unwatched rest of
  // the run and inside the run to the return, without breaking those runs up.
  let pending: {
    at: number; state: RegisterState; xmm: VectorState; returnAddress: bigint; thread: number;
    atReplacement: RegisterState | null; xmmAtReplacement: VectorState; replacementReturnAddress: bigint;
  } | null = null;
  const onReplacement = (): void => {
    observation.replacementRuns++;
    observation.firstReplacementRun ??= process.instructions;
    if (pending && !pending.atReplacement && threadOf(process) === pending.thread) {
      pending.atReplacement = readState(process);
      pending.xmmAtReplacement = readVectors(process);
      pending.replacementReturnAddress = process.mem.u64(pending.atReplacement.rsp);
    }
  };
  const hooks = options.hooks?.fits(site, overwritten, options.replacements) ? options.hooks : new ObservationHooks(process, site, overwritten, options.replacements);
  hooks.attach(onFetch, onReplacement);
  try {
    for (;;) {
      const left = options.budget - process.instructions;
      if (left <= 0) {
        observation.stop = { reason: 'budget', instructions: process.instructions };
        break;
      }
      const watching = observation.calls.length < CALLS_COMPARED;
      const stop = process.run({
        maxInstructions: left,
        ...(watching && !pending ? { stopAtCallOf: [site] } : {}),
        ...(pending ? { until: pending.returnAddress } : {}),
      });
      if (stop.reason === 'call') {
        observation.targetCalls++;
        const state = readState(process);
        pending = { at: process.instructions, state, xmm: readVectors(process), returnAddress: process.mem.u64(state.rsp), thread: threadOf(process), atReplacement: null, xmmAtReplacement: [], replacementReturnAddress: 0n };
        continue;
      }
      if (stop.reason === 'until' && pending && threadOf(process) !== pending.thread) {
        // Another thread reached the return address: step off it and wait for the caller's thread.
        const step = process.run({ maxInstructions: 1 });
        if (step.reason === 'budget') continue;
        observation.stop = step;
        break;
      }
      if (stop.reason === 'until' && pending) {
        const state = readState(process);
        if (pending.atReplacement) {
          observation.calls.push({
            at: pending.at,
            returnAddress: pending.returnAddress,
            atOldEntry: pending.state,
            atReplacementEntry: pending.atReplacement,
            xmmAtOldEntry: pending.xmm,
            xmmAtReplacementEntry: pending.xmmAtReplacement,
            replacementReturnAddress: pending.replacementReturnAddress,
            // A deeper (recursive) frame returning to the same address has a lower rsp: not ours.
            afterReturn: state.rsp >= pending.state.rsp ? state : null,
          });
        }
        pending = null;
        if (options.stopAfterCalls !== undefined && observation.calls.length >= options.stopAfterCalls) {
          observation.stop = { reason: 'budget', instructions: process.instructions };
          break;
        }
        continue;
      }
      observation.stop = stop;
      break;
    }
  } finally {
    if (hooks === options.hooks) hooks.detach();
    else hooks.close();
  }
  if (pending?.atReplacement) {
    observation.calls.push({
      at: pending.at, returnAddress: pending.returnAddress, atOldEntry: pending.state, atReplacementEntry: pending.atReplacement,
      xmmAtOldEntry: pending.xmm, xmmAtReplacementEntry: pending.xmmAtReplacement, replacementReturnAddress: pending.replacementReturnAddress, afterReturn: null,
    });
  }
  observation.fetchCount = fetchCount;
  return observation;
}
