// STACK_IMBALANCE from calls observed through the trampoline. A jmp trampoline leaves rsp
// exactly as the caller's call left it, so the replacement's entry sees rsp ≡ 8 (mod 16) as
// the SysV ABI requires at every function entry, and returns to the caller. Anything else
// (a call, a push without its ret, a `sub rsp`) shifts where the replacement returns to and,
// unless the shift is a multiple of 16, breaks the alignment its aligned stores rely on.

import type { CallThroughTrampoline } from '../dynamic/observe.js';
import type { Evidence, Finding } from '../finding.js';
import type { OverwrittenBytes } from './live-clobber.js';
import { hex } from '../../hex.js';

/** rsp % 16 at a function's entry under the SysV ABI: 16-aligned before the call, minus the return address. */
const ENTRY_ALIGNMENT = 8n;

export interface CallNames {
  target: string;
  replacement: string;
}

function modulo16(rsp: bigint): bigint {
  return rsp % 16n;
}

function entryShift(call: CallThroughTrampoline, names: CallNames, trampoline: OverwrittenBytes, describe: (a: bigint) => string): Finding {
  const delta = call.atReplacementEntry.rsp - call.atOldEntry.rsp;
  const top = call.replacementReturnAddress;
  // A call inside the trampoline leaves its own return address, just past the call, on top.
  const pushedByCall = delta === -8n && top > trampoline.site && top <= trampoline.site + BigInt(trampoline.length);
  const misaligned = modulo16(call.atReplacementEntry.rsp) !== ENTRY_ALIGNMENT && modulo16(call.atOldEntry.rsp) === ENTRY_ALIGNMENT;
  const evidence: Evidence[] = [
    { label: `rsp at ${names.target}'s entry (as the caller set it up)`, text: `${hex(call.atOldEntry.rsp)} (rsp % 16 = ${modulo16(call.atOldEntry.rsp)})` },
    { label: `rsp at ${names.replacement}'s entry`, text: `${hex(call.atReplacementEntry.rsp)} (rsp % 16 = ${modulo16(call.atReplacementEntry.rsp)}; the SysV ABI requires ${ENTRY_ALIGNMENT} at a function's entry)` },
    { label: 'difference', text: `${delta > 0n ? '+' : ''}${delta} bytes` },
    { label: `top of stack at ${names.replacement}'s entry`, address: top, location: describe(top), text: `${names.replacement} will return here, not to the caller at ${describe(call.returnAddress)}` },
  ];
  const what = pushedByCall
    ? 'the trampoline pushed a return address (call instead of jmp)'
    : `the trampoline moved rsp by ${delta > 0n ? '+' : ''}${delta} before transferring`;
  return {
    code: 'STACK_IMBALANCE',
    severity: 'error',
    message: `${names.replacement} starts with rsp ${delta < 0n ? `${-delta} bytes below` : `${delta} bytes above`} where the caller's call left it: ${what}; it returns to the wrong place${misaligned ? ' and runs with a misaligned stack (aligned SSE stores to locals fault)' : ''}`,
    address: call.returnAddress,
    evidence,
    hint: 'the trampoline must leave rsp alone and transfer with jmp (movabs rax, new; jmp rax); a push-based form needs exactly one 8-byte push consumed by its ret',
  };
}

function returnShift(call: CallThroughTrampoline & { afterReturn: NonNullable<CallThroughTrampoline['afterReturn']> }, names: CallNames, describe: (a: bigint) => string): Finding {
  const expected = call.atOldEntry.rsp + 8n;
  return {
    code: 'STACK_IMBALANCE',
    severity: 'error',
    message: `after ${names.replacement} returned to ${describe(call.returnAddress)}, rsp is ${call.afterReturn.rsp - expected} bytes off from where the caller's call left it`,
    address: call.returnAddress,
    evidence: [
      { label: 'expected rsp after return', text: hex(expected) },
      { label: 'actual', text: hex(call.afterReturn.rsp) },
    ],
    hint: 'the replacement must keep the stack balanced: same prototype, same calling convention as the old function',
  };
}

/** The first call whose stack was wrong at the replacement's entry, else after its return. */
export function checkStackBalance(calls: readonly CallThroughTrampoline[], names: CallNames, trampoline: OverwrittenBytes, describe: (a: bigint) => string): Finding[] {
  const shifted = calls.find((c) => c.atReplacementEntry.rsp !== c.atOldEntry.rsp);
  if (shifted) return [entryShift(shifted, names, trampoline, describe)];
  const late = calls.find((c) => c.afterReturn !== null && c.afterReturn.rsp !== c.atOldEntry.rsp + 8n);
  if (late && late.afterReturn) return [returnShift({ ...late, afterReturn: late.afterReturn }, names, describe)];
  return [];
}
