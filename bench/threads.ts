// Scheduler overhead of emulated threads (system model, WasmEngine): one CPU-bound guest
// (bench/guests/threads: three pthread workers, the same loop each, no lock or system call in it)
// run three ways from main on: with a thread switch every few thousand instructions (the
// default quantum, seeded jitter), with switches only where a thread blocks (a quantum longer
// than the run), and single-threaded ("serial": main runs the three loops itself). Start-up
// (ld.so, glibc) runs before the clock starts. The configurations alternate, best of RUNS each
// by CPU time (the machine is shared); the ratios are the cost of preemptive switching.
// Included by bench/run.ts; alone: node --import tsx bench/threads.ts
import { readFileSync } from 'node:fs';
import { buildVfs, GUEST_CWD } from '../src/cli/sysroot.js';
import { ElfFile } from '../src/elf/index.js';
import { createEngine } from '../src/engine/index.js';
import { DEFAULT_QUANTUM, SystemProcess } from '../src/loader/system/index.js';

const GUEST = new URL('./guests/threads', import.meta.url);
const RUNS = 7;
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

export async function measureThreads(runs = RUNS): Promise<ThreadsRow[]> {
  const bytes = new Uint8Array(readFileSync(GUEST));
  const elf = ElfFile.parse(bytes);
  // SystemProcess maps a PIE at the kernel's fixed base: find it from the entry point.
  const mainSymbol = elf.symbols.find((s) => s.name === 'main');
  if (!mainSymbol) throw new Error('bench/guests/threads has no main symbol');
  const probe = await createEngine('wasm');
  let base: bigint;
  try {
    base = SystemProcess.create(probe, { vfs: buildVfs('/', [{ guest: 'threads', bytes }]), executable: './threads', cwd: GUEST_CWD }).image.main.base;
  } finally {
    probe.close();
  }
  const best: (ThreadsRow | undefined)[] = CONFIGS.map(() => undefined);
  for (const c of CONFIGS) await once(bytes, base + mainSymbol.value, c); // warm-up
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of CONFIGS.entries()) {
      const r = await once(bytes, base + mainSymbol.value, c);
      if (!best[k] || r.cpuMillis < best[k]!.cpuMillis) best[k] = r;
    }
  }
  return best as ThreadsRow[];
}

export function formatThreads(rows: readonly ThreadsRow[]): string[] {
  const [preemptive, blocking, serial] = rows;
  const ratio = (a: ThreadsRow | undefined, b: ThreadsRow | undefined): string =>
    a && b ? `${((a.cpuMillis / a.instructions) / (b.cpuMillis / b.instructions)).toFixed(3)}` : 'n/a';
  return [
    '## Threads: the scheduler\'s overhead',
    '',
    `The system model's threads on one emulated CPU (WasmEngine), from main to exit of bench/guests/threads (three workers, the same CPU-bound loop each). ` +
      `Best of ${RUNS} alternating runs by CPU time; start-up runs before the clock. Overhead = CPU time per instruction against the run without preemptive switches.`,
    '',
    '| configuration | instructions | switches | CPU ms | wall ms | × without switches (per instruction) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.config} | ${r.instructions} | ${r.switches} | ${r.cpuMillis.toFixed(1)} | ${r.wallMillis.toFixed(1)} | ${ratio(r, blocking)} |`),
    '',
    `Scheduler overhead (preemptive / blocking-only switches): **${preemptive && blocking ? `${((Number(ratio(preemptive, blocking)) - 1) * 100).toFixed(1)}%` : 'n/a'}**; ` +
      `against one thread: ${preemptive && serial ? `${((Number(ratio(preemptive, serial)) - 1) * 100).toFixed(1)}%` : 'n/a'} (goal: under 2%).`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatThreads(await measureThreads()).join('\n'));
