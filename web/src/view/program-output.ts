// What the emulated program printed (the verifier's run: before and after the patch point),
// and which process model and libc ran it, in the command line's words.

import type { VerifyResult } from '../../../src/verify/result.js';
import { h } from './dom.js';

/** The report's "process" line: "system model: the real ld.so and glibc 2.36 (...)". */
export function processLine(result: VerifyResult): HTMLElement | null {
  const p = result.run?.process;
  if (!p) return null;
  const text = p.model === 'system' ? `system model: the real ld.so and ${p.libc}` : `stubs model: ${p.libc}`;
  return h('p', { class: 'muted', id: 'process-used', 'data-model': p.model }, `process: ${text}`);
}

export function renderProgramOutput(result: VerifyResult): HTMLElement | null {
  const run = result.run;
  if (!run) return null;
  const stdout = run.output.filter((l) => l.stream === 'stdout').map((l) => l.text);
  const stderr = run.output.filter((l) => l.stream === 'stderr').map((l) => l.text);
  const lines = (n: number): string => `${n} line${n === 1 ? '' : 's'}`;
  return h('details', { class: 'program-output', id: 'program-output', open: true },
    h('summary', {}, `Program output: ${lines(stdout.length)} on stdout${stderr.length > 0 ? `, ${lines(stderr.length)} on stderr` : ''}`),
    h('pre', { id: 'program-stdout', 'aria-label': 'standard output of the emulated program' }, stdout.join('\n')),
    stderr.length > 0 ? h('pre', { id: 'program-stderr', 'aria-label': 'standard error of the emulated program' }, stderr.join('\n')) : null);
}
