// Problems the trampoline's own bytes show before anything runs: the rel32 form cannot
// reach (REL32_OUT_OF_RANGE), or it transfers with `call` (STACK_IMBALANCE: the
// replacement starts 8 bytes off and returns into the overwritten bytes).

import type { Trampoline } from '../../asm/trampoline.js';
import type { Finding } from '../finding.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function checkTrampolineForm(trampoline: Trampoline): Finding[] {
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
