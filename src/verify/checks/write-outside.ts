// WRITE_OUTSIDE_PATCH_TARGET for the prologue strategy (program-driven): the handler wrote
// code of main (or a library main needs) other than the trampoline run at the target's
// entry: bytes before the entry, or another place altogether. Writes into the patch's own
// code are its own business (seed-own-copy's patcher writes there: PATCH_NOT_REACHED says
// what that means). The slot strategies check their own writes (strategies/slots.ts).

import { hex } from '../../hex.js';
import type { Evidence, Finding } from '../finding.js';
import type { ProgramWrite } from '../result.js';

export function checkCodeWritesOutside(
  writes: readonly ProgramWrite[],
  target: { site: bigint; length: number; name: string },
  isProcessCode: (address: bigint) => boolean,
): Finding[] {
  const evidence: Evidence[] = [];
  for (const w of writes) {
    if (!isProcessCode(w.address)) continue;
    if (w.atTarget && w.address >= target.site) continue;
    const length = w.atTarget ? Number(target.site - w.address) : w.length;
    evidence.push({ label: w.atTarget ? 'written before the entry' : 'written elsewhere in the process\'s code', address: w.address, location: w.location, text: `${length} bytes` });
  }
  if (evidence.length === 0) return [];
  evidence.push({ label: 'the patch target', address: target.site, text: `${target.name}: ${target.length} bytes from ${hex(target.site)}` });
  return [{
    code: 'WRITE_OUTSIDE_PATCH_TARGET',
    severity: 'error',
    message: `main's handler wrote code outside the bytes it patches at ${target.name}, first at ${evidence[0]!.location ?? hex(evidence[0]!.address!)} (${evidence[0]!.text})`,
    address: evidence[0]!.address!,
    evidence,
    hint: 'write only the trampoline at the function\'s entry: check the address and length the patcher computes',
  }];
}
