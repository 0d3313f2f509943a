// HTML report: one self-contained file (inline CSS, no script, no external request) that CI
// keeps as an artifact: the verdict, the findings with evidence and source lines, the patch
// site (original bytes with the overwritten ones marked, the trampoline) and the run as a
// timeline of events (program output, the patch point, the end).

import { formatSourceLine, type SourceLine } from '../elf/dwarf-line.js';
import { sortFindings, type Finding, type Severity } from '../verify/finding.js';
import type { InstructionLine, RunSummary, SymbolSummary, TrampolineSummary, VerifyResult } from '../verify/result.js';
import type { Exploration } from '../verify/explore/types.js';
import { hex, hexBytes, plural } from './format.js';

/** Escapes text for HTML content and attribute values; control characters become U+FFFD. */
export function escapeHtml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;
const HEADLINE = { safe: 'SAFE', unsafe: 'UNSAFE', error: 'COULD NOT VERIFY' } as const;
const SEVERITY_TITLE: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };

const STYLE = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #5b636e; --line: #d0d7de; --err: #b42318; --warn: #9a6700; --ok: #1a7f37; --mark: #ffe2e0; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8b949e; --line: #30363d; --err: #ff7b72; --warn: #d29922; --ok: #3fb950; --mark: #4a1d1b; --code: #161b22; } }
body { font: 15px/1.5 system-ui, sans-serif; background: var(--bg); color: var(--fg); margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
.verdict { font-weight: 700; padding: .1rem .5rem; border-radius: 4px; color: #fff; }
.verdict.safe { background: var(--ok); } .verdict.unsafe { background: var(--err); } .verdict.error { background: var(--warn); }
.muted { color: var(--muted); } code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
pre { background: var(--code); padding: .75rem; overflow-x: auto; border-radius: 6px; }
.finding { border-left: 4px solid var(--line); padding: .25rem .75rem; margin: .75rem 0; }
.finding.error { border-color: var(--err); } .finding.warning { border-color: var(--warn); }
.finding h3 { font-size: 1rem; margin: .25rem 0; } .finding ul { margin: .25rem 0; padding-left: 1.25rem; }
table { border-collapse: collapse; } td, th { text-align: left; padding: .15rem .6rem .15rem 0; vertical-align: top; }
.bytes span { padding: 0 1px; } .bytes .over { background: var(--mark); outline: 1px solid var(--err); }
ol.timeline { list-style: none; padding-left: 0; border-left: 2px solid var(--line); }
ol.timeline li { padding: .1rem .75rem; position: relative; } ol.timeline li::before { content: ''; position: absolute; left: -6px; top: .6rem; width: 10px; height: 10px; border-radius: 50%; background: var(--line); }
ol.timeline li.patch::before { background: var(--err); } ol.timeline li.patch { font-weight: 600; }
ol.timeline .n { display: inline-block; min-width: 7rem; color: var(--muted); }
`;

function source(s: SourceLine | undefined): string {
  return s ? ` <span class="source mono">${e(formatSourceLine(s))}</span>` : '';
}

function address(a: bigint | undefined, location?: string): string {
  if (a === undefined) return '';
  return `<code>${e(hex(a))}</code>${location ? ` <code>&lt;${e(location)}&gt;</code>` : ''}`;
}

function symbol(s: SymbolSummary): string {
  const name = s.demangled && s.demangled !== s.name ? `${s.demangled} [${s.name}]` : s.name;
  return `<code>${e(name)}</code> at <code>${e(hex(s.address))}</code>, ${plural(s.size, 'byte')}, in <code>${e(s.file)}</code>${source(s.source)}`;
}

function findingHtml(f: Finding): string {
  const at = f.evidence.find((x) => x.address === f.address && x.location)?.location;
  const evidence = f.evidence.map((x) => {
    const bytes = x.bytes ? ` <code>${e(hexBytes(x.bytes))}</code>` : '';
    return `<li>${e(x.label)}: ${address(x.address, x.location)}${source(x.source)}${bytes} ${x.text ? e(x.text) : ''}</li>`;
  });
  return `<section class="finding ${f.severity}" id="finding-${e(f.code)}">
<h3><code>${e(f.code)}</code> <span class="muted">${f.severity}</span> ${address(f.address, at)}${source(f.source)}</h3>
<p>${e(f.message)}</p>
${evidence.length > 0 ? `<ul>${evidence.join('\n')}</ul>` : ''}
${f.hint ? `<p><strong>Fix:</strong> ${e(f.hint)}</p>` : ''}
</section>`;
}

/** The original bytes, the overwritten ones marked, with their instructions; then the trampoline. */
function patchSite(t: TrampolineSummary): string {
  const overwritten = t.bytes.length;
  const original = [...t.originalBytes].map((b, i) => `<span class="${i < overwritten ? 'over' : ''}">${b.toString(16).padStart(2, '0')}</span>`).join(' ');
  const rows = (lines: readonly InstructionLine[], mark: boolean): string =>
    lines
      .map((l) => {
        const offset = Number(l.address - t.site);
        const touched = mark && offset < overwritten;
        return `<tr${touched ? ' class="touched"' : ''}><td class="mono">${e(hex(l.address))}</td><td class="mono">${e(hexBytes(l.bytes))}</td><td class="mono">${e(l.text)}</td><td class="muted">${touched ? (offset + l.bytes.length > overwritten ? 'partly overwritten' : 'overwritten') : ''}</td></tr>`;
      })
      .join('\n');
  return `<p>${e(t.form)}: ${plural(overwritten, 'byte')} at <code>${e(hex(t.site))}</code> &rarr; <code>${e(hex(t.target))}</code></p>
<p class="bytes mono" title="original bytes; the overwritten ones marked">${original}</p>
<h3>Original instructions</h3><table>${rows(t.originalInstructions, true)}</table>
<h3>Trampoline</h3><table>${rows(t.instructions, false)}</table>`;
}

function timeline(run: RunSummary): string {
  const events: { at: number; cls: string; html: string }[] = [{ at: 0, cls: '', html: 'the program starts' }];
  for (const line of run.output) events.push({ at: line.instruction, cls: 'output', html: `${line.stream === 'stderr' ? '<span class="muted">stderr</span> ' : ''}<code>${e(line.text)}</code>` });
  if (run.patchPoint !== undefined) {
    const what = run.mode === 'program-driven' ? 'the signal is delivered; the program patches itself' : 'the tool writes the trampoline';
    events.push({ at: run.patchPoint, cls: 'patch', html: `patch point: ${what}${run.patchPointDescription ? ` (${e(run.patchPointDescription)})` : ''}` });
  }
  events.push({ at: run.instructions, cls: 'end', html: `the run ends: ${e(run.endReason ?? run.ended)}` });
  // Stable: the patch point comes before output written at the same instruction count.
  events.sort((a, b) => a.at - b.at || (a.cls === 'patch' ? -1 : b.cls === 'patch' ? 1 : 0));
  const s = run.schedules;
  const schedules = s && s.tried > 1
    ? `<p>${s.tried} schedules replayed from the patch point (seeds ${e(s.seeds)}), ${s.failed} failed${s.replay !== undefined ? `; the first failing one, seed ${e(s.firstFailingSeed ?? '')}: <code>${e(s.replay)}</code>` : ''}.</p>\n`
    : '';
  return `<p>${e(run.mode)}, ${e(run.engine)} engine, ${run.instructions} instructions.</p>
${schedules}<ol class="timeline">${events.map((x) => `<li class="${x.cls}"><span class="n">insn ${x.at}</span> ${x.html}</li>`).join('\n')}</ol>`;
}

/**
 * The exploration as a map over instruction counts: the explored window as a bar with its unsafe
 * windows shaded (inline SVG, no script), then one row per window with its reproducing command.
 */
function explorationMap(x: Exploration): string {
  const span = Math.max(1, x.to - x.from + 1);
  const left = (n: number): number => ((n - x.from) / span) * 1000;
  const shaded = x.windows
    .map((w) => `<rect x="${left(w.from).toFixed(1)}" y="0" width="${Math.max(2, left(w.to + 1) - left(w.from)).toFixed(1)}" height="24" fill="#c62828"><title>${e(`insn ${w.from}-${w.to}: ${w.codes.join(', ')}`)}</title></rect>`)
    .join('');
  const share = x.points > 0 ? ((100 * x.unsafePoints) / x.points).toFixed(1) : '0.0';
  const rows = x.windows
    .map((w) => `<tr><td>${w.from}-${w.to}</td><td>${w.points}</td><td>${w.codes.map((c) => `<code>${e(c)}</code>`).join(' ')}</td><td>${e(w.doing)}</td><td><code>${e(w.reproduce ?? `--patch-at ${w.example}`)}</code></td></tr>`)
    .join('\n');
  return `<p>Patched at ${x.points} instruction boundaries from ${x.from} to ${x.to} (stride ${x.stride}, ${e(x.method)}): unsafe at ${x.unsafePoints} (${share}% of the points).</p>
<svg viewBox="0 0 1000 24" width="100%" height="24" role="img" aria-label="explored window, unsafe windows shaded"><rect x="0" y="0" width="1000" height="24" fill="#2e7d32"/>${shaded}</svg>
${x.windows.length > 0 ? `<table><tr><th>instructions</th><th>points</th><th>codes</th><th>the program was</th><th>reproduce</th></tr>\n${rows}</table>` : '<p>No unsafe moment in the window.</p>'}`;
}

export function renderHtml(result: VerifyResult, tool: { name: string; version: string }): string {
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.filter((f) => f.severity === 'warning').length;
  const title = `${tool.name}: ${HEADLINE[result.verdict]}${result.target ? ` — ${result.target.demangled ?? result.target.name} in ${result.target.file}` : ''}`;
  const body: string[] = [];
  body.push(`<h1><span class="verdict ${result.verdict}">${HEADLINE[result.verdict]}</span> ${result.target ? `hot patch of <code>${e(result.target.demangled ?? result.target.name)}</code>` : 'hot patch'}</h1>`);
  if (result.verdict === 'error') {
    body.push(`<p>Could not verify the patch: ${e(result.error ?? 'unknown reason')}</p>`);
  } else {
    body.push(`<p>${plural(errors, 'error')}, ${plural(warnings, 'warning')}. ${result.verdict === 'safe' ? 'Nothing found that breaks the process.' : 'Do not apply this patch to a running process as it is.'}</p>`);
  }
  const facts: string[] = [];
  if (result.target) facts.push(`<tr><th>target</th><td>${symbol(result.target)}</td></tr>`);
  if (result.replacement) facts.push(`<tr><th>replacement</th><td>${symbol(result.replacement)}</td></tr>`);
  if (facts.length > 0) body.push(`<table>${facts.join('\n')}</table>`);
  const findings = sortFindings(result.findings);
  for (const severity of ['error', 'warning', 'info'] as const) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length > 0) body.push(`<h2>${SEVERITY_TITLE[severity]} (${group.length})</h2>`, ...group.map(findingHtml));
  }
  if (result.trampoline) body.push('<h2>Patch site</h2>', patchSite(result.trampoline));
  else if (result.programWrites && result.programWrites.length > 0) {
    body.push('<h2>Patch site</h2>', `<p>The program's handler wrote nothing at the target; it wrote:</p><ul>${result.programWrites.map((w) => `<li>${plural(w.length, 'byte')} at ${address(w.address, w.location)}</li>`).join('')}</ul>`);
  }
  if (result.run) body.push('<h2>The emulated run</h2>', timeline(result.run));
  if (result.exploration) body.push('<h2>Every moment: the exploration</h2>', explorationMap(result.exploration));
  body.push(`<p class="muted">${e(tool.name)} ${e(tool.version)}</p>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
