// Scheduler overhead of emulated threads (system model, WasmEngine): one CPU-bound guest
// (bench/guests/threads: three pthread workers, the same loop each, no lock or system call in it)
// run from main on with a thread switch every few thousand instructions (the default quantum,
// seeded jitter), switched inside the engine (the default) and by the host every quantum, against
// switches only where a thread blocks (a quantum longer than the run), and single-threaded
// ("serial": main runs the three loops itself). Start-up (ld.so, glibc) runs before the clock.
// The machine is shared, so the configurations run interleaved: each round starts one process
// per configuration and runs them in turn, SLICE instructions at a time (the order rotating),
// each slice timed by this process's CPU time. A slice is compared with the blocking-only
// slice run next to it (the same load): the overhead is the median of those ratios over every
// slice of every round, and the per-switch cost in µs comes from the totals.
// Included by bench/run.ts; alone: node --import tsx bench/threads.ts [rounds]
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { buildVfs, GUEST_CWD } from '../src/cli/sysroot.js';
import { ElfFile } from '../src/elf/index.js';
import { createEngine } from '../src/engine/index.js';
import type { Engine } from '../src/engine/index.js';
import { DEFAULT_QUANTUM, SystemProcess } from '../src/loader/system/index.js';

const GUEST = new URL('./guests/threads', import.meta.url);
const ROUNDS = 7;
/** Instructions per timed slice (~3 ms of guest work: many pairs, each close in time). */
const SLICE = 250_000;
const NEVER = 1_000_000_000;
/** The reference every slice is compared with (CONFIGS index). */
const REFERENCE = 2;
/** A short quantum: switches frequent enough that their cost stands out of the machine's noise. */
const SHORT_QUANTUM = 100;
const SHORT = 4;

interface Config {
  name: string;
  quantum: number;
  argv: string[];
  threadSwitch: 'engine' | 'host';
}

const CONFIGS: Config[] = [
  { name: `3 threads, a switch every ~${DEFAULT_QUANTUM} instructions (quantum ${DEFAULT_QUANTUM / 2}..${DEFAULT_QUANTUM * 1.5}, seeded), switched in the engine`, quantum: DEFAULT_QUANTUM, argv: [], threadSwitch: 'engine' },
  { name: '3 threads, the same schedule, switched by the host every quantum', quantum: DEFAULT_QUANTUM, argv: [], threadSwitch: 'host' },
  { name: '3 threads, switches only where a thread blocks', quantum: NEVER, argv: [], threadSwitch: 'engine' },
  { name: '1 thread, the same three loops in turn', quantum: NEVER, argv: ['serial'], threadSwitch: 'engine' },
  { name: `3 threads, a switch every ~${SHORT_QUANTUM} instructions, switched in the engine (the cost of a switch)`, quantum: SHORT_QUANTUM, argv: [], threadSwitch: 'engine' },
];

export interface ThreadsRow {
  config: string;
  /** From main's first instruction to exit. */
  instructions: number;
  switches: number;
  /** Of those, made inside the engine (no return to the host). */
  engineSwitches: number;
  /** The round's CPU time, the least of the rounds. */
  cpuMillis: number;
}

interface Running {
  engine: Engine;
  process: SystemProcess;
  atMain: number;
  switchesAtMain: number;
  engineSwitchesAtMain: number;
  cpuMicros: number;
  /** CPU µs per slice, in slice order. */
  slices: number[];
  done: boolean;
}

async function startAtMain(bytes: Uint8Array, main: bigint, c: Config): Promise<Running> {
  const engine = await createEngine('wasm');
  const vfs = buildVfs('/', [{ guest: 'threads', bytes }]);
  const p = SystemProcess.create(engine, { vfs, executable: './threads', argv: c.argv, cwd: GUEST_CWD, quantum: c.quantum, threadSwitch: c.threadSwitch });
  const toMain = p.run({ maxInstructions: 50_000_000, until: main });
  if (toMain.reason !== 'until') throw new Error(`the guest did not reach main: ${toMain.reason}`);
  return { engine, process: p, atMain: p.instructions, switchesAtMain: p.threads.switches, engineSwitchesAtMain: p.threads.engineSwitches, cpuMicros: 0, slices: [], done: false };
}

/** Runs one slice of a configuration, timed; whether it is still running. */
function slice(r: Running): void {
  const cpu0 = process.cpuUsage();
  const stop = r.process.run({ maxInstructions: SLICE });
  const cpu = process.cpuUsage(cpu0);
  const micros = cpu.user + cpu.system;
  r.cpuMicros += micros;
  r.slices.push(micros);
  if (stop.reason === 'budget') return;
  if (stop.reason !== 'exited') throw new Error(`the guest did not exit: ${stop.reason}`);
  if (!/^total \d+\n$/.test(r.process.stdoutText(1))) throw new Error(`unexpected output ${JSON.stringify(r.process.stdoutText(1))}`);
  r.done = true;
}

export interface ThreadsMeasurement {
  /** Per configuration (CONFIGS order): counts and the least round CPU time. */
  rows: ThreadsRow[];
  /** Per configuration, every slice's CPU time against the reference slice run next to it (full slices only). */
  ratios: number[][];
  /** Per configuration, total CPU ms over all rounds. */
  totals: number[];
  rounds: number;
  load: [string, string];
}

