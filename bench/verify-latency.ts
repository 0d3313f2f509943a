// End-to-end latency of verify-patch on seed-classic, tool-driven and program-driven, on each
// process model (system: the CLI's default, the real ld.so and glibc from /; stubs): the median
// of N cold processes of the built CLI (dist/, `npm run build`; falls back to the
// TypeScript sources through tsx, and says so; warns when dist/ is older than src/), and the
// median of N in-process runs (the same command core, engine and modules already loaded).
// The reference, measured in the same run: a cold `node -e 0`, Node's own start-up. Where the
// environment sets NODE_EXTRA_CA_CERTS, Node parses that CA bundle at start-up, before any of
// the tool's code (70 ms of CPU for the 144 certificates of Debian's bundle, on every process):
// the cold runs are then measured a second time without it, and both are printed.
// Run alone: node --import tsx bench/verify-latency.ts [N]; bench/run.ts (`npm run bench`)
// can import measureVerifyLatency and add its lines to its report.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { buildVfs, directoryFiles, hasDynamicLoader } from '../src/cli/sysroot.js';
import { parseCommandLine, runCommand } from '../src/verify/command.js';
import type { ProcessChoice } from '../src/verify/input.js';

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

const MODELS = ['system', 'stubs'] as const;

export interface LatencyRow {
  mode: string;
  model: (typeof MODELS)[number];
  coldMs: number;
  /** CPU time (user + system) of the cold process: what it costs, whatever the machine's load. */
  coldCpuMs: number;
  /** The same cold runs with NODE_EXTRA_CA_CERTS unset, when the environment sets it. */
  withoutExtraCerts?: { coldMs: number; coldCpuMs: number };
  inProcessMs: number;
  guestInstructions: number;
}

/** A cold `node -e 0` in the same environment (and without NODE_EXTRA_CA_CERTS when it is set). */
export interface NodeStartup {
  coldMs: number;
  coldCpuMs: number;
  withoutExtraCerts?: { coldMs: number; coldCpuMs: number };
}

