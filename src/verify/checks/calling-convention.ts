// STACK_IMBALANCE and REGISTER_CLOBBERED, from calls observed through the trampoline: the
// caller's state at the old entry against the replacement's entry (a jmp trampoline changes
// nothing but its scratch register) and against the state after the call returns.

import { ARGUMENT_REGISTERS, CALLEE_SAVED_REGISTERS, type CallThroughTrampoline } from '../dynamic/observe.js';
import type { Evidence, Finding } from '../finding.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function checkCallingConvention(calls: readonly CallThroughTrampoline[], names: { target: string; replacement: string }, describe: (a: bigint) => string): Finding[] {
  const findings: Finding[] = [];
  const call = calls.find((c) => c.atReplacementEntry.rsp !== c.atOldEntry.rsp) ?? null;
  if (call) {
    const delta = call.atReplacementEntry.rsp - call.atOldEntry.rsp;
    const pushed = delta < 0n ? call.replacementReturnAddress : null;
    const evidence: Evidence[] = [
      { label: `rsp at ${names.target}'s entry (caller's)`, text: `${hex(call.atOldEntry.rsp)} (rsp % 16 = ${call.atOldEntry.rsp % 16n})` },
      { label: `rsp at ${names.replacement}'s entry`, text: `${hex(call.atReplacementEntry.rsp)} (rsp % 16 = ${call.atReplacementEntry.rsp % 16n}; the ABI wants 8)` },
      { label: 'difference', text: `${delta} bytes` },
    ];
    if (pushed !== null) evidence.push({ label: 'top of stack at the replacement\'s entry', address: pushed, location: describe(pushed), text: 'the replacement will return here instead of to the caller' });
    findings.push({
      code: 'STACK_IMBALANCE',
      severity: 'error',
      message: `the replacement starts with rsp ${delta < 0n ? `${-delta} bytes below` : `${delta} bytes above`} what the caller set up: ${delta === -8n ? 'the trampoline pushed a return address (call instead of jmp)' : 'the trampoline moved the stack'}`,
      address: call.returnAddress,
      evidence,
      hint: 'the trampoline must transfer with jmp (movabs rax, new; jmp rax) and leave rsp alone',
    });
  } else {
    const late = calls.find((c) => c.afterReturn && c.afterReturn.rsp !== c.atOldEntry.rsp + 8n);
    if (late && late.afterReturn) {
      findings.push({
        code: 'STACK_IMBALANCE',
        severity: 'error',
        message: `after ${names.replacement} returned to ${describe(late.returnAddress)}, rsp is ${late.afterReturn.rsp - late.atOldEntry.rsp - 8n} bytes off from where the caller's call left it`,
        address: late.returnAddress,
        evidence: [
          { label: 'expected rsp after return', text: hex(late.atOldEntry.rsp + 8n) },
          { label: 'actual', text: hex(late.afterReturn.rsp) },
        ],
        hint: 'the replacement must keep the stack balanced: same prototype, same calling convention as the old function',
      });
    }
  }
  const clobbered = new Map<string, Evidence>();
  for (const c of calls) {
    for (const r of ARGUMENT_REGISTERS) {
      if (c.atReplacementEntry[r] !== c.atOldEntry[r] && !clobbered.has(r)) {
        clobbered.set(r, { label: `${r} (argument)`, text: `${hex(c.atOldEntry[r])} at ${names.target}'s entry, ${hex(c.atReplacementEntry[r])} at ${names.replacement}'s entry` });
      }
    }
    for (const r of CALLEE_SAVED_REGISTERS) {
      if (c.atReplacementEntry[r] !== c.atOldEntry[r] && !clobbered.has(r)) {
        clobbered.set(r, { label: `${r} (callee-saved)`, text: `${hex(c.atOldEntry[r])} at ${names.target}'s entry, ${hex(c.atReplacementEntry[r])} at ${names.replacement}'s entry` });
      } else if (c.afterReturn && c.afterReturn.rsp === c.atOldEntry.rsp + 8n && c.afterReturn[r] !== c.atOldEntry[r] && !clobbered.has(r)) {
        clobbered.set(r, { label: `${r} (callee-saved)`, text: `${hex(c.atOldEntry[r])} before the call, ${hex(c.afterReturn[r])} after ${names.replacement} returned` });
      }
    }
  }
  if (clobbered.size > 0) {
    findings.push({
      code: 'REGISTER_CLOBBERED',
      severity: 'error',
      message: `${[...clobbered.keys()].join(', ')} changed across the trampoline${[...clobbered.keys()].some((r) => CALLEE_SAVED_REGISTERS.includes(r as never)) ? ' or the replacement' : ''}: the replacement ${[...clobbered.keys()].some((r) => ARGUMENT_REGISTERS.includes(r as never)) ? 'sees different arguments than the caller passed' : 'breaks the caller\'s preserved registers'}`,
      evidence: [...clobbered.values()],
      hint: 'a trampoline may only use a scratch register the ABI does not preserve and that carries no argument (rax, r10, r11); the replacement must have the old function\'s prototype',
    });
  }
  return findings;
}
