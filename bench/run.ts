// Emulator speed: WasmEngine and UnicornEngine on the same programs in the same run, with and
// without the trace ring buffer; then verify-patch's end-to-end latency (bench/verify-latency.ts).
// Not a test: no timed assertions, only the instruction counts of the two engines must agree.
// `npm run bench`; writes bench/results/latest.md.
//
// Every program first runs unmeasured on each engine, traced and untraced, for at least
// WARM_UP_MS: measured cold, the first program paid for V8 optimising the engines' JS (the
// int-loop came out slower untraced than traced). Each figure is the best of RUNS, in wall
// time and in this process's CPU time (user + system), since the machine is shared.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Assembler } from '../src/asm/keystone.js';
import { Perm, type Engine } from '../src/engine/engine.js';
import { createEngine } from '../src/engine/index.js';
import { formatEndToEnd, measureEndToEnd, measureRealProgram, type RealProgramRow } from './end-to-end.js';
import { NativeUnicorn } from './native-unicorn.js';
import { formatSnapshots, measureSnapshots } from './snapshot.js';
import { formatSystemStartup, measureSystemStartup } from './system-startup.js';
import { formatVerifyLatency, measureVerifyLatency } from './verify-latency.js';
import { formatExploration, measureExploration } from './explore.js';
import { formatThreads, measureThreads } from './threads.js';

const CODE = 0x40_0000n;
const DATA = 0x60_0000n;
const STACK = 0x7f_0000n;
const STACK_SIZE = 0x1_0000;
/** Unmeasured running per engine and program before any measurement. */
const WARM_UP_MS = 300;
const RUNS = 5;
/** Safety bound: every program ends on int3 long before. */
const MAX_INSTRUCTIONS = 100_000_000;

interface Program {
  name: string;
  what: string;
  source: string; // Intel syntax, assembled by Keystone at CODE
}

const PROGRAMS: Program[] = [
  {
    name: 'int-loop',
    what: 'tight integer loop, 1M iterations',
    source: `
      mov ecx, 1000000
      xor eax, eax
    top:
      add rax, rcx
      xor rax, 0x55
      dec rcx
      jnz top
      int3`,
  },
  {
    name: 'memcpy',
    what: '4 KiB qword copy loop, 1000 times',
    source: `
      mov r8d, 1000
    outer:
      mov rsi, ${DATA}
      lea rdi, [rsi + 0x1000]
      mov ecx, 512
    copy:
      mov rax, [rsi]
      mov [rdi], rax
      add rsi, 8
      add rdi, 8
      dec ecx
      jnz copy
      dec r8d
      jnz outer
      int3`,
  },
  {
    name: 'fib-recursive',
    what: 'call-heavy recursive fib(25)',
    source: `
      mov edi, 25
      call fib
      int3
    fib:
      cmp rdi, 2
      jb small
      push rbx
      push rdi
      dec rdi
      call fib
      mov rbx, rax
      pop rdi
      sub rdi, 2
      call fib
      add rax, rbx
      pop rbx
      ret
    small:
      mov rax, rdi
      ret`,
  },
];

interface Measurement {
  instructions: number;
  /** Elapsed time of the start() call. */
  wallSeconds: number;
  /** CPU time (user + system) this process used during it: time the engine was off the CPU does not count. */
  cpuSeconds: number;
}

/** Best of several runs, each metric on its own (the least disturbed run may differ per metric). */
interface Best {
  instructions: number;
  wallSeconds: number;
  cpuSeconds: number;
}

function prepare(engine: Engine, code: Uint8Array): void {
  engine.map(CODE, 0x1000, Perm.RX);
  engine.map(DATA, 0x2000, Perm.RW);
  engine.map(STACK, STACK_SIZE, Perm.RW);
  engine.writeMemory(CODE, code);
}

