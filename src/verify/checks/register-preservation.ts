// REGISTER_CLOBBERED from calls observed through the trampoline. Between the old entry and
// the replacement's entry only the trampoline runs, so every argument register (rdi, rsi,
// rdx, rcx, r8, r9, xmm0-7) must arrive unchanged, and for a variadic function so must al
// (the caller's count of vector registers used, which the callee's va_start prologue reads).
// The callee-saved registers (rbx, rbp, r12-r15) must be the caller's again after the whole
// replaced call returns. rax (outside variadic calls), r10 and r11 are the trampoline's to use.

import { ARGUMENT_REGISTERS, CALLEE_SAVED_REGISTERS, type CallThroughTrampoline } from '../dynamic/observe.js';
import type { Evidence, Finding } from '../finding.js';
import type { CallNames } from './stack-balance.js';
import { hex } from '../../hex.js';


export interface CalleeFacts {
  /** The target takes `...`: al is an argument. */
  variadic: boolean;
}

type Role = 'argument' | 'vector argument' | 'variadic count' | 'callee-saved';

interface Clobber {
  register: string;
  role: Role;
  evidence: Evidence;
}

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined || (a.length === b.length && a.every((x, i) => x === b[i]));

function clobbersOf(c: CallThroughTrampoline, names: CallNames, facts: CalleeFacts): Clobber[] {
  const out: Clobber[] = [];
  const atEntries = (register: string, before: string, after: string): string =>
    `${before} at ${names.target}'s entry, ${after} at ${names.replacement}'s entry`;
  for (const r of ARGUMENT_REGISTERS) {
    if (c.atReplacementEntry[r] !== c.atOldEntry[r]) {
      out.push({ register: r, role: 'argument', evidence: { label: `${r} (argument)`, text: atEntries(r, hex(c.atOldEntry[r]), hex(c.atReplacementEntry[r])) } });
    }
  }
  for (let i = 0; i < c.xmmAtOldEntry.length; i++) {
    const before = c.xmmAtOldEntry[i];
    const after = c.xmmAtReplacementEntry[i];
    if (!sameBytes(before, after)) {
      out.push({ register: `xmm${i}`, role: 'vector argument', evidence: { label: `xmm${i} (float/vector argument)`, text: atEntries(`xmm${i}`, hexBytes(before!), hexBytes(after!)) } });
    }
  }
  if (facts.variadic) {
    const before = c.atOldEntry.rax & 0xffn;
    const after = c.atReplacementEntry.rax & 0xffn;
    if (before !== after) {
      out.push({
        register: 'al',
        role: 'variadic count',
        evidence: { label: 'al (vector registers used by a variadic call)', text: `${before} at ${names.target}'s entry, ${after} at ${names.replacement}'s entry` },
      });
    }
  }
  for (const r of CALLEE_SAVED_REGISTERS) {
    if (c.atReplacementEntry[r] !== c.atOldEntry[r]) {
      out.push({ register: r, role: 'callee-saved', evidence: { label: `${r} (callee-saved)`, text: atEntries(r, hex(c.atOldEntry[r]), hex(c.atReplacementEntry[r])) } });
    } else if (c.afterReturn && c.afterReturn.rsp === c.atOldEntry.rsp + 8n && c.afterReturn[r] !== c.atOldEntry[r]) {
      out.push({ register: r, role: 'callee-saved', evidence: { label: `${r} (callee-saved)`, text: `${hex(c.atOldEntry[r])} when the caller called ${names.target}, ${hex(c.afterReturn[r])} after ${names.replacement} returned` } });
    }
  }
  return out;
}

function consequence(roles: ReadonlySet<Role>, names: CallNames): string {
  const parts: string[] = [];
  if (roles.has('argument') || roles.has('vector argument')) parts.push(`${names.replacement} receives different arguments than the caller passed`);
  if (roles.has('variadic count')) parts.push(`${names.replacement}'s va_start prologue reads a wrong count of vector registers in al (where al reaches 0 it skips saving xmm0-7 and floating-point variadic arguments are lost)`);
  if (roles.has('callee-saved')) parts.push('the caller finds its preserved registers changed after the call');
  return parts.join('; ');
}

export function checkRegisterPreservation(calls: readonly CallThroughTrampoline[], names: CallNames, facts: CalleeFacts): Finding[] {
  const clobbered = new Map<string, Clobber>();
  for (const c of calls) for (const k of clobbersOf(c, names, facts)) if (!clobbered.has(k.register)) clobbered.set(k.register, k);
  if (clobbered.size === 0) return [];
  const list = [...clobbered.values()];
  const roles = new Set(list.map((k) => k.role));
  return [{
    code: 'REGISTER_CLOBBERED',
    severity: 'error',
    message: `${list.map((k) => k.register).join(', ')} changed across the trampoline${roles.has('callee-saved') ? ' or the replacement' : ''}: ${consequence(roles, names)}`,
    evidence: list.map((k) => k.evidence),
    hint: roles.has('variadic count')
      ? 'for a variadic function use a trampoline that leaves rax alone: abs-indirect (jmp [rip+0]; .quad new) or movabs r11, new; jmp r11'
      : 'a trampoline may only use a scratch register that carries no argument and need not be preserved (rax, r10, r11); the replacement must have the old function\'s prototype',
  }];
}
