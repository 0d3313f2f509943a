// End-to-end latency of verify-patch on seed-classic, tool-driven and program-driven:
// the median of N cold processes of the built CLI (dist/, `npm run build`; falls back to the
// TypeScript sources through tsx, and says so), and the median of N in-process runs
// (the same command core, engine and modules already loaded).
// Run: node --import tsx bench/verify-latency.ts [N]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseCommandLine, runCommand } from '../src/verify/command.js';

const ROOT = join(import.meta.dirname, '..');
const SEED = join(ROOT, 'corpus/seed-classic');
const N = Number(process.argv[2] ?? 7);
const CASES: { name: string; args: string[] }[] = [
  { name: 'tool-driven', args: ['--with', 'fix_func'] },
  { name: 'program-driven', args: ['--signal', 'USR1'] },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const built = join(ROOT, 'dist/cli/verify-patch.js');
const cli = existsSync(built)
  ? { label: 'built CLI (dist/cli/verify-patch.js)', argv: [built] }
  : { label: 'CLI from sources via tsx (dist/ missing: run `npm run build` for the built figure)', argv: ['--import', 'tsx', join(ROOT, 'src/cli/verify-patch.ts')] };

const main = new Uint8Array(readFileSync(join(SEED, 'main')));
const patch = new Uint8Array(readFileSync(join(SEED, 'patch.so')));

console.log(`verify-patch latency on seed-classic, median of ${N} runs`);
for (const c of CASES) {
  const positionals = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', ...c.args];
  const cold: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...cli.argv, ...positionals], { encoding: 'utf8' });
    cold.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`verify-patch exited ${r.status}: ${r.stderr}`);
  }
  const request = parseCommandLine(positionals);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  const warm: number[] = [];
  let instructions = 0;
  for (let i = 0; i < N + 1; i++) {
    const t0 = performance.now();
    const outcome = await runCommand(request.command, main, patch);
    const elapsed = performance.now() - t0;
    if (i > 0) warm.push(elapsed); // the first run loads the wasm modules and the demangler
    if (outcome.exitCode !== 0) throw new Error(`verdict ${outcome.result.verdict}`);
    instructions = outcome.result.run?.instructions ?? 0;
  }
  console.log(`  ${c.name.padEnd(15)} cold process: ${median(cold).toFixed(0).padStart(5)} ms   in-process: ${median(warm).toFixed(1).padStart(6)} ms   (${instructions} guest instructions)`);
}
console.log(`  cold runs use the ${cli.label}`);
