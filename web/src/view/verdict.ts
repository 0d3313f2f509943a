// The answer first: verdict, then findings; each finding links to its evidence.

import type { Finding } from '../../../src/verify/finding.js';
import type { VerificationView } from '../protocol.js';
import { h, hex, hexBytes } from './dom.js';
import { processLine, renderProgramOutput } from './program-output.js';

const VERDICT_TEXT = { safe: 'SAFE', unsafe: 'UNSAFE', error: 'COULD NOT VERIFY' } as const;

export function renderVerdict(view: VerificationView, onJump: (address: bigint) => boolean): HTMLElement {
  const { result } = view;
  const target = result.target ? `${result.target.demangled ?? result.target.name} in ${result.target.file}` : '';
  const replacement = result.replacement ? ` → ${result.replacement.demangled ?? result.replacement.name} in ${result.replacement.file}` : '';
  const section = h(
    'section',
    { class: `verdict verdict-${result.verdict}`, id: 'verdict', 'aria-live': 'polite' },
    h('h2', {}, h('span', { class: 'verdict-word', 'data-verdict': result.verdict }, VERDICT_TEXT[result.verdict]), ' ', h('span', { class: 'verdict-what' }, target + replacement)),
    result.error ? h('p', { class: 'error-text', role: 'alert' }, `could not verify: ${result.error}`) : null,
    result.trampoline ? h('p', { class: 'muted' }, `trampoline ${result.trampoline.form}: ${result.trampoline.bytes.length} bytes at ${hex(result.trampoline.site)} → ${hex(result.trampoline.target)}`) : null,
    result.run ? h('p', { class: 'muted' }, `${result.run.mode}, ${result.run.instructions.toLocaleString('en')} instructions emulated (${result.run.engine}); ${result.run.ended}; verified in ${(view.elapsedMs / 1000).toFixed(2)} s`) : null,
    processLine(result),
    threadsLine(view),
  );
  if (result.verdict !== 'error') {
    section.append(
      result.findings.length === 0
        ? h('p', { class: 'no-findings' }, 'No findings.')
        : h('ol', { class: 'findings' }, ...result.findings.map((f, i) => renderFinding(f, i, onJump))),
    );
  }
  for (const note of view.notes) section.append(h('p', { class: 'note' }, `note: ${note}`));
  const output = renderProgramOutput(result);
  if (output) section.append(output);
  return section;
}

function renderFinding(finding: Finding, index: number, onJump: (address: bigint) => boolean): HTMLElement {
  const evidenceId = `finding-${index}-evidence`;
  const evidence = h(
    'ul',
    { class: 'evidence', id: evidenceId },
    ...finding.evidence.map((e) => {
      const item = h(
        'li',
        {},
        h('span', { class: 'evidence-label' }, e.label),
        e.location || e.address !== undefined ? h('code', {}, ` ${e.location ?? ''}${e.address !== undefined ? ` (${hex(e.address)})` : ''}`) : null,
        e.bytes ? h('code', { class: 'bytes' }, ` ${hexBytes(e.bytes)}`) : null,
        e.text ? h('code', {}, ` ${e.text}`) : null,
        e.source ? h('span', { class: 'source' }, ` ${e.source.file}:${e.source.line}`) : null,
      );
      if (e.address !== undefined) {
        const address = e.address;
        const jump = h('button', { type: 'button', class: 'link' }, 'show');
        jump.addEventListener('click', () => onJump(address));
        item.append(' ', jump);
      }
      return item;
    }),
  );
  const title = h('button', { type: 'button', class: 'finding-title', 'aria-describedby': evidenceId },
    h('span', { class: `severity severity-${finding.severity}` }, finding.severity),
    ' ', h('code', { class: 'finding-code' }, finding.code), ' ', finding.message);
  title.addEventListener('click', () => {
    const addresses = [finding.address, ...finding.evidence.map((e) => e.address)].filter((a): a is bigint => a !== undefined);
    if (!addresses.some((a) => onJump(a))) evidence.scrollIntoView({ block: 'nearest' });
  });
  return h('li', { class: `finding severity-${finding.severity}`, 'data-code': finding.code },
    title, finding.hint ? h('p', { class: 'hint' }, finding.hint) : null, evidence);
}

/** The schedule a threaded run had: the seed replays it (the permalink keeps it as seed=). */
function threadsLine(view: VerificationView): HTMLElement | null {
  const threads = view.result.run?.process?.threads;
  if (!threads || threads.threads < 2) return null;
  return h('p', { class: 'muted', id: 'schedule' },
    `${threads.threads} threads on one emulated CPU, schedule seed ${threads.seed} (${threads.switches.toLocaleString('en')} switches): the same seed replays this schedule exactly`);
}
