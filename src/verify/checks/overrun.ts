// TRAMPOLINE_OVERRUNS_FUNCTION: the overwrite is longer than the function. Into another
// function or code nobody can attribute: error (that code is now garbage). Into alignment
// padding only: warning (nobody executes it, but the next layout change may make it code).

import type { StaticContext } from '../context.js';
import { codeEvidence } from '../context.js';
import type { Evidence, Finding } from '../finding.js';

export function checkOverrun(ctx: StaticContext): Finding[] {
  const { site, target } = ctx;
  const overrun = site.overrun;
  if (!overrun) return [];
  const length = site.range.length;
  const fnSize = target.size;
  const evidence: Evidence[] = overrun.spans.map((span) => {
    const bytes = Number(span.end - span.start);
    const what =
      span.region === 'function' ? `${bytes} byte(s) of ${span.function ?? 'another function'}`
        : span.region === 'padding' ? `${bytes} byte(s) of alignment padding`
          : span.region === 'unattributed-code' ? `${bytes} byte(s) of code outside any function symbol`
            : span.region === 'data' ? `${bytes} byte(s) of data`
              : `${bytes} byte(s) past the end of the mapped code`;
    return codeEvidence(ctx, 'overwritten past the end', span.start, { text: what });
  });
  const victims = [...new Set(overrun.spans.filter((s) => s.region === 'function').map((s) => s.function ?? '?'))];
  const paddingOnly = overrun.severity === 'warning';
  const message = paddingOnly
    ? `the ${length}-byte trampoline is ${overrun.bytesPastFunction} byte(s) longer than ${target.demangled} (${fnSize} bytes): it overwrites only alignment padding after it`
    : `the ${length}-byte trampoline is ${overrun.bytesPastFunction} byte(s) longer than ${target.demangled} (${fnSize} bytes): it overwrites ${victims.length > 0 ? `the start of ${victims.join(', ')}` : 'code or data after the function'}`;
  return [{
    code: 'TRAMPOLINE_OVERRUNS_FUNCTION',
    severity: paddingOnly ? 'warning' : 'error',
    message,
    address: overrun.functionEnd + ctx.loadBias,
    evidence,
    hint: paddingOnly
      ? 'safe with this build\'s layout; a shorter trampoline (rel32, 5 bytes, when the replacement is within ±2 GiB) fits inside the function'
      : `use a trampoline that fits in ${fnSize} bytes (rel32 is 5 bytes, only within ±2 GiB), or patch the callers of ${target.demangled} instead; never write over the next function`,
  }];
}