function runOnce(engine: Engine): Measurement {
  engine.writeRegister('rsp', STACK + BigInt(STACK_SIZE) - 0x100n);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // A count, not timeoutMs, bounds the run, as in the loader: with a timeout Unicorn runs a timer
  // thread that adds about a quarter to the process's CPU time.
  const result = engine.start(CODE, { count: MAX_INSTRUCTIONS });
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.reason !== 'interrupt' || result.interrupt !== 3) {
    throw new Error(`${engine.name}: expected to end on int3, got ${result.reason} at 0x${result.rip.toString(16)}`);
  }
  return { instructions: result.instructions, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function setTracing(engine: Engine, tracing: boolean): void {
  if (tracing) engine.enableTrace(4096);
  else engine.disableTrace();
}

/** Runs the loaded program, untraced and traced in turn, until at least `ms` have passed (V8 tiers, Unicorn's translation cache). */
function warmUp(engine: Engine, ms: number): number {
  const started = performance.now();
  let runs = 0;
  do {
    setTracing(engine, runs % 2 === 1);
    runOnce(engine);
    runs++;
  } while (runs < 2 || performance.now() - started < ms);
  return runs;
}

function measure(engine: Engine, tracing: boolean, repeats: number): Best {
  setTracing(engine, tracing);
  const runs = Array.from({ length: repeats }, () => runOnce(engine));
  return {
    instructions: runs[0]!.instructions,
    wallSeconds: Math.min(...runs.map((m) => m.wallSeconds)),
    cpuSeconds: Math.min(...runs.map((m) => m.cpuSeconds)),
  };
}

type Metric = 'wallSeconds' | 'cpuSeconds';
const mips = (m: Best, metric: Metric): number => m.instructions / m[metric] / 1e6;

function loadText(): string {
  const [one, five] = loadavg();
  return `${one!.toFixed(1)} (1 min) / ${five!.toFixed(1)} (5 min)`;
}

async function main(): Promise<void> {
  const loadAtStart = loadText();
  const assembler = await Assembler.load();
  const kinds = ['wasm', 'unicorn'] as const;
  const notes: string[] = [];
  const codes = PROGRAMS.map((program) => assembler.assemble(program.source, CODE));

  // One engine per kind and program, all warmed up before the first measurement.
  const engines = new Map<string, Engine>();
  const key = (kind: string, program: number): string => `${kind}/${program}`;
  const warmUpRuns: string[] = [];
  for (const kind of kinds) {
    for (let p = 0; p < PROGRAMS.length; p++) {
      let engine: Engine;
      try {
        engine = await createEngine(kind);
      } catch (error) {
        if (p === 0) notes.push(`${kind} unavailable: ${error instanceof Error ? error.message : String(error)}`);
        break;
      }
      prepare(engine, codes[p]!);
      engines.set(key(kind, p), engine);
      warmUpRuns.push(`${kind} ${PROGRAMS[p]!.name} ${warmUp(engine, WARM_UP_MS)}`);
    }
  }

  const results: { program: Program; byKind: Map<string, { plain: Best; traced: Best }> }[] = [];
  try {
    for (let p = 0; p < PROGRAMS.length; p++) {
      const program = PROGRAMS[p]!;
      const byKind = new Map<string, { plain: Best; traced: Best }>();
      for (const kind of kinds) {
        const engine = engines.get(key(kind, p));
        if (!engine) continue;
        byKind.set(kind, { plain: measure(engine, false, RUNS), traced: measure(engine, true, RUNS) });
      }
      const wasm = byKind.get('wasm');
      const unicorn = byKind.get('unicorn');
      if (wasm && unicorn && wasm.plain.instructions !== unicorn.plain.instructions) {
        throw new Error(`${program.name}: instruction counts differ: wasm ${wasm.plain.instructions}, unicorn ${unicorn.plain.instructions}`);
      }
      results.push({ program, byKind });
    }
  } finally {
    for (const engine of engines.values()) engine.close();
  }

  // Native Unicorn without and with a per-instruction JS hook, on the same bytes.
  const native = new Map<number, { plain: Best; hooked: Best }>();
  try {
    const unicorn = await NativeUnicorn.load();
    const layout = { codeAt: CODE, dataAt: DATA, dataSize: 0x2000, stackAt: STACK, stackSize: STACK_SIZE };
    for (let p = 0; p < PROGRAMS.length; p++) {
      const instructions = results[p]!.byKind.get('wasm')?.plain.instructions ?? 0;
      const plain = unicorn.measure(codes[p]!, layout, false, RUNS);
      const hooked = unicorn.measure(codes[p]!, layout, true, RUNS);
      native.set(p, { plain: { instructions, ...plain }, hooked: { instructions, ...hooked } });
    }
  } catch (error) {
    notes.push(`native Unicorn not measured: ${error instanceof Error ? error.message : String(error)}`);
  }
  let real: RealProgramRow | undefined;
  try {
    real = await measureRealProgram('kernel', RUNS);
  } catch (error) {
    notes.push(`real program not measured: ${error instanceof Error ? error.message : String(error)}`);
  }

  const tableFor = (metric: Metric): string[] => {
    const cell = (r: { plain: Best; traced: Best } | undefined): string[] =>
      r
        ? [mips(r.plain, metric).toFixed(1), mips(r.traced, metric).toFixed(1), `${((1 - mips(r.traced, metric) / mips(r.plain, metric)) * 100).toFixed(0)}%`]
        : ['n/a', 'n/a', 'n/a'];
    const rows = results.map(({ program, byKind }, p) => {
      const wasm = byKind.get('wasm');
      const unicorn = byKind.get('unicorn');
      const n = native.get(p);
      const count = (wasm ?? unicorn)?.plain.instructions ?? 0;
      const nativeCells = n ? [mips(n.plain, metric).toFixed(1), mips(n.hooked, metric).toFixed(1)] : ['n/a', 'n/a'];
      const engineCell = unicorn ? mips(unicorn.plain, metric).toFixed(1) : 'n/a';
      const ratio = wasm && n ? `${(mips(wasm.plain, metric) / mips(n.plain, metric)).toFixed(2)}x` : 'n/a';
      const ratioHooked = wasm && n ? `${(mips(wasm.plain, metric) / mips(n.hooked, metric)).toFixed(1)}x` : 'n/a';
      return `| ${program.name} (${program.what}) | ${count} | ${cell(wasm).join(' | ')} | ${nativeCells.join(' | ')} | ${engineCell} | ${ratio} | ${ratioHooked} |`;
    });
    if (real) {
      const r = real;
      const w = r.wasm.instructions / r.wasm[metric] / 1e6;
      const u = r.unicorn ? r.unicorn.instructions / r.unicorn[metric] / 1e6 : undefined;
      rows.push(`| ${r.guest} guest, whole program (bench/guests/, loader and libc stubs included) | ${r.wasm.instructions} | ${w.toFixed(1)} | n/a | n/a | n/a (the stubs need breakpoints) | n/a | ${u !== undefined ? u.toFixed(1) : 'n/a'}${r.unicorn ? ` (first ${r.unicorn.instructions})` : ''} | n/a | ${u !== undefined ? `${(w / u).toFixed(1)}x` : 'n/a'} |`);
    }
    return [
      '| program | instructions | wasm MIPS | wasm traced | trace cost | native Unicorn, no hook | native Unicorn + JS code hook | UnicornEngine | wasm / native | wasm / native + hook |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ];
  };
  const loadAtEnd = loadText();

  let snapshots: string[];
  try {
    snapshots = formatSnapshots(await measureSnapshots());
  } catch (error) {
    snapshots = [`snapshots not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  let endToEnd: string[];
  try {
    endToEnd = formatEndToEnd(await measureEndToEnd(3), 3);
  } catch (error) {
    endToEnd = [`end-to-end not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  let latency: string[];
  try {
    latency = formatVerifyLatency(await measureVerifyLatency(10));
  } catch (error) {
    latency = [`verify-patch latency not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  let startup: string[];
  try {
    startup = formatSystemStartup(await measureSystemStartup());
  } catch (error) {
    startup = [`process-model start-up not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  let exploration: string[];
  try {
    exploration = formatExploration(await measureExploration());
  } catch (error) {
    exploration = [`exploration not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  let threads: string[];
  try {
    threads = formatThreads(await measureThreads());
  } catch (error) {
    threads = [`threads not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  const report = [
    '# Emulator speed (npm run bench)',
    '',
    `${new Date().toISOString()}, Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs; ` +
      `load average ${loadAtStart} at the start, ${loadAtEnd} at the end of the engine runs.`,
    '',
    `Each program first ran unmeasured on each engine, untraced and traced in turn, for at least ${WARM_UP_MS} ms ` +
      `(runs: ${warmUpRuns.join(', ')}). Then best of ${RUNS} runs per cell, by wall time and by this process's CPU time ` +
      '(the machine is shared: the best run is the least disturbed, and CPU time, all of this process\'s threads, leaves out time spent waiting for the CPU). ' +
      'Instruction counts are exact and equal on both engines.',
    '',
    '### By CPU time',
    '',
    ...tableFor('cpuSeconds'),
    '',
    '### By wall time',
    '',
    ...tableFor('wallSeconds'),
    '',
    'Native Unicorn is libunicorn through koffi on the same bytes, best of the same runs after one unmeasured run: with no hook but an',
    'interrupt hook at the final int3 (its real speed), and with an empty JavaScript UC_HOOK_CODE callback on every instruction.',
    'UnicornEngine (the oracle) runs a JS code hook before every instruction (exact retired counts, until, breakpoints, trace).',
    'Tracing keeps a 4096-entry ring of retired rips. The real-program row runs a bench guest from start to exit through the loader',
    '(UnicornEngine: its first instructions only, at its speed).',
    ...(notes.length > 0 ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
    ...snapshots,
    '',
    '## End-to-end',
    '',
    ...endToEnd,
    '',
    '## Cold start',
    '',
    ...latency,
    '',
    ...startup,
    ...exploration,
    '',
    ...threads,
    '',
  ].join('\n');
  console.log(report);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.md');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
}

await main();
