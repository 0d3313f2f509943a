// Scheduler overhead of emulated threads (system model, WasmEngine): one CPU-bound guest
// (bench/guests/threads: three pthread workers, the same loop each, no lock or system call in it)
// run three ways from main on: with a thread switch every few thousand instructions (the
// default quantum, seeded jitter), with switches only where a thread blocks (a quantum longer
// than the run), and single-threaded ("serial": main runs the three loops itself). Start-up
// (ld.so, glibc) runs before the clock starts. Each round runs the three back to back (the
// machine is shared: a round's runs see the same load); the median round's ratio is reported.
// Included by bench/run.ts; alone: node --import tsx bench/threads.ts
import { readFileSync } from 'node:fs';
import { buildVfs, GUEST_CWD } from '../src/cli/sysroot.js';
import { ElfFile } from '../src/elf/index.js';
import { createEngine } from '../src/engine/index.js';
import { DEFAULT_QUANTUM, SystemProcess } from '../src/loader/system/index.js';

const GUEST = new URL('./guests/threads', import.meta.url);
const RUNS = 9;
const NEVER = 1_000_000_000;

interface Config {
  name: string;
  quantum: number;
  argv: string[];
}

const CONFIGS: Config[] = [
  { name: `3 threads, a switch every ~${DEFAULT_QUANTUM} instructions (quantum ${DEFAULT_QUANTUM / 2}..${DEFAULT_QUANTUM * 1.5}, seeded)`, quantum: DEFAULT_QUANTUM, argv: [] },
  { name: '3 threads, switches only where a thread blocks', quantum: NEVER, argv: [] },
  { name: '1 thread, the same three loops in turn', quantum: NEVER, argv: ['serial'] },
];

export interface ThreadsRow {
  config: string;
  /** From main's first instruction to exit. */
  instructions: number;
  switches: number;
  cpuMillis: number;
  wallMillis: number;
}

async function once(bytes: Uint8Array, main: bigint, c: Config): Promise<ThreadsRow> {
  const engine = await createEngine('wasm');
  try {
    const vfs = buildVfs('/', [{ guest: 'threads', bytes }]);
    const p = SystemProcess.create(engine, { vfs, executable: './threads', argv: c.argv, cwd: GUEST_CWD, quantum: c.quantum });
    const toMain = p.run({ maxInstructions: 50_000_000, until: main });
    if (toMain.reason !== 'until') throw new Error(`the guest did not reach main: ${toMain.reason}`);
    const [atMain, switchesAtMain] = [p.instructions, p.threads.switches];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const stop = p.run({ maxInstructions: 500_000_000 });
    const wallMillis = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (stop.reason !== 'exited') throw new Error(`the guest did not exit: ${stop.reason}`);
    if (!/^total \d+\n$/.test(p.stdoutText(1))) throw new Error(`unexpected output ${JSON.stringify(p.stdoutText(1))}`);
    return { config: c.name, instructions: p.instructions - atMain, switches: p.threads.switches - switchesAtMain, cpuMillis: (cpu.user + cpu.system) / 1000, wallMillis };
  } finally {
    engine.close();
  }
}

export interface ThreadsMeasurement {
  /** Best (least CPU) run of each configuration, CONFIGS order. */
  best: ThreadsRow[];
  /** Per round, CPU per instruction of each configuration against the blocking-only run of the same round. */
  ratios: number[][];
}

export async function measureThreads(runs = RUNS): Promise<ThreadsMeasurement> {
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
  const best: (ThreadsRow | undefined)[] = CONFIGS.map(() => undefined);
  const ratios: number[][] = [];
  for (const c of CONFIGS) await once(bytes, main, c); // warm-up
  for (let i = 0; i < runs; i++) {
    // Each round runs every configuration back to back (the order rotating), so a round's ratios
    // share the machine's load of the moment; the median round is reported.
    const order = CONFIGS.map((_, k) => (k + i) % CONFIGS.length);
    const round: ThreadsRow[] = [];
    for (const k of order) {
      const r = await once(bytes, main, CONFIGS[k]!);
      round[k] = r;
      if (!best[k] || r.cpuMillis < best[k]!.cpuMillis) best[k] = r;
    }
    const perInstruction = (r: ThreadsRow): number => r.cpuMillis / r.instructions;
    ratios.push(round.map((r) => perInstruction(r) / perInstruction(round[1]!)));
  }
  return { best: best as ThreadsRow[], ratios };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatThreads(m: ThreadsMeasurement): string[] {
  const percent = (ratio: number): string => `${((ratio - 1) * 100).toFixed(1)}%`;
  const column = (k: number): number[] => m.ratios.map((r) => r[k]!);
  const spread = (k: number): string => `${percent(Math.min(...column(k)))} .. ${percent(Math.max(...column(k)))}`;
  return [
    '## Threads: the scheduler\'s overhead',
    '',
    `The system model's threads on one emulated CPU (WasmEngine), from main to exit of bench/guests/threads (three workers, the same CPU-bound loop each; start-up runs before the clock). ` +
      `${m.ratios.length} rounds, each running every configuration back to back by CPU time (this process, all its threads); ` +
      'overhead = CPU time per instruction against the blocking-only run of the same round, the median round (and the spread of the rounds).',
    '',
    '| configuration | instructions | switches | best CPU ms | best wall ms | × blocking-only: median round | rounds |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...m.best.map((r, k) => `| ${r.config} | ${r.instructions} | ${r.switches} | ${r.cpuMillis.toFixed(1)} | ${r.wallMillis.toFixed(1)} | ${median(column(k)).toFixed(3)} | ${spread(k)} |`),
    '',
    `Scheduler overhead (a switch every ~${DEFAULT_QUANTUM} instructions against switches only where a thread blocks): **${percent(median(column(0)))}** (median round; goal: under 2%); ` +
      `single-threaded against blocking-only: ${percent(median(column(2)))}.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatThreads(await measureThreads()).join('\n'));