export async function measureThreads(rounds = ROUNDS): Promise<ThreadsMeasurement> {
  const load0 = loadavg().map((l) => l.toFixed(1)).join(' ');
  const bytes = new Uint8Array(readFileSync(GUEST));
  const elf = ElfFile.parse(bytes);
  const mainSymbol = elf.symbols.find((s) => s.name === 'main');
  if (!mainSymbol) throw new Error('bench/guests/threads has no main symbol');
  // SystemProcess maps the PIE at the kernel's fixed base.
  const probe = await createEngine('wasm');
  let base: bigint;
  try {
    base = SystemProcess.create(probe, { vfs: buildVfs('/', [{ guest: 'threads', bytes }]), executable: './threads', cwd: GUEST_CWD }).image.main.base;
  } finally {
    probe.close();
  }
  const main = base + mainSymbol.value;
  const rows: ThreadsRow[] = CONFIGS.map((c) => ({ config: c.name, instructions: 0, switches: 0, engineSwitches: 0, cpuMillis: Infinity }));
  const ratios: number[][] = CONFIGS.map(() => []);
  const totals = CONFIGS.map(() => 0);
  for (let round = -1; round < rounds; round++) {
    // Round -1 warms up (V8's optimised code for the core and the loader), unmeasured.
    const running: Running[] = [];
    for (const c of CONFIGS) running.push(await startAtMain(bytes, main, c));
    try {
      for (let s = 0; running.some((r) => !r.done); s++) {
        for (let k = 0; k < running.length; k++) {
          const r = running[(k + s) % running.length]!;
          if (!r.done) slice(r);
        }
      }
      if (round < 0) continue;
      const reference = running[REFERENCE]!.slices;
      running.forEach((r, k) => {
        const p = r.process;
        rows[k]!.instructions = p.instructions - r.atMain;
        rows[k]!.switches = p.threads.switches - r.switchesAtMain;
        rows[k]!.engineSwitches = p.threads.engineSwitches - r.engineSwitchesAtMain;
        rows[k]!.cpuMillis = Math.min(rows[k]!.cpuMillis, r.cpuMicros / 1000);
        totals[k]! += r.cpuMicros / 1000;
        // The last slice of a run is partial: only full slices on both sides are compared.
        const full = Math.min(r.slices.length, reference.length) - 1;
        for (let i = 0; i < full; i++) ratios[k]!.push(r.slices[i]! / reference[i]!);
      });
    } finally {
      for (const r of running) r.engine.close();
    }
  }
  return { rows, ratios, totals, rounds, load: [load0, loadavg().map((l) => l.toFixed(1)).join(' ')] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The figures the report and the README quote: overhead (median slice ratio - 1), µs per switch
 * (from the totals), and the default quantum's overhead projected from the short quantum's cost
 * per switch (its extra time is large enough to measure on a loaded machine).
 */
export function threadsFigures(m: ThreadsMeasurement): { overhead: number[]; microsPerSwitch: number[]; projected: number } {
  const ref = m.rows[REFERENCE]!;
  const overhead = m.ratios.map((r) => median(r) - 1);
  const microsPerSwitch = m.rows.map((r, k) => (r.switches > ref.switches ? ((m.totals[k]! - m.totals[REFERENCE]!) * 1000) / m.rounds / (r.switches - ref.switches) : NaN));
  // The short quantum's overhead per extra switch, times the default quantum's extra switches.
  const projected = (overhead[SHORT]! / (m.rows[SHORT]!.switches - ref.switches)) * (m.rows[0]!.switches - ref.switches);
  return { overhead, microsPerSwitch, projected };
}

export function formatThreads(m: ThreadsMeasurement): string[] {
  const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const f = threadsFigures(m);
  const quartiles = (k: number): string => {
    const sorted = [...m.ratios[k]!].sort((a, b) => a - b);
    return `${percent(sorted[Math.floor(sorted.length / 4)]! - 1)} .. ${percent(sorted[Math.floor((sorted.length * 3) / 4)]! - 1)}`;
  };
  return [
    '## Threads: the scheduler\'s overhead',
    '',
    `The system model's threads on one emulated CPU (WasmEngine), from main to exit of bench/guests/threads (three workers, the same CPU-bound loop each; start-up runs before the clock). ` +
      `${m.rounds} rounds; in each, one process per configuration, run in turn ${SLICE / 1e6}M instructions at a time (the order rotating), each slice timed by CPU time (this process, all its threads). ` +
      `Overhead = a slice's CPU time against the blocking-only slice run next to it, the median over ${m.ratios[0]!.length} slices (and the quartiles); ` +
      `µs per switch = the extra CPU time of all rounds over the extra switches. Load average ${m.load[0]} at the start, ${m.load[1]} at the end.`,
    '',
    '| configuration | instructions | switches | in the engine | least CPU ms | × blocking-only: median slice | quartiles | µs per switch |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...m.rows.map((r, k) => `| ${r.config} | ${r.instructions} | ${r.switches} | ${r.engineSwitches} | ${r.cpuMillis.toFixed(1)} | ${(1 + f.overhead[k]!).toFixed(3)} | ${quartiles(k)} | ${Number.isNaN(f.microsPerSwitch[k]!) ? '' : f.microsPerSwitch[k]!.toFixed(2)} |`),
    '',
    `Scheduler overhead (a switch every ~${DEFAULT_QUANTUM} instructions against switches only where a thread blocks): **${percent(f.overhead[0]!)}** switched in the engine, measured ` +
      `(**${percent(f.projected)}** projected from the cost of a switch at a ~${SHORT_QUANTUM}-instruction quantum, ${percent(f.overhead[SHORT]!)} there; goal: under 2%), ` +
      `${percent(f.overhead[1]!)} switched by the host; single-threaded against blocking-only: ${percent(f.overhead[3]!)}.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatThreads(await measureThreads(process.argv[2] ? Number(process.argv[2]) : undefined)).join('\n'));
