// Markdown report for a pull-request comment (GitHub/GitLab flavoured): the verdict in the
// heading, one table row per finding with its source line when there is one, then the
// details (evidence, fix, the bytes before and after, the run) folded in <details>.

import { formatSourceLine, type SourceLine } from '../elf/dwarf-line.js';
import { sortFindings, type Finding } from '../verify/finding.js';
import type { InstructionLine, SymbolSummary, VerifyResult } from '../verify/result.js';
import { hex, hexBytes, plural } from './format.js';

/** Text for a table cell or a line: no line breaks, pipes escaped, HTML and Markdown specials neutralised. */
export function markdownText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd')
    .replace(/\r?\n/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

/** Inline code: a backtick run longer than any inside. */
function code(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${clean.replace(/\|/g, '\\|')}${longest > 0 ? ' ' : ''}${fence}`;
}

function where(address: bigint | undefined, location: string | undefined, source: SourceLine | undefined): string {
  const parts: string[] = [];
  if (source) parts.push(code(formatSourceLine(source)));
  if (address !== undefined) parts.push(code(`${hex(address)}${location ? ` <${location}>` : ''}`));
  return parts.join(' ');
}

function findingLocation(f: Finding): string | undefined {
  return f.evidence.find((e) => e.address === f.address && e.location)?.location;
}

function symbol(s: SymbolSummary): string {
  const name = s.demangled ?? s.name;
  return `${code(name)} in ${code(s.file)}${s.source ? ` (${code(formatSourceLine(s.source))})` : ''}`;
}

function listing(lines: readonly InstructionLine[]): string[] {
  return lines.map((l) => `${hex(l.address).padEnd(16)} ${hexBytes(l.bytes).padEnd(30)} ${l.text}`.replace(/```/g, "'''"));
}

const HEADLINE = { safe: 'SAFE', unsafe: 'UNSAFE', error: 'COULD NOT VERIFY' } as const;

export function renderMarkdown(result: VerifyResult): string {
  const out: string[] = [];
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.filter((f) => f.severity === 'warning').length;
  const what = result.target ? ` ${code(result.target.demangled ?? result.target.name)} in ${code(result.target.file)}` : '';
  out.push(`### verify-patch: **${HEADLINE[result.verdict]}**${what}`, '');
  if (result.verdict === 'error') {
    out.push(`Could not verify the patch: ${markdownText(result.error ?? 'unknown reason')}`, '', 'Exit code 2: treat the patch as unverified.');
    return out.join('\n') + '\n';
  }
  out.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(result.findings.length - errors - warnings, 'note')}. Exit code ${result.verdict === 'safe' ? 0 : 1}.`, '');
  const lines: string[] = [];
  if (result.target) lines.push(`- target: ${symbol(result.target)}`);
  if (result.replacement) lines.push(`- replacement: ${symbol(result.replacement)}`);
  if (result.trampoline) lines.push(`- trampoline: ${markdownText(result.trampoline.form)}, ${plural(result.trampoline.bytes.length, 'byte')} at ${code(hex(result.trampoline.site))}`);
  if (result.run) lines.push(`- run: ${result.run.mode}, ${result.run.engine} engine, ${result.run.instructions} instructions; ${markdownText(result.run.endReason ?? result.run.ended)}`);
  const schedules = result.run?.schedules;
  if (schedules && schedules.tried > 1) {
    const first = schedules.replay !== undefined ? `; first failing: seed ${schedules.firstFailingSeed}, replay with ${code(schedules.replay)}` : '';
    lines.push(`- schedules: ${schedules.tried} replayed from the patch point (seeds ${schedules.seeds}), ${schedules.failed} failed${first}`);
  }
  out.push(...lines, '');
  const findings = sortFindings(result.findings);
  if (findings.length > 0) {
    out.push('| severity | code | where | what |', '|---|---|---|---|');
    for (const f of findings) out.push(`| ${f.severity} | ${code(f.code)} | ${where(f.address, findingLocation(f), f.source)} | ${markdownText(f.message)} |`);
    out.push('');
    out.push('<details><summary>Evidence and fixes</summary>', '');
    for (const f of findings) {
      out.push(`**${code(f.code)}** (${f.severity}): ${markdownText(f.message)}`, '');
      for (const e of f.evidence) {
        const at = where(e.address, e.location, e.source);
        out.push(`- ${markdownText(e.label)}${at ? `: ${at}` : ''}${e.text ? ` ${markdownText(e.text)}` : ''}`);
      }
      if (f.hint) out.push(`- **fix:** ${markdownText(f.hint)}`);
      out.push('');
    }
    out.push('</details>', '');
  }
  if (result.trampoline) {
    out.push('<details><summary>Patch site: the overwritten bytes and the trampoline</summary>', '', '```', 'original (overwritten):', ...listing(result.trampoline.originalInstructions), 'trampoline:', ...listing(result.trampoline.instructions), '```', '', '</details>', '');
  }
  return out.join('\n') + '\n';
}
