// RETURN_ADDRESS_IN_PATCHED_BYTES, per thread (system model): with the world stopped, every
// thread's stack is walked (.eh_frame rules, else a conservative scan); a frame that returns
// into the overwritten bytes resumes in the middle of the trampoline. The evidence names the
// thread (id, name) and its call chain, so the frame can be found in the real process.

import type { ThreadView } from '../../loader/system/index.js';
import type { PatchPoint } from '../dynamic/patch-point.js';
import type { Evidence, Finding } from '../finding.js';
import type { OverwrittenBytes } from './live-clobber.js';

const inside = (r: OverwrittenBytes, a: bigint): boolean => a > r.site && a < r.site + BigInt(r.length);

export function checkThreadReturnAddresses(range: OverwrittenBytes, point: PatchPoint, describe: (a: bigint) => string, moment = 'at the patch point'): Finding[] {
  const views: ThreadView[] = [...(point.self ? [point.self] : []), ...(point.otherThreads ?? [])];
  if (views.length < 2) return []; // one thread: the static finding and LIVE_INSTRUCTION_CLOBBERED say it
  const evidence: Evidence[] = [];
  const threads: string[] = [];
  let first: bigint | undefined;
  for (const v of views) {
    const frames = v.frames ?? [];
    const hits = frames.map((f, i) => ({ f, i })).filter(({ f }) => inside(range, f.address));
    if (hits.length === 0) continue;
    const who = `thread ${v.tid} (${v.name})`;
    threads.push(who);
    for (const { f, i } of hits) {
      first ??= f.address;
      evidence.push({ label: `${who}: frame ${i + 1} returns to`, address: f.address, location: describe(f.address), text: `byte ${f.address - range.site} of the overwritten bytes (found by ${f.how === 'cfi' ? 'the .eh_frame unwind' : f.how === 'frame pointer' ? 'the frame-pointer chain' : 'a stack scan'})` });
    }
    evidence.push({ label: `${who}: call chain`, text: v.callChain.slice(0, 10).map((c) => c.location).join(' <- ') });
  }
  if (first === undefined) return [];
  return [{
    code: 'RETURN_ADDRESS_IN_PATCHED_BYTES',
    severity: 'error',
    message: `${moment}, ${threads.length === 1 ? `${threads[0]} has a frame` : `${threads.length} threads (${threads.join(', ')}) have frames`} returning to ${describe(first)}, inside the overwritten bytes: ${threads.length === 1 ? 'it resumes' : 'they resume'} in the middle of the trampoline`,
    address: first,
    evidence,
    hint: 'patch when no thread is inside a call made from the first bytes (libcare walks every thread and retries later), or patch the callers instead',
  }];
}
