// npm run fuzz -- --seed S --count N [--case-timeout SECONDS] [--replay CASE_SEED]
// Runs the in-process fuzzer (scripts/fuzz/fuzzer.ts) and prints the outcome counts, the
// slowest case, peak memory and every bug with the case seed that replays it. Exit 1 on a bug.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { initDemangler } from '../src/elf/index.js';
import { loadTargets, runCase, runFuzz, type FuzzCase } from './fuzz/fuzzer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`fuzz: --${name} wants a number\n`);
    process.exit(2);
  }
  return value;
}

function show(c: FuzzCase): string {
  return `case ${c.index} (replay: --replay ${c.seed}) ${c.ms} ms ${c.outcome}\n  ${c.description}${c.message ? `\n  ${c.message}` : ''}`;
}

await initDemangler();
const caseTimeout = option('case-timeout', 10);
const replay = option('replay', -1);
if (replay >= 0) {
  const c = await runCase(replay, 0, loadTargets(root), caseTimeout);
  process.stdout.write(`${show(c)}\n`);
  process.exit(c.outcome.startsWith('bug') ? 1 : 0);
}
const seed = option('seed', 1);
const count = option('count', 1000);
const report = await runFuzz({
  seed, count, root, caseTimeoutSeconds: caseTimeout,
  onCase: (c, i) => {
    if (c.outcome.startsWith('bug')) process.stdout.write(`BUG ${show(c)}\n`);
    if ((i + 1) % 500 === 0) process.stderr.write(`fuzz: ${i + 1}/${count} cases\n`);
  },
});
const outcomes = Object.entries(report.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${String(v).padStart(7)}  ${k}`).join('\n');
process.stdout.write(`fuzz: seed ${seed}, ${report.cases} cases in ${(report.totalMs / 1000).toFixed(1)} s, peak RSS ${report.peakRssMb} MB\n${outcomes}\n`);
if (report.slowest) process.stdout.write(`slowest: ${show(report.slowest)}\n`);
process.stdout.write(report.bugs.length === 0 ? 'no bugs\n' : `${report.bugs.length} bug(s)\n`);
process.exit(report.bugs.length === 0 ? 0 : 1);
