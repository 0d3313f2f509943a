// Text report for terminals, for a developer who has never seen the tool: the first screen
// says what was checked, the result, each problem in one line with where it is and what to
// do; then what was patched (bytes before and after), how the emulated run went, every
// finding with its evidence, and the verdict on the last line (CI logs end there).

import { sortFindings, type Finding, type Severity } from '../verify/finding.js';
import type { InstructionLine, ProgramWrite, RunSummary, SymbolSummary, VerifyResult } from '../verify/result.js';
import { formatSourceLine, type SourceLine } from '../elf/dwarf-line.js';
import { escapeTerminal } from './escape.js';
import { hex, hexBytes, plural } from './format.js';
import { explorationLines } from './exploration-text.js';

const HEADINGS: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
const LABEL = 12;

/** The report, every control character of guest-controlled text shown escaped (see escape.ts). */
export function renderText(result: VerifyResult): string {
  return escapeTerminal(renderLines(result));
}

function renderLines(result: VerifyResult): string {
  const out: string[] = [];
  if (result.verdict === 'error') {
    if (result.target) out.push(field('checking', describeSymbol(result.target)));
    out.push(`could not verify the patch: ${result.error ?? 'unknown reason'}`, '', verdictLine(result));
    return out.join('\n') + '\n';
  }
  out.push(...overview(result), '', ...summary(result));
  out.push('', 'What was patched', ...patched(result));
  if (result.run) out.push('', `How the emulated process ran (${result.run.mode}, ${result.run.engine} engine)`, ...runLines(result.run));
  if (result.baseline) {
    out.push(subfield('baseline', `the unpatched run from the same patch point: after ${result.baseline.instructions} more instructions, ${result.baseline.ended}`));
    if (result.baseline.firstDifference) out.push(subfield('output differs', result.baseline.firstDifference));
  }
  const findings = sortFindings(result.findings);
  for (const severity of ['error', 'warning', 'info'] as const) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    out.push('', `${HEADINGS[severity]} (${group.length}):`);
    for (const f of group) out.push(...findingLines(f));
  }
  if (result.exploration) out.push('', ...explorationLines(result.exploration));
  out.push('', verdictLine(result));
  return out.join('\n') + '\n';
}

function field(label: string, text: string): string {
  return `${label.padEnd(LABEL)} ${text}`;
}

function subfield(label: string, text: string): string {
  return `  ${field(label, text)}`;
}

/** " at 0x… <fn+0x6>": the address with the symbol+offset its evidence gives. */
function whereText(f: Finding): string {
  if (f.address === undefined) return '';
  const location = f.evidence.find((e) => e.address === f.address && e.location)?.location;
  return ` at ${hex(f.address)}${location ? ` <${location}>` : ''}${sourceText(f.source)}`;
}

/** " (file.c:12)" when DWARF line info named the address. */
function sourceText(source: SourceLine | undefined): string {
  return source ? ` (${formatSourceLine(source)})` : '';
}

function displayName(s: SymbolSummary): string {
  return s.demangled ?? s.name;
}

/** What the tool did, in two lines. */
function overview(result: VerifyResult): string[] {
  const target = result.target ? `${displayName(result.target)} in ${result.target.file}` : 'the target';
  const replacement = result.replacement ? `${displayName(result.replacement)} from ${result.replacement.file}` : 'its replacement';
  const slots = result.strategy === 'got' ? 'GOT slots' : result.strategy === 'vtable' ? 'vtable slots' : null;
  const how = result.run?.mode === 'program-driven'
    ? "at the patch point it delivered the signal and let main's own handler patch the emulated process"
    : slots
      ? `at the patch point the tool rewrote every ${slots.slice(0, -1)} holding the old function, as a careful patcher would (mprotect'ing read-only pages)`
      : 'at the patch point the tool wrote the trampoline into the emulated process, as a patcher would';
  const checked = slots ? `found the ${slots} that hold it in every loaded object` : "checked the bytes the patch overwrites against main's code";
  return [
    `verify-patch: ${slots ? `${result.strategy === 'got' ? 'GOT' : 'vtable'} patch` : 'hot patch'} of ${target} with ${replacement}`,
    `  ${checked}, then ran main: ${how}, and watched the rest of the run`,
  ];
}

/** The result and one line per error and warning, with where and the fix: the first screen. */
function summary(result: VerifyResult): string[] {
  const errors = result.findings.filter((f) => f.severity === 'error');
  const warnings = result.findings.filter((f) => f.severity === 'warning');
  const notes = result.findings.length - errors.length - warnings.length;
  const counts = [errors.length > 0 ? plural(errors.length, 'error') : '', warnings.length > 0 ? plural(warnings.length, 'warning') : ''].filter(Boolean).join(', ');
  const head = result.verdict === 'safe'
    ? `SAFE: ${counts === '' ? 'no problem found' : `${counts}, nothing that breaks the process`}`
    : `UNSAFE: ${counts}: do not apply this patch to a running process as it is`;
  const lines = [field('result', head)];
  for (const f of sortFindings([...errors, ...warnings])) {
    lines.push(`  ${f.severity === 'error' ? 'error  ' : 'warning'} ${f.code}${whereText(f)}`, `          ${f.message}`);
    if (f.hint) lines.push(`          fix: ${f.hint}`);
  }
  if (notes > 0) lines.push(`  (${plural(notes, 'note')} below: facts about the site, not problems)`);
  return lines;
}

