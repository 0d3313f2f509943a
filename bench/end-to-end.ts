// verify-patch's own runs against the raw core on the same guest: the bench guests
// (bench/guests/: a compression loop, a benchmark kernel, a parser; 20M+ instructions each)
// verified end to end in this process (analysis, the run to the patch point, the patch, the
// observed run to the program's exit), and the same guest run from start to exit on the same
// engine with no verification (the loader and its libc stubs only). Both by CPU time; the ratio
// is what the verifier's observation costs. Included by bench/run.ts; not a test.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../src/engine/index.js';
import { EmulatedProcess } from '../src/loader/index.js';
import { parseCommandLine, runCommand } from '../src/verify/command.js';

const GUESTS_DIR = join(import.meta.dirname, 'guests');

export const GUESTS: { name: string; what: string }[] = [
  { name: 'compress', what: 'LZ77 compression, decompression and CRC-32 of generated text' },
  { name: 'kernel', what: 'CoreMark-like: matrix multiply, list merge sort, state machine, CRC-16' },
  { name: 'parser', what: 'recursive-descent parser evaluating generated expressions' },
];
const TARGET = 'report_round';
const REPLACEMENT = 'report_round_fixed';
const BUDGET = 2_000_000_000;

export interface EndToEndRow {
  guest: string;
  what: string;
  instructions: number;
  rawInstructions: number;
  rawCpuSeconds: number;
  verifyCpuSeconds: number;
  verdict: string;
  /** The same verification as a user runs it: the built CLI in a new node process each time (median). */
  fresh?: { instructions: number; cpuSeconds: number };
}

const CLI = join(import.meta.dirname, '..', 'dist', 'verify-patch.mjs');

