// Text report for terminals: what was patched and how, the findings grouped by
// severity with their evidence, and the verdict on the last line (CI logs end there).

import { sortFindings, type Finding, type Severity } from '../verify/finding.js';
import type { InstructionLine, SymbolSummary, VerifyResult } from '../verify/result.js';
import { hex, hexBytes, plural } from './format.js';

const HEADINGS: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };

export function renderText(result: VerifyResult): string {
  const out: string[] = [];
  if (result.target) out.push(`target       ${describeSymbol(result.target)}`);
  if (result.replacement) out.push(`replacement  ${describeSymbol(result.replacement)}`);
  const t = result.trampoline;
  if (t) {
    out.push(`trampoline   ${t.form}, ${plural(t.bytes.length, 'byte')} at ${hex(t.site)} -> ${hex(t.target)}`);
    out.push('', '  original bytes (overwritten):');
    out.push(...instructionLines(t.originalInstructions));
    out.push('  trampoline:');
    out.push(...instructionLines(t.instructions));
  }
  if (result.run) {
    const r = result.run;
    const point = r.patchPoint === undefined ? 'no patch applied' : `patched at instruction ${r.patchPoint}`;
    out.push('', `run          ${r.mode} on ${r.engine}: ${r.instructions} instructions, ${point}; ${r.ended}`);
    if (r.output.length > 0) {
      out.push('  program output:');
      for (const line of r.output) {
        const mark = r.patchPoint !== undefined && line.instruction >= r.patchPoint ? 'after ' : 'before';
        out.push(`    [${mark}] ${line.stream === 'stderr' ? '(stderr) ' : ''}${line.text}`);
      }
    }
  }
  const findings = sortFindings(result.findings);
  for (const severity of ['error', 'warning', 'info'] as const) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    out.push('', `${HEADINGS[severity]} (${group.length}):`);
    for (const f of group) out.push(...findingLines(f));
  }
  out.push('', verdictLine(result));
  return out.join('\n') + '\n';
}

function describeSymbol(s: SymbolSummary): string {
  const name = s.demangled && s.demangled !== s.name ? `${s.demangled} [${s.name}]` : s.name;
  return `${name} at ${hex(s.address)}, ${plural(s.size, 'byte')}, in ${s.file}`;
}

function instructionLines(lines: readonly InstructionLine[]): string[] {
  return lines.map((l) => `    ${hex(l.address).padEnd(16)} ${hexBytes(l.bytes).padEnd(32)} ${l.text}`);
}

function findingLines(f: Finding): string[] {
  const at = f.address === undefined ? '' : ` at ${hex(f.address)}`;
  const lines = [`  ${f.code}${at}: ${f.message}`];
  for (const e of f.evidence) {
    const where = e.address === undefined ? '' : `${hex(e.address)}${e.location ? ` <${e.location}>` : ''}  `;
    const bytes = e.bytes ? `${hexBytes(e.bytes)}  ` : '';
    lines.push(`      ${e.label}: ${where}${bytes}${e.text ?? ''}`.trimEnd());
  }
  if (f.hint) lines.push(`      fix: ${f.hint}`);
  return lines;
}

function verdictLine(result: VerifyResult): string {
  if (result.verdict === 'error') return `verdict: COULD NOT VERIFY: ${result.error ?? 'unknown reason'}`;
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.filter((f) => f.severity === 'warning').length;
  return `verdict: ${result.verdict === 'safe' ? 'SAFE' : 'UNSAFE'} (${plural(errors, 'error')}, ${plural(warnings, 'warning')})`;
}
