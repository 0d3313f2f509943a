// Emulator speed: WasmEngine and UnicornEngine on the same programs in the same run, with and
// without the trace ring buffer; then verify-patch's end-to-end latency (bench/verify-latency.ts). Not a test: no timed assertions, only the instruction counts
// of the two engines must agree. `npm run bench`; writes bench/results/latest.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Assembler } from '../src/asm/keystone.js';
import { Perm, type Engine } from '../src/engine/engine.js';
import { createEngine } from '../src/engine/index.js';
import { formatVerifyLatency, measureVerifyLatency } from './verify-latency.js';

const CODE = 0x40_0000n;
const DATA = 0x60_0000n;
const STACK = 0x7f_0000n;
const STACK_SIZE = 0x1_0000;

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
  seconds: number;
}

function prepare(engine: Engine, code: Uint8Array): void {
  engine.map(CODE, 0x1000, Perm.RX);
  engine.map(DATA, 0x2000, Perm.RW);
  engine.map(STACK, STACK_SIZE, Perm.RW);
  engine.writeMemory(CODE, code);
}

function runOnce(engine: Engine): Measurement {
  engine.writeRegister('rsp', STACK + BigInt(STACK_SIZE) - 0x100n);
  const started = performance.now();
  const result = engine.start(CODE, { timeoutMs: 120_000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.reason !== 'interrupt' || result.interrupt !== 3) {
    throw new Error(`${engine.name}: expected to end on int3, got ${result.reason} at 0x${result.rip.toString(16)}`);
  }
  return { instructions: result.instructions, seconds };
}

/** Best of `repeats` after one warm-up run (JIT tiers, Unicorn's translation cache). */
function measure(engine: Engine, tracing: boolean, repeats: number): Measurement {
  if (tracing) engine.enableTrace(4096);
  else engine.disableTrace();
  runOnce(engine);
  let best: Measurement | undefined;
  for (let i = 0; i < repeats; i++) {
    const m = runOnce(engine);
    if (!best || m.seconds < best.seconds) best = m;
  }
  return best!;
}

const mips = (m: Measurement): number => m.instructions / m.seconds / 1e6;

async function main(): Promise<void> {
  const assembler = await Assembler.load();
  const kinds = ['wasm', 'unicorn'] as const;
  const rows: string[] = [];
  const notes: string[] = [];
  for (const program of PROGRAMS) {
    const code = assembler.assemble(program.source, CODE);
    const results = new Map<string, { plain: Measurement; traced: Measurement }>();
    for (const kind of kinds) {
      let engine: Engine;
      try {
        engine = await createEngine(kind);
      } catch (error) {
        notes.push(`${kind} unavailable: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      try {
        prepare(engine, code);
        const plain = measure(engine, false, 5);
        const traced = measure(engine, true, 5);
        results.set(kind, { plain, traced });
      } finally {
        engine.close();
      }
    }
    const wasm = results.get('wasm');
    const unicorn = results.get('unicorn');
    if (wasm && unicorn && wasm.plain.instructions !== unicorn.plain.instructions) {
      throw new Error(`${program.name}: instruction counts differ: wasm ${wasm.plain.instructions}, unicorn ${unicorn.plain.instructions}`);
    }
    const cell = (r: { plain: Measurement; traced: Measurement } | undefined): string[] =>
      r
        ? [mips(r.plain).toFixed(1), mips(r.traced).toFixed(1), `${((1 - mips(r.traced) / mips(r.plain)) * 100).toFixed(0)}%`]
        : ['n/a', 'n/a', 'n/a'];
    const ratio = wasm && unicorn ? (mips(wasm.plain) / mips(unicorn.plain)).toFixed(1) : 'n/a';
    const count = (wasm ?? unicorn)?.plain.instructions ?? 0;
    rows.push(`| ${program.name} (${program.what}) | ${count} | ${cell(wasm).join(' | ')} | ${cell(unicorn).join(' | ')} | ${ratio}x |`);
  }

  const table = [
    '| program | instructions | wasm MIPS | wasm traced | trace cost | unicorn MIPS | unicorn traced | trace cost | wasm/unicorn |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ];
  let latency: string[];
  try {
    latency = formatVerifyLatency(await measureVerifyLatency(5));
  } catch (error) {
    latency = [`verify-patch latency not measured: ${error instanceof Error ? error.message : String(error)}`];
  }
  const report = [
    '# Emulator speed (npm run bench)',
    '',
    `${new Date().toISOString()}, Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, ` +
      `load average ${loadavg()[0]!.toFixed(1)} at the end. Best of 5 runs after a warm-up (the machine is shared: the best run is the least disturbed); instruction counts are exact and equal on both engines.`,
    '',
    ...table,
    '',
    'UnicornEngine runs a JS code hook before every instruction (exact retired counts, breakpoints, trace), so its figures are',
    "Unicorn's speed with that hook, not raw Unicorn's. Tracing keeps a 4096-entry ring of retired rips.",
    ...(notes.length > 0 ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
    '## End-to-end',
    '',
    ...latency,
    '',
  ].join('\n');
  console.log(report);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.md');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
}

await main();
