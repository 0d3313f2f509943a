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

/**
 * `moment` names when the threads were looked at: the patch point (default), or the handler's
 * first store into the bytes (program-driven with threads: the others kept running).
 */
export function checkLiveAtPatchPoint(range: OverwrittenBytes, point: PatchPoint, describe: (a: bigint) => string, moment?: string): Finding[] {
  const evidence: Evidence[] = [];
  const self = point.thread ? `thread ${point.thread.tid} (${point.thread.name}): ` : '';
  if (inside(range, point.rip)) {
    evidence.push({ label: `${self}interrupted rip`, address: point.rip, location: describe(point.rip), text: `byte ${point.rip - range.site} of the overwritten bytes` });
  }
  for (const w of point.stackWords) {
    if (!inside(range, w.value)) continue;
    evidence.push({ label: `${self}return address on the stack at ${hex(w.slot)}`, address: w.value, location: describe(w.value), text: `byte ${w.value - range.site} of the overwritten bytes` });
  }
  const threads = new Set<number>();
  if (evidence.length > 0 && point.thread && (point.otherThreads ?? []).length > 0) threads.add(point.thread.tid);
  for (const t of point.otherThreads ?? []) {
    const who = `thread ${t.tid} (${t.name})`;
    const chain = t.callChain.slice(0, 8).map((c) => c.location).join(' <- ');
    const frames: Evidence[] = [];
    if (inside(range, t.rip)) frames.push({ label: `${who}: stopped at rip`, address: t.rip, location: describe(t.rip), text: `byte ${t.rip - range.site} of the overwritten bytes` });
    for (const w of t.stackWords) {
      if (!inside(range, w.value)) continue;
      frames.push({ label: `${who}: return address on its stack at ${hex(w.slot)}`, address: w.value, location: describe(w.value), text: `byte ${w.value - range.site} of the overwritten bytes` });
    }
    if (frames.length === 0) continue;
    threads.add(t.tid);
    if (chain) frames.push({ label: `${who}: call chain`, text: chain });
    evidence.push(...frames);
  }
  if (evidence.length === 0) return [];
  if (threads.size > 0) {
    const first = evidence.find((e) => e.address !== undefined)!;
    return [{
      code: 'LIVE_INSTRUCTION_CLOBBERED',
      severity: 'error',
      message: `${moment ?? `at the patch point (instruction ${point.instruction}, every thread stopped)`} ${threads.size === 1 ? `thread ${[...threads][0]} was` : `threads ${[...threads].join(', ')} were`} inside the overwritten bytes: ${threads.size === 1 ? 'it' : 'they'} will resume in the middle of the trampoline`,
      address: first.address!,
      evidence,
      hint: 'patch only when every thread is outside the first bytes of the function (libcare unwinds every thread and retries), or choose a function whose prologue has no calls',
    }];
  }
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
