// An in-process fuzzer over verify-patch's whole pipeline: corpus executables and patches with
// their structures mutated (ELF header, program headers, dynamic entries, symbols, relocations,
// version tables, unwind data, code bytes) and mutated options, each case run through the
// command core (src/verify/command.ts) exactly as the CLI runs it, and its outcome classified.
// A case is a bug when it throws anything but a layer error (the CLI would print "internal
// error"), when its error is more than one line, or when it outlives its time limit.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../../src/elf/index.js';
import { parseCommandLine, runCommand, type ParsedCommand } from '../../src/verify/command.js';

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Repository root (the corpus is read from it). */
  root: string;
  /** Per-case wall-clock limit given as --timeout (seconds); a case over it twice is 'slow'. */
  caseTimeoutSeconds?: number;
  /** Called after each case (progress, logging). */
  onCase?: (c: FuzzCase, index: number) => void;
}

export type Outcome = 'safe' | 'unsafe' | `error: ${string}` | 'bug: exception' | 'bug: multi-line error' | 'bug: slow';

export interface FuzzCase {
  seed: number;
  index: number;
  description: string;
  outcome: Outcome;
  ms: number;
  /** The message of an error or bug outcome. */
  message?: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  outcomes: Record<string, number>;
  bugs: FuzzCase[];
  slowest: FuzzCase | undefined;
  totalMs: number;
  peakRssMb: number;
}

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

interface Target {
  name: string;
  main: Uint8Array;
  patch: Uint8Array;
  symbol: string;
  args: string[];
  mainRegions: Map<string, [number, number]>;
  patchRegions: Map<string, [number, number]>;
}

/** The structures a mutation aims at, by name: [file offset, length]. */
function regionsOf(bytes: Uint8Array, targetSymbol?: string): Map<string, [number, number]> {
  const elf = ElfFile.parse(bytes);
  const regions = new Map<string, [number, number]>();
  regions.set('elf header', [0, 64]);
  if (elf.header.programHeaderCount) regions.set('program headers', [elf.header.programHeaderOffset, elf.header.programHeaderCount * 56]);
  if (elf.header.sectionHeaderCount) regions.set('section headers', [elf.header.sectionHeaderOffset, elf.header.sectionHeaderCount * 64]);
  const sections: Record<string, string> = {
    '.dynamic': 'dynamic entries', '.dynsym': 'symbols', '.symtab': 'symbols (symtab)', '.dynstr': 'symbol names',
    '.gnu.hash': 'hash table', '.rela.dyn': 'relocations', '.rela.plt': 'relocations (plt)', '.gnu.version': 'versions',
    '.gnu.version_r': 'version needs', '.gnu.version_d': 'version definitions', '.eh_frame': 'unwind data',
    '.eh_frame_hdr': 'unwind index', '.text': 'code bytes', '.init_array': 'init array', '.interp': 'interpreter',
  };
  for (const s of elf.sections) {
    const what = sections[s.name];
    if (what && s.size > 0n && s.type !== 8 /* NOBITS */) regions.set(what, [s.offset, Number(s.size)]);
  }
  if (targetSymbol) {
    const sym = elf.symbols.find((s) => s.name === targetSymbol && s.size > 0n);
    const offset = sym ? elf.offsetOf(sym.value) : undefined;
    if (sym && offset !== undefined) regions.set('target code', [offset, Number(sym.size)]);
  }
  return regions;
}

const SCENARIOS: { dir: string; main?: string; symbol: string; args: string[] }[] = [
  { dir: 'seed-classic', symbol: 'need_fix_func', args: [] },
  { dir: 'short-function', main: 'main-adjacent', symbol: 'get_level', args: [] },
  { dir: 'loop-head', symbol: 'total_amount', args: ['--with', 'fix_total_amount'] },
  { dir: 'seed-classic', symbol: 'need_fix_func', args: ['--signal', 'USR1'] },
];

