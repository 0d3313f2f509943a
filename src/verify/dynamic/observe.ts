// After the patch: run on to the end of the budget and watch (1) every instruction fetched
// from the overwritten bytes other than the entry, (2) each call of the old entry and the
// replacement's entry, comparing the caller's state (rsp, argument and callee-saved
// registers) at the old entry with the state at the replacement's entry and after return.

import { HookType, type Gpr } from '../../engine/engine.js';
import type { EmulatedProcess, ProcessStop } from '../../loader/index.js';

export const ARGUMENT_REGISTERS: readonly Gpr[] = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
export const CALLEE_SAVED_REGISTERS: readonly Gpr[] = ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'];
const WATCHED: readonly Gpr[] = ['rsp', ...ARGUMENT_REGISTERS, ...CALLEE_SAVED_REGISTERS];

/** How many calls through the trampoline are compared before the run goes on unwatched. */
const CALLS_COMPARED = 8;
/** The trampoline is a few instructions: a replacement entry further away is another path. */
const TRAMPOLINE_MAX_INSTRUCTIONS = 16;
const MAX_FETCHES_KEPT = 16;

export type RegisterState = Record<Gpr, bigint>;

export interface CallThroughTrampoline {
  /** Instruction count at the old entry. */
  at: number;
  returnAddress: bigint;
  atOldEntry: RegisterState;
  atReplacementEntry: RegisterState;
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

function readState(process: EmulatedProcess): RegisterState {
  const state = {} as RegisterState;
  for (const r of WATCHED) state[r] = process.engine.readRegister(r);
  return state;
}

export function observeAfterPatch(
  process: EmulatedProcess,
  options: { site: bigint; overwritten: number; replacements: readonly bigint[]; budget: number },
): Observation {
  const { site, overwritten } = options;
  const fetches: ClobberedFetch[] = [];
  let fetchCount = 0;
  // The trampoline's own instructions run in sequence from the entry; any other arrival at
  // a byte past the entry (a branch, a return, a fall-through from the function before) is
  // an old instruction boundary executed over new bytes.
  let expectedNext: bigint | null = null;
  const hook = overwritten > 1
    ? process.engine.addHook({
        type: HookType.Code,
        begin: site,
        end: site + BigInt(overwritten) - 1n,
        callback: (address, size) => {
          if (address !== site && address !== expectedNext) {
            fetchCount++;
            if (fetches.length < MAX_FETCHES_KEPT) fetches.push({ address, at: process.instructions });
          }
          expectedNext = address + BigInt(size);
        },
      })
    : null;

  const replacements = new Set(options.replacements);
  const observation: Observation = { stop: { reason: 'budget', instructions: process.instructions }, replacementRuns: 0, firstReplacementRun: null, targetCalls: 0, calls: [], fetches, fetchCount: 0 };
  let pendingEntry: { at: number; state: RegisterState; returnAddress: bigint } | null = null;
  let awaitingReturn: CallThroughTrampoline | null = null;
  try {
    for (;;) {
      const left = options.budget - process.instructions;
      if (left <= 0) {
        observation.stop = { reason: 'budget', instructions: process.instructions };
        break;
      }
      const watching = observation.calls.length < CALLS_COMPARED || observation.replacementRuns === 0;
      const stops = watching ? [site, ...replacements] : [];
      const stop = process.run({
        maxInstructions: left,
        ...(stops.length > 0 ? { stopAtCallOf: stops } : {}),
        ...(awaitingReturn ? { until: awaitingReturn.returnAddress } : {}),
      });
      if (stop.reason === 'call') {
        const state = readState(process);
        if (stop.address === site && !replacements.has(site)) {
          observation.targetCalls++;
          pendingEntry = { at: process.instructions, state, returnAddress: process.mem.u64(state.rsp) };
        }
        if (replacements.has(stop.address)) {
          observation.replacementRuns++;
          observation.firstReplacementRun ??= process.instructions;
          if (pendingEntry && process.instructions - pendingEntry.at <= TRAMPOLINE_MAX_INSTRUCTIONS && observation.calls.length < CALLS_COMPARED) {
            const call: CallThroughTrampoline = { at: pendingEntry.at, returnAddress: pendingEntry.returnAddress, atOldEntry: pendingEntry.state, atReplacementEntry: state, replacementReturnAddress: process.mem.u64(state.rsp), afterReturn: null };
            observation.calls.push(call);
            if (!awaitingReturn) awaitingReturn = call;
          }
          pendingEntry = null;
        }
        continue;
      }
      if (stop.reason === 'until' && awaitingReturn) {
        const state = readState(process);
        // A deeper (recursive) frame returning to the same address has a lower rsp: not ours.
        if (state.rsp >= awaitingReturn.atOldEntry.rsp) awaitingReturn.afterReturn = state;
        awaitingReturn = null;
        continue;
      }
      observation.stop = stop;
      break;
    }
  } finally {
    if (hook) process.engine.removeHook(hook);
  }
  observation.fetchCount = fetchCount;
  return observation;
}
