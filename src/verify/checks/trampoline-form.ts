// Problems the trampoline's own bytes show before anything runs: the rel32 form cannot
// reach (REL32_OUT_OF_RANGE); it transfers with `call` or leaves rsp moved (STACK_IMBALANCE:
// the replacement starts off by that much and returns to the wrong place); it writes an
// argument or callee-saved register, or rax before a variadic function (REGISTER_CLOBBERED);
// its bytes lead somewhere else than the replacement (PATCH_NOT_REACHED).

import type { Trampoline } from '../../asm/trampoline.js';
import { ARGUMENT_REGISTERS, CALLEE_SAVED_REGISTERS } from '../dynamic/observe.js';
import type { Finding } from '../finding.js';
import type { CalleeFacts } from './register-preservation.js';
import { hex } from '../../hex.js';


const VECTOR_ARGUMENTS = ['xmm0', 'xmm1', 'xmm2', 'xmm3', 'xmm4', 'xmm5', 'xmm6', 'xmm7'];

/** What the trampoline writes that the callee or the caller still needs, with why. */
function preservedWrites(trampoline: Trampoline, facts: CalleeFacts): { register: string; why: string }[] {
  const out: { register: string; why: string }[] = [];
  for (const r of trampoline.clobbers) {
    if ((ARGUMENT_REGISTERS as readonly string[]).includes(r)) out.push({ register: r, why: 'is an argument register' });
    else if (VECTOR_ARGUMENTS.includes(r)) out.push({ register: r, why: 'is a float/vector argument register' });
    else if ((CALLEE_SAVED_REGISTERS as readonly string[]).includes(r)) out.push({ register: r, why: 'is callee-saved: the caller expects it unchanged' });
    else if (r === 'rax' && facts.variadic) out.push({ register: 'rax', why: 'holds al, the number of vector registers a variadic call passes, which the replacement\'s va_start reads' });
  }
  return out;
}

export function checkTrampolineForm(trampoline: Trampoline, facts: CalleeFacts = { variadic: false }): Finding[] {
  const findings: Finding[] = [];
  for (const problem of trampoline.problems) {
    if (problem.code === 'rel32-out-of-range') {
      const r = problem.reach;
      findings.push({
        code: 'REL32_OUT_OF_RANGE',
        severity: 'error',
        message: `jmp rel32 at ${hex(r.site)} cannot reach the replacement at ${hex(r.target)}: the distance ${r.displacement} does not fit in ±2 GiB`,
        address: r.site,
        evidence: [
          { label: 'patch site', address: r.site },
          { label: 'replacement', address: r.target },
          { label: 'displacement needed', text: `${r.displacement} (0x${(r.displacement < 0n ? -r.displacement : r.displacement).toString(16)}${r.displacement < 0n ? ' backwards' : ''})` },
        ],
        hint: 'use an absolute form: abs-rax (12 bytes, clobbers rax) or abs-indirect (14 bytes, no register clobbered)',
      });
    } else if (problem.code === 'word-sized-push-pop') {
      findings.push({
        code: 'STACK_IMBALANCE',
        severity: 'error',
        message: problem.message,
        address: problem.at,
        evidence: [{ label: 'operand-size prefixed', address: problem.at, bytes: problem.bytes, text: problem.text }],
        hint: 'push an 8-byte address: movabs rax, {target}; push rax; ret (or push rax; movabs rax, {target}; xchg qword ptr [rsp], rax; ret to keep rax)',
      });
    } else if (problem.code === 'uses-call') {
      findings.push({
        code: 'STACK_IMBALANCE',
        severity: 'error',
        message: `the trampoline's "${problem.text}" pushes a return address: the replacement starts with rsp 8 bytes below what its caller set up (misaligned for the ABI) and returns into the old function's bytes after the trampoline`,
        address: problem.at,
        evidence: [{ label: 'transfer', address: problem.at, text: problem.text }],
        hint: 'end the trampoline with jmp, not call (movabs rax, new; jmp rax)',
      });
    }
  }
  if (!trampoline.transfersWithCall && trampoline.transfer && trampoline.stackDelta !== null && trampoline.stackDelta !== 0) {
    // null: rsp is written in a way the byte analysis cannot follow; the run's stack check judges.
    const d = trampoline.stackDelta;
    findings.push({
      code: 'STACK_IMBALANCE',
      severity: 'error',
      message: `the trampoline's instructions leave rsp ${d < 0 ? `${-d} bytes below` : `${d} bytes above`} where the caller's call left it when control reaches the replacement: it returns to the wrong place${d % 16 !== 0 ? ' with a misaligned stack' : ''}`,
      address: trampoline.transfer.at,
      evidence: trampoline.instructions.map((i) => ({ label: 'trampoline', address: i.address, bytes: i.bytes, text: i.text })),
      hint: 'leave rsp alone (movabs rax, new; jmp rax), or push exactly one 8-byte address and ret to it',
    });
  }
  const writes = preservedWrites(trampoline, facts);
  if (writes.length > 0) {
    findings.push({
      code: 'REGISTER_CLOBBERED',
      severity: 'error',
      message: `the trampoline writes ${writes.map((w) => w.register).join(', ')} before jumping: ${writes.map((w) => `${w.register} ${w.why}`).join('; ')}`,
      address: trampoline.site,
      evidence: trampoline.instructions.map((i) => ({ label: 'trampoline', address: i.address, bytes: i.bytes, text: i.text })),
      hint: writes.some((w) => w.register === 'rax')
        ? 'for a variadic function use a form that leaves rax alone: abs-indirect, or movabs r11, {target}; jmp r11'
        : 'use a scratch register that carries no argument and need not be preserved: movabs r11, {target}; jmp r11 (or rax, or abs-indirect)',
    });
  }
  for (const problem of trampoline.problems) {
    if (problem.code !== 'misses-target' || problem.destination === null) continue;
    findings.push({
      code: 'PATCH_NOT_REACHED',
      severity: 'error',
      message: `the trampoline's bytes transfer to 0x${problem.destination.toString(16)}, not to the replacement at 0x${trampoline.target.toString(16)}`,
      address: trampoline.transfer?.at ?? trampoline.site,
      evidence: trampoline.instructions.map((i) => ({ label: 'trampoline', address: i.address, bytes: i.bytes, text: i.text })),
      hint: 'check the template: the address must be the replacement\'s full 64 bits (an assembler may shorten an immediate that does not fit its operand size)',
    });
  }
  if (trampoline.reach && trampoline.reach.inRange && trampoline.reach.realProcess === 'out-of-range-under-aslr') {
    findings.push({
      code: 'REL32_OUT_OF_RANGE',
      severity: 'error',
      message: `jmp rel32 reaches the replacement in the sandbox's layout only: in a real process ASLR maps patch.so ~40 TiB away from the executable, beyond ±2 GiB`,
      address: trampoline.site,
      evidence: [{ label: 'displacement in the sandbox', text: String(trampoline.reach.displacement) }],
      hint: 'use an absolute form: abs-rax (12 bytes) or abs-indirect (14 bytes)',
    });
  }
  return findings;
}
