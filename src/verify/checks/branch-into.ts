// BRANCH_INTO_PATCHED_BYTES: a direct branch or call anywhere in main's .text, or a jump-table
// entry, targets a byte of the overwritten range other than its first: after the patch
// that branch lands in the middle of the trampoline. A forward branch from inside the bytes
// to inside them is not one (see below).

import { codeEvidence, runtimeText, type StaticContext } from '../context.js';
import type { Evidence, Finding } from '../finding.js';

const MAX_SOURCES_SHOWN = 8;

export function checkBranchInto(ctx: StaticContext): Finding[] {
  const { site } = ctx;
  const byTarget = new Map<bigint, typeof site.branchesInto>();
  for (const edge of site.branchesInto) {
    // Source and target both inside the bytes, going forward: only a thread already inside
    // can take it, the one-instruction race every patch has. A backward one can park a
    // thread in a loop inside the bytes, so it stays.
    if (edge.sourceInRange && edge.target > edge.source) continue;
    const list = byTarget.get(edge.target) ?? [];
    list.push(edge);
    byTarget.set(edge.target, list);
  }
  const findings: Finding[] = [];
  for (const [target, edges] of [...byTarget].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const offset = Number(target - site.range.start);
    const evidence: Evidence[] = [codeEvidence(ctx, 'landing point', target, { text: `byte ${offset} of the ${site.range.length} overwritten bytes` })];
    for (const edge of edges.slice(0, MAX_SOURCES_SHOWN)) {
      const kind = edge.kind === 'jump-table'
        ? `jump-table entry (table at 0x${((edge.table ?? 0n) + ctx.loadBias).toString(16)}), dispatched by`
        : edge.kind === 'call' ? 'call from' : edge.kind === 'jcc' ? 'conditional branch from' : 'branch from';
      const note = edge.sourceInRange ? ' (itself overwritten: only a thread already inside can take it)' : '';
      // Rendered again at the run-time address, like every other listing in the report.
      const source = ctx.codeMap.describe(edge.source);
      const text = runtimeText(ctx, source.address, source.bytes, source.text);
      evidence.push(codeEvidence(ctx, kind, edge.source, { text: `${text}${note}` }));
    }
    if (edges.length > MAX_SOURCES_SHOWN) evidence.push({ label: 'and', text: `${edges.length - MAX_SOURCES_SHOWN} more` });
    const kinds = new Set(edges.map((e) => (e.kind === 'jump-table' ? 'a jump-table entry' : e.kind === 'call' ? 'a call' : 'a branch')));
    findings.push({
      code: 'BRANCH_INTO_PATCHED_BYTES',
      severity: 'error',
      message: `${[...kinds].join(' and ')} ${edges.length > 1 ? `(${edges.length} sources) target` : 'targets'} ${ctx.codeMap.locationOf(target)}, inside the overwritten bytes: after the patch ${edges.length > 1 ? 'they land' : 'it lands'} in the middle of the trampoline`,
      address: target + ctx.loadBias,
      evidence,
      hint: `patch a function whose first ${site.range.length} bytes no branch targets (a loop head or a switch case at the entry needs a wrapper), or use a shorter trampoline that ends at or before +${offset}`,
    });
  }
  return findings;
}