export interface LatencyReport {
  runs: number;
  cli: string;
  /** Set when dist/ is older than the newest file under src/: the cold figures measure old code. */
  staleBuild: boolean;
  rows: LatencyRow[];
  node: NodeStartup;
  /** Whether the environment sets NODE_EXTRA_CA_CERTS (Node then parses it at every start-up). */
  extraCerts: boolean;
  /** 1- and 5-minute load averages when the cold runs started and ended. */
  load: { start: number[]; end: number[] };
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

/** Median wall and CPU time of `runs` fresh processes of `argv`, in `env`; throws unless each exits 0. */
function coldRuns(argv: string[], env: NodeJS.ProcessEnv, runs: number, what: string): { coldMs: number; coldCpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', CPU_REPORTER, ...argv], { encoding: 'utf8', env });
    wall.push(performance.now() - t0);
    const reported = /__cpu_ms__ (\d+(?:\.\d+)?)/.exec(r.stderr);
    if (!reported) throw new Error(`${what}: no CPU time reported: ${r.stderr}`);
    cpu.push(Number(reported[1]));
    if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`);
  }
  return { coldMs: median(wall), coldCpuMs: median(cpu) };
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
  const loadStart = loadavg().slice(0, 2);
  const extraCerts = Boolean(process.env['NODE_EXTRA_CA_CERTS']);
  const withoutCerts: NodeJS.ProcessEnv = { ...process.env };
  delete withoutCerts['NODE_EXTRA_CA_CERTS'];
  const node: NodeStartup = coldRuns(['-e', '0'], process.env, runs, 'node -e 0');
  if (extraCerts) node.withoutExtraCerts = coldRuns(['-e', '0'], withoutCerts, runs, 'node -e 0');
  // The system model as the CLI sets it up: / as the sysroot, main's directory as the working directory.
  const systemHost = (): { process: ProcessChoice } => ({ process: { model: 'system', sysroot: '/', vfs: () => buildVfs('/', directoryFiles(SEED)) } });
  for (const model of MODELS) for (const c of CASES) {
    if (model === 'system' && !hasDynamicLoader('/')) continue;
    const positionals = [join(SEED, 'main'), join(SEED, 'patch.so'), 'need_fix_func', ...c.args, '--process', model];
    const what = `verify-patch ${c.name} (${model})`;
    const cold = coldRuns([...cli.argv, ...positionals], process.env, runs, what);
    const withoutExtraCerts = extraCerts ? coldRuns([...cli.argv, ...positionals], withoutCerts, runs, what) : undefined;
    const request = parseCommandLine(positionals);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const warm: number[] = [];
    let guestInstructions = 0;
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const outcome = await runCommand(request.command, main, patch, undefined, undefined, model === 'system' ? systemHost() : undefined);
      const elapsed = performance.now() - t0;
      if (i > 0) warm.push(elapsed); // the first run loads the wasm modules and the demangler
      if (outcome.exitCode !== 0) throw new Error(`${c.name} (${model}): verdict ${outcome.result.verdict}`);
      guestInstructions = outcome.result.run?.instructions ?? 0;
    }
    rows.push({ mode: c.name, model, ...cold, ...(withoutExtraCerts ? { withoutExtraCerts } : {}), inProcessMs: median(warm), guestInstructions });
  }
  return { runs, cli: cli.label, staleBuild, rows, node, extraCerts, load: { start: loadStart, end: loadavg().slice(0, 2) } };
}

/** Markdown lines for bench/results/latest.md. */
export function formatVerifyLatency(report: LatencyReport): string[] {
  const load = (l: number[]): string => `${l[0]!.toFixed(1)} (1 min) / ${l[1]!.toFixed(1)} (5 min)`;
  const modelName = { system: 'system (the default: real ld.so + glibc from /)', stubs: 'stubs' };
  const ms = (v: number): string => `${v.toFixed(0)} ms`;
  const certs = report.extraCerts;
  const certColumns = (c: { withoutExtraCerts?: { coldMs: number; coldCpuMs: number } }): string =>
    certs ? ` ${c.withoutExtraCerts ? ms(c.withoutExtraCerts.coldMs) : '-'} | ${c.withoutExtraCerts ? ms(c.withoutExtraCerts.coldCpuMs) : '-'} |` : '';
  return [
    `verify-patch latency on seed-classic, median of ${report.runs} runs (cold: a new node process each; in-process: modules loaded), ` +
      `on each process model; load average ${load(report.load.start)} before the cold runs, ${load(report.load.end)} after. Target: < 300 ms wall, cold.`,
    '',
    `| mode | process model | cold process (wall) | cold process (CPU) |${certs ? ' cold, no NODE_EXTRA_CA_CERTS (wall) | (CPU) |' : ''} in-process | guest instructions |`,
    `|---|---|---:|---:|${certs ? '---:|---:|' : ''}---:|---:|`,
    `| reference: \`node -e 0\` | - | ${ms(report.node.coldMs)} | ${ms(report.node.coldCpuMs)} |${certColumns(report.node)} - | - |`,
    ...report.rows.map((r) => `| ${r.mode} | ${modelName[r.model]} | ${ms(r.coldMs)} | ${ms(r.coldCpuMs)} |${certColumns(r)} ${r.inProcessMs.toFixed(1)} ms | ${r.guestInstructions} |`),
    '',
    ...(certs
      ? [
        'This environment sets NODE_EXTRA_CA_CERTS: Node parses that certificate bundle at every start-up, before any JavaScript ' +
          '(the reference row shows what it costs Node itself); verify-patch makes no network connection and needs none of it, ' +
          'so the cold runs are measured without it too.',
        '',
      ]
      : []),
    `Cold runs use the ${report.cli}, compiled from its V8 code cache (written at build time next to the bundle). ` +
      'CPU is the cold process\'s user + system time, its background threads (GC, wasm compilation) included: on an idle machine the wall time is below it.' +
      (report.staleBuild ? ' WARNING: dist/ is older than src/: run `npm run build` first, the cold figures measure old code.' : ''),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 7);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error(`runs must be a positive integer, not ${process.argv[2]}`);
  console.log(formatVerifyLatency(await measureVerifyLatency(runs)).join('\n'));
}