export function loadTargets(root: string): Target[] {
  return SCENARIOS.map(({ dir, main: mainName, symbol, args }) => {
    const main = new Uint8Array(readFileSync(join(root, 'corpus', dir, mainName ?? 'main')));
    const patch = new Uint8Array(readFileSync(join(root, 'corpus', dir, 'patch.so')));
    return { name: `${dir}${args.length ? ` ${args.join(' ')}` : ''}`, main, patch, symbol, args, mainRegions: regionsOf(main, symbol), patchRegions: regionsOf(patch) };
  });
}

const INTERESTING = [0n, 1n, 2n, 3n, 7n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xfffn, 0x1000n, 0x7fffn, 0xffffn, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn,
  1n << 32n, 1n << 40n, 0x7fff_0000_0000n, 1n << 47n, 1n << 60n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];

/** Flips, sets or overwrites a few fields in named regions; returns what it did. */
function mutateBytes(random: Random, source: Uint8Array, regions: Map<string, [number, number]>): { bytes: Uint8Array; what: string[] } {
  const bytes = source.slice();
  const view = new DataView(bytes.buffer);
  const names = [...regions.keys()];
  const what: string[] = [];
  const n = 1 + random.int(3);
  for (let k = 0; k < n; k++) {
    const name = random.pick(names);
    const [start, length] = regions.get(name)!;
    const width = random.pick([1, 2, 4, 8] as const);
    let at = start + random.int(Math.max(1, length));
    if (random.chance(0.7)) at -= (at - start) % width;
    if (at + width > bytes.length) continue;
    const kind = random.int(4);
    if (kind === 0) {
      const bit = random.int(width * 8);
      bytes[at + (bit >> 3)]! ^= 1 << (bit & 7);
      what.push(`${name}+${at - start}: bit ${bit} flipped`);
      continue;
    }
    const value = kind === 1 ? random.pick(INTERESTING) : kind === 2 ? BigInt(random.int(0x10000)) : BigInt(Math.floor(random.next() * 2 ** 32)) << BigInt(random.int(33));
    const v = BigInt.asUintN(width * 8, value);
    if (width === 1) view.setUint8(at, Number(v));
    else if (width === 2) view.setUint16(at, Number(v), true);
    else if (width === 4) view.setUint32(at, Number(v), true);
    else view.setBigUint64(at, v, true);
    what.push(`${name}+${at - start}: u${width * 8} = 0x${v.toString(16)}`);
  }
  if (random.chance(0.05)) {
    const cut = random.int(bytes.length);
    what.push(`truncated at ${cut}`);
    return { bytes: bytes.subarray(0, cut), what };
  }
  return { bytes, what };
}

const TRAMPOLINES = ['abs-rax', 'rel32', 'abs-indirect', 'movabs r11, {target}; jmp r11', 'push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret', 'jmp {target}', 'movabs rax, {target}; call rax', 'nop; {target}', 'mov rax, {target}; jmp rax; .byte 0xcc'];

/** Options mutated around the scenario's own. */
function mutateOptions(random: Random, t: Target, caseTimeout: number): string[] {
  const args = [...t.args];
  if (random.chance(0.2)) args.push('--trampoline', random.pick(TRAMPOLINES));
  if (random.chance(0.1) && !args.includes('--signal')) args.push('--signal', random.pick(['USR1', 'USR2', 'HUP', '10', '0', '64', 'KILL']));
  if (random.chance(0.15)) args.push('--patch-at', String(random.pick([0, 1, 5, 50, 500, 5000, 50_000, 10 ** 9])));
  if (random.chance(0.1)) args.push('--with', random.pick(['fix_func', 'nope', '_Z3foov', '', 'main', 'fix_total_amount']));
  if (random.chance(0.1)) args.push('--max-memory', random.pick(['16M', '64M', '256M']));
  if (random.chance(0.1)) args.push('--max-output', random.pick(['1', '100', '64K']));
  args.push('--max-insns', String(random.pick([100, 10_000, 200_000, 2_000_000])));
  args.push('--timeout', String(caseTimeout));
  return args;
}

