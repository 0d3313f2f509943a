// LIVE_INSTRUCTION_CLOBBERED, from the run: the interrupted rip or a return address on the
// stack lay inside the overwritten bytes at the patch point (that frame resumes inside the
// trampoline), or an instruction was fetched from them (other than the entry) after the patch.

import type { PatchPoint } from '../dynamic/patch-point.js';
import type { Observation } from '../dynamic/observe.js';
import type { Evidence, Finding } from '../finding.js';
import { hex } from '../../hex.js';

export interface OverwrittenBytes {
  site: bigint;
  length: number;
}

const inside = (r: OverwrittenBytes, a: bigint): boolean => a > r.site && a < r.site + BigInt(r.length);

export function checkLiveAtPatchPoint(range: OverwrittenBytes, point: PatchPoint, describe: (a: bigint) => string): Finding[] {
  const evidence: Evidence[] = [];
  if (inside(range, point.rip)) {
    evidence.push({ label: 'interrupted rip', address: point.rip, location: describe(point.rip), text: `byte ${point.rip - range.site} of the overwritten bytes` });
  }
  for (const w of point.stackWords) {
    if (!inside(range, w.value)) continue;
    evidence.push({ label: `return address on the stack at ${hex(w.slot)}`, address: w.value, location: describe(w.value), text: `byte ${w.value - range.site} of the overwritten bytes` });
  }
  if (evidence.length === 0) return [];
  return [{
    code: 'LIVE_INSTRUCTION_CLOBBERED',
    severity: 'error',
    message: `at the patch point (instruction ${point.instruction}) execution was inside the overwritten bytes: ${evidence.length === 1 ? 'a frame' : `${evidence.length} frames`} will resume in the middle of the trampoline`,
    address: evidence[0]!.address!,
    evidence,
    hint: 'patch only when no thread or interrupted frame is inside the first bytes of the function (a quiescent point), or choose a function whose prologue has no calls',
  }];
}

export function checkFetchesAfterPatch(range: OverwrittenBytes, observation: Observation, describe: (a: bigint) => string): Finding[] {
  if (observation.fetchCount === 0) return [];
  const evidence: Evidence[] = observation.fetches.map((f) => ({
    label: 'executed',
    address: f.address,
    location: describe(f.address),
    text: `byte ${f.address - range.site} of the trampoline, around instruction ${f.at}`,
  }));
  if (observation.fetchCount > observation.fetches.length) evidence.push({ label: 'and', text: `${observation.fetchCount - observation.fetches.length} more` });
  const first = observation.fetches[0]!;
  return [{
    code: 'LIVE_INSTRUCTION_CLOBBERED',
    severity: 'error',
    message: `after the patch the program executed the overwritten bytes at ${describe(first.address)} (byte ${first.address - range.site} of the trampoline), not just its entry: it runs trampoline bytes as if they were the old instructions`,
    address: first.address,
    evidence,
    hint: 'something still enters the old code past its first byte (a branch, a return, a neighbouring function): see the static findings for the culprit',
  }];
}
