// Info: the target starts with endbr64 (-fcf-protection). With IBT enforced, an indirect
// trampoline (`jmp rax`, `jmp [rip]`) needs endbr64 at the replacement's entry too.

import { codeEvidence, type StaticContext } from '../context.js';
import type { Finding } from '../finding.js';

export function checkEndbr64(ctx: StaticContext, replacement: { entryEndbr64: boolean; name: string } | null, indirect: boolean): Finding[] {
  if (!ctx.site.entryEndbr64) return [];
  const replacementNote = replacement === null || !indirect
    ? ''
    : replacement.entryEndbr64
      ? `; ${replacement.name} starts with endbr64 as well, so the indirect jump is IBT-clean`
      : `; ${replacement.name} does not start with endbr64, so the indirect jump would fault where IBT is enforced`;
  return [{
    code: 'ENTRY_ENDBR64',
    severity: 'info',
    message: `${ctx.target.demangled} starts with endbr64 (built with -fcf-protection): the trampoline replaces it, which is fine for callers${replacementNote}`,
    address: ctx.site.range.start + ctx.loadBias,
    evidence: [codeEvidence(ctx, 'entry', ctx.site.range.start, { bytes: Uint8Array.of(0xf3, 0x0f, 0x1e, 0xfa), text: 'endbr64' })],
  }];
}