function patched(result: VerifyResult): string[] {
  const out: string[] = [];
  if (result.target) out.push(subfield('target', describeSymbol(result.target)));
  if (result.replacement) out.push(subfield('replacement', describeSymbol(result.replacement)));
  const t = result.trampoline;
  if (result.strategy === 'got' || result.strategy === 'vtable') {
    out.push(...slotLines(result));
  } else if (t) {
    out.push(subfield('trampoline', `${t.form}, ${plural(t.bytes.length, 'byte')} at ${hex(t.site)} -> ${hex(t.target)}`));
    out.push('    original bytes (overwritten):', ...instructionLines(t.originalInstructions));
    out.push('    trampoline:', ...instructionLines(t.instructions));
  } else if (result.run?.mode === 'program-driven' && result.programWrites) {
    out.push(subfield('trampoline', nothingWrittenAtTarget(result.target, result.programWrites)));
  } else if (result.run) {
    out.push(subfield('trampoline', 'none was written'));
  }
  return out;
}

/** The slots a GOT or vtable patch changed: where, old target -> new target. */
function slotLines(result: VerifyResult): string[] {
  const writes = result.slotWrites ?? [];
  if (writes.length === 0) return result.run ? [subfield('slots', 'none was written')] : [];
  const out = [subfield('slots', `${plural(writes.length, 'slot')} written${writes.some((w) => !w.inTarget) ? `, ${writes.filter((w) => !w.inTarget).length} outside the target` : ''}`)];
  for (const w of writes) {
    out.push(`    ${hex(w.address)}  ${w.location}${w.inTarget ? '' : '  (OUTSIDE THE TARGET)'}`);
    out.push(`        ${hex(w.before)} <${w.beforeTarget}>  ->  ${hex(w.after)} <${w.afterTarget}>`);
  }
  return out;
}

function nothingWrittenAtTarget(target: SymbolSummary | undefined, writes: readonly ProgramWrite[]): string {
  const name = target ? `${displayName(target)} (${hex(target.address)})` : 'the target';
  const elsewhere = writes.filter((w) => !w.atTarget);
  if (elsewhere.length === 0) return `none: the program's handler never wrote to ${name}, nor to any other code`;
  const where = elsewhere.map((w) => `${plural(w.length, 'byte')} at ${hex(w.address)} <${w.location}>`).join(', ');
  return `none at the target: the program's handler never wrote to ${name}; it wrote ${where} instead`;
}

function runLines(r: RunSummary): string[] {
  const out: string[] = [];
  if (r.process) out.push(subfield('process', r.process.model === 'system' ? `system model: the real ld.so and ${r.process.libc}` : `stubs model: ${r.process.libc}`));
  if (r.process?.threads && r.process.threads.threads > 1) out.push(subfield('threads', `${r.process.threads.threads} (one CPU, ${r.process.threads.switches} switches), schedule seed ${r.process.threads.seed} (--seed ${r.process.threads.seed} replays it)`));
  if (r.schedules && r.schedules.tried > 1) {
    const s = r.schedules;
    const undecided = s.inconclusive ? `, ${s.inconclusive} could not be judged` : '';
    const failed = s.firstFailingSeed !== undefined ? `, ${s.failed} failed${undecided}; the first failing one: seed ${s.firstFailingSeed} (${s.replay})` : `, none failed${undecided}`;
    out.push(subfield('schedules', `${s.tried} replayed from the patch point (seeds ${s.seeds})${failed}`));
  }
  if (r.patchPoint !== undefined) out.push(subfield('patch point', `instruction ${r.patchPoint}${r.patchPointDescription ? `: ${r.patchPointDescription}` : ''}`));
  out.push(subfield('run ended', `after ${r.instructions} instructions${r.hostWork ? ` (and ${r.hostWork} charged for host work)` : ''}: ${r.endReason ?? r.ended}`));
  if (r.failedSyscalls) {
    const first = r.failedSyscalls.first.slice(0, 4).map((s) => `${s.name} = ${s.result}`).join(', ');
    out.push(subfield('syscalls', `${r.failedSyscalls.count} failed or refused (first: ${first})`));
  }
  if (r.output.length > 0) {
    out.push('    program output ([before]/[after] the patch point):');
    for (const line of r.output) {
      const mark = r.patchPoint !== undefined && line.instruction >= r.patchPoint ? 'after ' : 'before';
      out.push(`      [${mark}] ${line.stream === 'stderr' ? '(stderr) ' : ''}${line.text}`);
    }
  }
  return out;
}

function describeSymbol(s: SymbolSummary): string {
  const name = s.demangled && s.demangled !== s.name ? `${s.demangled} [${s.name}]` : s.name;
  return `${name} at ${hex(s.address)}, ${plural(s.size, 'byte')}, in ${s.file}${s.source ? ` (${formatSourceLine(s.source)})` : ''}`;
}

function instructionLines(lines: readonly InstructionLine[]): string[] {
  return lines.map((l) => `      ${hex(l.address).padEnd(16)} ${hexBytes(l.bytes).padEnd(32)} ${l.text}`);
}

function findingLines(f: Finding): string[] {
  const at = f.address === undefined ? '' : ` at ${hex(f.address)}`;
  const lines = [`  ${f.code}${at}: ${f.message}`];
  for (const e of f.evidence) {
    const where = e.address === undefined ? '' : `${hex(e.address)}${e.location ? ` <${e.location}>` : ''}${sourceText(e.source)}  `;
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
  const explored = result.exploration ? `; unsafe at ${result.exploration.unsafePoints} of ${result.exploration.points} explored points` : '';
  return `verdict: ${result.verdict === 'safe' ? 'SAFE' : 'UNSAFE'} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}${explored})`;
}