/** Preloaded into each fresh process: prints its own CPU time (user + system, every thread) on stderr at exit. */
const CPU_REPORTER = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('__cpu_ms__ ' + ((u.user + u.system) / 1000) + '\\n'); });",
)}`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * verify-patch of a guest in `runs` new node processes of the built CLI (`npm run build`): what a
 * user's single verification costs, V8's compiles of the core and the block compiler's output
 * included, nothing reused from an earlier verification. Undefined when dist/ is not built.
 */
function runFresh(name: string, runs: number): { instructions: number; cpuSeconds: number } | undefined {
  if (!existsSync(CLI)) return undefined;
  const cpu: number[] = [];
  let instructions = 0;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(
      process.execPath,
      ['--import', CPU_REPORTER, CLI, join(GUESTS_DIR, name), join(GUESTS_DIR, 'patch.so'), TARGET, '--with', REPLACEMENT,
        '--max-insns', String(BUDGET), '--format', 'json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const reported = /__cpu_ms__ (\d+(?:\.\d+)?)/.exec(r.stderr);
    if (r.status !== 0 || !reported) throw new Error(`${name}: the fresh verify-patch exited ${r.status}: ${r.stderr}`);
    cpu.push(Number(reported[1]) / 1000);
    const report = JSON.parse(r.stdout) as { run?: { instructions?: number }; baseline?: { instructions?: number } };
    instructions = (report.run?.instructions ?? 0) + (report.baseline?.instructions ?? 0);
  }
  return { instructions, cpuSeconds: median(cpu) };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function read(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(GUESTS_DIR, name)));
}

/** The guest from start to exit on a fresh WasmEngine, nothing observed. */
async function runRaw(main: Uint8Array, name: string): Promise<{ instructions: number; cpuSeconds: number }> {
  const engine = await createEngine('wasm');
  try {
    const proc = EmulatedProcess.create(engine, { main, mainPath: `./${name}`, argv: [] });
    const t0 = process.cpuUsage();
    const stop = proc.run({ maxInstructions: BUDGET });
    const cpu = cpuSeconds(t0);
    if (stop.reason !== 'exited') throw new Error(`${name}: the raw run ended with ${stop.reason}, not an exit`);
    return { instructions: proc.instructions, cpuSeconds: cpu };
  } finally {
    engine.close();
  }
}

async function runVerify(name: string): Promise<{ instructions: number; cpuSeconds: number; verdict: string }> {
  const mainPath = join(GUESTS_DIR, name);
  const patchPath = join(GUESTS_DIR, 'patch.so');
  const request = parseCommandLine([mainPath, patchPath, TARGET, '--with', REPLACEMENT, '--max-insns', String(BUDGET)]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  const main = read(name);
  const patch = read('patch.so');
  const t0 = process.cpuUsage();
  const outcome = await runCommand(request.command, main, patch);
  const cpu = cpuSeconds(t0);
  // Everything the core executed: the patched run and the unpatched baseline from the patch point.
  const instructions = (outcome.result.run?.instructions ?? 0) + (outcome.result.baseline?.instructions ?? 0);
  return { instructions, cpuSeconds: cpu, verdict: outcome.result.verdict };
}

export interface RealProgramRow {
  guest: string;
  wasm: { instructions: number; cpuSeconds: number; wallSeconds: number };
  /** UnicornEngine through the same loader, on the guest's first instructions (it is ~30x slower). */
  unicorn?: { instructions: number; cpuSeconds: number; wallSeconds: number };
}

const UNICORN_SLICE = 3_000_000;

/** One bench guest through the loader on each engine, nothing observed: the raw core on a real program. */
export async function measureRealProgram(name: string, runs: number): Promise<RealProgramRow> {
  const main = read(name);
  const once = async (kind: 'wasm' | 'unicorn', budget: number): Promise<{ instructions: number; cpuSeconds: number; wallSeconds: number }> => {
    const engine = await createEngine(kind);
    try {
      const proc = EmulatedProcess.create(engine, { main, mainPath: `./${name}`, argv: [] });
      const t0 = process.cpuUsage();
      const w0 = performance.now();
      proc.run({ maxInstructions: budget });
      return { instructions: proc.instructions, cpuSeconds: cpuSeconds(t0), wallSeconds: (performance.now() - w0) / 1000 };
    } finally {
      engine.close();
    }
  };
  const best = async (kind: 'wasm' | 'unicorn', budget: number, n: number): Promise<{ instructions: number; cpuSeconds: number; wallSeconds: number }> => {
    const all = [];
    for (let i = 0; i < n; i++) all.push(await once(kind, budget));
    return { instructions: all[0]!.instructions, cpuSeconds: Math.min(...all.map((r) => r.cpuSeconds)), wallSeconds: Math.min(...all.map((r) => r.wallSeconds)) };
  };
  const row: RealProgramRow = { guest: name, wasm: await best('wasm', BUDGET, runs) };
  try {
    row.unicorn = await best('unicorn', UNICORN_SLICE, 1);
  } catch {
    // libunicorn missing: the row shows n/a
  }
  return row;
}

/** Best of `runs` for each side (the machine is shared: the least disturbed run). */
export async function measureEndToEnd(runs = 3): Promise<EndToEndRow[]> {
  const rows: EndToEndRow[] = [];
  await runVerify(GUESTS[0]!.name); // loads the modules and warms V8 up once, unmeasured
  for (const g of GUESTS) {
    const main = read(g.name);
    let raw = { instructions: 0, cpuSeconds: Infinity };
    let verify = { instructions: 0, cpuSeconds: Infinity, verdict: '' };
    for (let i = 0; i < runs; i++) {
      const r = await runRaw(main, g.name);
      if (r.cpuSeconds < raw.cpuSeconds) raw = r;
      const v = await runVerify(g.name);
      if (v.cpuSeconds < verify.cpuSeconds) verify = v;
    }
    rows.push({
      guest: g.name, what: g.what, instructions: verify.instructions, rawInstructions: raw.instructions,
      rawCpuSeconds: raw.cpuSeconds, verifyCpuSeconds: verify.cpuSeconds, verdict: verify.verdict,
      fresh: runFresh(g.name, runs),
    });
  }
  return rows;
}

/** Markdown lines for bench/results/latest.md. */
export function formatEndToEnd(rows: readonly EndToEndRow[], runs = 3): string[] {
  const mips = (n: number, s: number): number => n / s / 1e6;
  return [
    `verify-patch on the bench guests (bench/guests/, tool-driven, \`${TARGET}\` patched with \`${REPLACEMENT}\`), in this process, ` +
      `best of ${runs} by CPU time; the raw core runs the same guest from start to exit with nothing observed.`,
    '',
    '| guest | verify-patch instructions | verify-patch CPU | verify-patch MIPS | raw core MIPS | verify/raw | verdict | fresh process: CPU | fresh process: MIPS |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map((r) => {
      const v = mips(r.instructions, r.verifyCpuSeconds);
      const raw = mips(r.rawInstructions, r.rawCpuSeconds);
      const fresh = r.fresh ? `${r.fresh.cpuSeconds.toFixed(2)} s | ${mips(r.fresh.instructions, r.fresh.cpuSeconds).toFixed(1)}` : 'n/a (not built) | n/a';
      return `| ${r.guest} (${r.what}) | ${r.instructions} | ${r.verifyCpuSeconds.toFixed(2)} s | ${v.toFixed(1)} | ${raw.toFixed(1)} | ${((v / raw) * 100).toFixed(0)}% | ${r.verdict} | ${fresh} |`;
    }),
    '',
    'verify-patch CPU time covers everything the command does (ELF reading, analysis, the run to the patch point, the patch, ' +
      'the observed run to the exit, the unpatched baseline from the patch point). Its instructions are both runs\' (the baseline repeats the ' +
      'program after the patch point), so they exceed the raw run\'s. In this process the block compiler\'s modules are cached by the code ' +
      'they came from, so the best runs reuse what an earlier run compiled, as the raw runs do. The fresh-process columns are a user\'s single ' +
      `run: the built CLI in a new node process (median of ${runs}, CPU of every thread: node\'s start-up, V8 compiling the core and the ` +
      'block compiler\'s modules included).',
  ];
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const runs = Number(process.argv[2] ?? 3);
  console.log(formatEndToEnd(await measureEndToEnd(runs), runs).join('\n'));
}
