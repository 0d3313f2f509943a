// RETURN_ADDRESS_IN_PATCHED_BYTES: a call inside the overwritten bytes returns to an address
// that is also inside them. Any frame suspended in that call (another thread, the code a
// signal interrupted) returns into the middle of the trampoline after the patch.

import { codeEvidence, runtimeText, type StaticContext } from '../context.js';
import type { Finding } from '../finding.js';

export function checkReturnAddress(ctx: StaticContext): Finding[] {
  // `call next; pop reg` (get-PC): the callee is the return address itself, no frame waits there.
  return ctx.site.returnAddressesInRange.filter((r) => r.callee !== r.returnAddress).map((r) => ({
    code: 'RETURN_ADDRESS_IN_PATCHED_BYTES' as const,
    severity: 'error' as const,
    message: `"${runtimeText(ctx, r.call.address, r.call.bytes, r.call.text)}" at ${ctx.codeMap.locationOf(r.call.address)} returns to ${ctx.codeMap.locationOf(r.returnAddress)}, byte ${r.offset} of the overwritten bytes: a frame suspended in that call resumes in the middle of the trampoline`,
    address: r.returnAddress + ctx.loadBias,
    evidence: [
      codeEvidence(ctx, 'call', r.call.address, { bytes: r.call.bytes, text: r.call.text }),
      codeEvidence(ctx, 'return address', r.returnAddress, { text: `byte ${r.offset} of ${ctx.site.range.length}` }),
    ],
    hint: `only patch while no thread can be inside that call (e.g. at a quiescent point), or patch its callers; a trampoline of at most ${r.offset} bytes would leave the return address intact`,
  }));
}