function classifyError(message: string): string {
  const rules: [RegExp, string][] = [
    [/is truncated/, 'truncated'], [/is not an ELF file/, 'not ELF'], [/is not a usable ELF file|invalid ELF header/, 'bad ELF'],
    [/budget ran out/, 'budget'], [/memory limit|address-space limit/, 'memory limit'], [/wall-clock limit/, 'timeout'],
    [/not found in|no function|did you mean/, 'symbol not found'], [/dlopen/, 'dlopen failed'], [/Keystone|template|trampoline/i, 'trampoline'],
    [/--[a-z-]+ /, 'bad option'], [/unsupported|no stub|cannot run/, 'unsupported'], [/exited|killed|before .* ran/, 'ended early'],
    [/iced-x86/, 'decoder'],
  ];
  for (const [pattern, label] of rules) if (pattern.test(message)) return label;
  return 'other';
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const targets = loadTargets(options.root);
  const caseTimeout = options.caseTimeoutSeconds ?? 10;
  const outcomes: Record<string, number> = {};
  const bugs: FuzzCase[] = [];
  let slowest: FuzzCase | undefined;
  let peakRss = process.memoryUsage().rss;
  const started = Date.now();
  for (let index = 0; index < options.count; index++) {
    // Each case has its own seed, so any one reproduces alone: --seed <caseSeed> --count 1.
    const caseSeed = (options.seed + Math.imul(index, 0x9e3779b1)) >>> 0;
    const c = await runCase(caseSeed, index, targets, caseTimeout);
    outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
    if (c.outcome.startsWith('bug')) bugs.push(c);
    if (!slowest || c.ms > slowest.ms) slowest = c;
    if (index % 16 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    options.onCase?.(c, index);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  return { seed: options.seed, cases: options.count, outcomes, bugs, slowest, totalMs: Date.now() - started, peakRssMb: Math.round(peakRss / 1048576) };
}

export async function runCase(caseSeed: number, index: number, targets: readonly Target[], caseTimeout: number): Promise<FuzzCase> {
  const random = new Random(caseSeed);
  const t = random.pick(targets);
  const what: string[] = [];
  let main = t.main;
  let patch = t.patch;
  const which = random.int(10);
  if (which < 6) {
    const m = mutateBytes(random, t.main, t.mainRegions);
    main = m.bytes;
    what.push(...m.what.map((w) => `main ${w}`));
  }
  if (which >= 4 && which < 9) {
    const m = mutateBytes(random, t.patch, t.patchRegions);
    patch = m.bytes;
    what.push(...m.what.map((w) => `patch.so ${w}`));
  }
  const args = mutateOptions(random, t, caseTimeout);
  const description = `${t.name}: ${what.join('; ') || 'files unchanged'}; options ${args.join(' ')}`;
  const started = Date.now();
  let outcome: Outcome;
  let message: string | undefined;
  try {
    const request = parseCommandLine(['main', 'patch.so', t.symbol, ...args]);
    if (request.kind !== 'verify') throw new Error('not a verify command');
    const result = await runCommand(request.command as ParsedCommand, main, patch);
    if (result.result.verdict === 'error') {
      message = result.result.error ?? '';
      outcome = message.includes('\n') ? 'bug: multi-line error' : `error: ${classifyError(message)}`;
    } else {
      outcome = result.result.verdict;
    }
  } catch (e) {
    message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    // A layer error from parsing the options is the CLI's one line; anything else is a bug.
    outcome = e instanceof Error && /^(VerifyError|CliError)/.test(e.name) ? 'error: bad option' : 'bug: exception';
    if (outcome === 'bug: exception' && e instanceof Error && e.stack) message += ` | ${e.stack.split('\n').slice(1, 4).join(' ').trim()}`;
  }
  const ms = Date.now() - started;
  if (ms > caseTimeout * 2000 && !outcome.startsWith('bug')) outcome = 'bug: slow';
  return { seed: caseSeed, index, description, outcome, ms, ...(message !== undefined ? { message } : {}) };
}
