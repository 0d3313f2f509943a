// Info: rip-relative instructions inside the range. A jump-over patch discards them, so
// this matters only to a patcher that relocates the prologue (a detour that calls the
// original): their displacement would have to be rewritten.

import { codeEvidence, type StaticContext } from '../context.js';
import type { Finding } from '../finding.js';

export function checkRipRelative(ctx: StaticContext): Finding[] {
  const list = ctx.site.ripRelative;
  if (list.length === 0) return [];
  return [{
    code: 'RIP_RELATIVE_IN_PATCHED_BYTES',
    severity: 'info',
    message: `${list.length} rip-relative instruction(s) in the overwritten bytes: irrelevant for a jump to a replacement, but a detour that relocates these bytes must fix their displacements`,
    address: list[0]!.address + ctx.loadBias,
    evidence: list.map((r) => codeEvidence(ctx, 'rip-relative', r.address, { bytes: r.bytes, text: `${r.text}  (refers to 0x${(r.target + ctx.loadBias).toString(16)})` })),
  }];
}
