// Info: the last instruction the trampoline touches is only partly overwritten; its tail
// stays behind as garbage bytes. Harmless as long as nothing executes them (the branch and
// live-instruction checks say whether something does).

import { codeEvidence, type StaticContext } from '../context.js';
import type { Finding } from '../finding.js';

export function checkPartialInstruction(ctx: StaticContext): Finding[] {
  const partial = ctx.site.partial;
  if (!partial) return [];
  const left = partial.length - partial.bytesOverwritten;
  return [{
    code: 'PARTIAL_INSTRUCTION_OVERWRITTEN',
    severity: 'info',
    message: `the trampoline ends inside "${partial.text}": its last ${left} byte(s) remain as garbage after the jump (harmless unless something executes them)`,
    address: partial.address + ctx.loadBias,
    evidence: [codeEvidence(ctx, 'partly overwritten', partial.address, { bytes: partial.bytes, text: partial.text })],
  }];
}
