// End-to-end latency of verify-patch on seed-classic, tool-driven and program-driven:
// the median of N cold processes of the built CLI (dist/, `npm run build`; falls back to the
// TypeScript sources through tsx, and says so; warns when dist/ is older than src/), and the
// median of N in-process runs (the same command core, engine and modules already loaded).
// Run alone: node --import tsx bench/verify-latency.ts [N]; bench/run.ts (`npm run bench`)
// can import measureVerifyLatency and add its lines to its report.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, runCommand } from '../src/verify/command.js';

const ROOT = join(import.meta.dirname, '..');
const SEED = join(ROOT, 'corpus/seed-classic');
const BUILT_CLI = join(ROOT, 'dist/verify-patch.mjs');
const CASES: { name: string; args: string[] }[] = [
  { name: 'tool-driven', args: ['--with', 'fix_func'] },
  { name: 'program-driven', args: ['--signal', 'USR1'] },
];

/** Preloaded into each cold process: prints its own CPU time (user + system) on stderr at exit. */
const CPU_REPORTER = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('__cpu_ms__ ' + ((u.user + u.system) / 1000) + '\\n'); });",
)}`;

export interface LatencyRow {
  mode: string;
  coldMs: number;
  /** CPU time (user + system) of the cold process: what it costs, whatever the machine's load. */
  coldCpuMs: number;
  inProcessMs: number;
  guestInstructions: number;
}

export interface LatencyReport {
  runs: number;
  cli: string;
  /** Set when dist/ is older than the newest file under src/: the cold figures measure old code. */
  staleBuild: boolean;
  rows: LatencyRow[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export async function measureVerifyLatency(runs = 7): Promise<LatencyReport> {
  const built = existsSync(BUILT_CLI);
  const cli = built
    ? { label: 'built, bundled CLI (dist/verify-patch.mjs, the package bin)', argv: [BUILT_CLI] }
    : { label: 'CLI from sources via tsx (dist/ missing: run `npm run build` for the built figure)', argv: ['--import', 'tsx', join(ROOT, 'src/cli/verify-patch.ts')] };
  const staleBuild = built && statSync(BUILT_CLI).mtimeMs < newestMtime(join(ROOT, 'src'));
  const main = new Uint8Array(readFileSync(join(SEED, 'main')));
  const patch = new Uint8Array(readFileSync(join(SEED, 'patch.so')));
  const rows: LatencyRow[] = [];
  for (const c of CASES) {
    const positionals = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', ...c.args];
    const cold: number[] = [];
    const coldCpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--import', CPU_REPORTER, ...cli.argv, ...positionals], { encoding: 'utf8' });
      cold.push(performance.now() - t0);
      const cpu = /__cpu_ms__ (\d+(?:\.\d+)?)/.exec(r.stderr);
      if (!cpu) throw new Error(`verify-patch ${c.name}: no CPU time reported: ${r.stderr}`);
      coldCpu.push(Number(cpu[1]));
      if (r.status !== 0) throw new Error(`verify-patch ${c.name} exited ${r.status}: ${r.stderr}`);
    }
    const request = parseCommandLine(positionals);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const warm: number[] = [];
    let guestInstructions = 0;
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const outcome = await runCommand(request.command, main, patch);
      const elapsed = performance.now() - t0;
      if (i > 0) warm.push(elapsed); // the first run loads the wasm modules and the demangler
      if (outcome.exitCode !== 0) throw new Error(`${c.name}: verdict ${outcome.result.verdict}`);
      guestInstructions = outcome.result.run?.instructions ?? 0;
    }
    rows.push({ mode: c.name, coldMs: median(cold), coldCpuMs: median(coldCpu), inProcessMs: median(warm), guestInstructions });
  }
  return { runs, cli: cli.label, staleBuild, rows };
}

/** Markdown lines for bench/results/latest.md. */
export function formatVerifyLatency(report: LatencyReport): string[] {
  return [
    `verify-patch latency on seed-classic, median of ${report.runs} runs (cold: a new node process each; in-process: modules loaded)`,
    '',
    '| mode | cold process (wall) | cold process (CPU) | in-process | guest instructions |',
    '|---|---:|---:|---:|---:|',
    ...report.rows.map((r) => `| ${r.mode} | ${r.coldMs.toFixed(0)} ms | ${r.coldCpuMs.toFixed(0)} ms | ${r.inProcessMs.toFixed(1)} ms | ${r.guestInstructions} |`),
    '',
    `Cold runs use the ${report.cli}.${report.staleBuild ? ' WARNING: dist/ is older than src/: run `npm run build` first, the cold figures measure old code.' : ''}`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 7);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error(`runs must be a positive integer, not ${process.argv[2]}`);
  console.log(formatVerifyLatency(await measureVerifyLatency(runs)).join('\n'));
}
