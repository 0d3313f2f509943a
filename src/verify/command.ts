// The verify-patch command line, independent of Node: parse the arguments of the contract
// (shared/design.md), run the verification on file bytes the caller supplies, render the
// report. src/cli adds only the file system and the process; tests and the web page call
// this directly, so they exercise exactly what the CLI does.

import { renderHtml } from '../report/html.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderSarif } from '../report/sarif.js';
import { renderText } from '../report/text.js';
import { TOOL } from '../report/tool.js';
import { VerifyError } from './error.js';
import { EXIT_CODES } from './finding.js';
import type { EngineChoice, GuestInputs, PatcherLookup, ProcessChoice, TrampolineChoice, VerifyInput } from './input.js';
import type { LibraryFile } from './libraries.js';
import { DEFAULT_HORIZON, type ExploreOptions, type HorizonOption } from './explore/types.js';
import { validateExploreOptions } from './explore/explore.js';
import type { VerifyResult } from './result.js';
import { verifyPatch } from './verify.js';
import { DEFAULT_MAX_MEMORY, DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT_SECONDS, MiB } from '../loader/limits.js';

export const REPORT_FORMATS = ['text', 'json', 'sarif', 'html', 'markdown'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export { TOOL };

export interface ParsedCommand {
  mainPath: string;
  patchPath: string;
  symbol: string;
  with?: string;
  trampoline: TrampolineChoice;
  signal?: string;
  patchAt?: number;
  maxInstructions?: number;
  format: ReportFormat;
  engine: 'wasm' | 'unicorn';
  /** Input files larger than this are refused before reading (bytes; the CLI applies it). */
  maxFileSize: number;
  /** Guest memory limit: bytes of touched pages. */
  maxMemory: number;
  /** Captured output kept per stream, at the start and at the end (bytes). */
  maxOutput: number;
  /** Wall-clock limit of the whole verification in seconds; 0 for none. */
  timeoutSeconds: number;
  lookup?: PatcherLookup;
  /** --progress / --no-progress; unset: the CLI decides (on when stderr is a terminal). */
  progress?: boolean;
  /** Absent: prologue. */
  strategy?: 'prologue' | 'got' | 'vtable';
  /** --process; undefined: the caller's default (the CLI: system when a sysroot with ld.so exists). */
  process?: 'system' | 'stubs';
  /** --sysroot DIR (system model). */
  sysroot?: string;
  /** --file HOST[:GUEST], in order (system model). */
  files: string[];
  /** --arg, in order: main's arguments after argv[0]. */
  args: string[];
  /** --env K=V, in order: main's environment. */
  env: string[];
  /** --stdin FILE. */
  stdin?: string;
  explore?: ExploreOptions;
  /** --jobs: worker threads for the exploration (the CLI's; the core runs one). */
  jobs?: number;
  /** --seed N: the thread scheduler's seed (system model). */
  seed?: bigint;
  /** --schedules N: schedules replayed from the patch point (system model with threads). */
  schedules?: number;
  /** --report FORMAT:FILE (repeatable): more reports of the same run, written to files by the CLI. */
  reports?: ReportFile[];
}

export interface ReportFile {
  format: ReportFormat;
  path: string;
}

/** One --report value: FORMAT:FILE. */
function reportFile(value: string): ReportFile {
  const colon = value.indexOf(':');
  const format = colon < 0 ? '' : value.slice(0, colon);
  const path = colon < 0 ? '' : value.slice(colon + 1);
  if (!(REPORT_FORMATS as readonly string[]).includes(format) || path === '') {
    throw new VerifyError('bad-option', `--report wants FORMAT:FILE with FORMAT one of ${REPORT_FORMATS.join(', ')} (e.g. html:verify-patch.html), not '${value}'`);
  }
  return { format: format as ReportFormat, path };
}

export const DEFAULT_MAX_FILE_SIZE = 512 * MiB;

export type CommandRequest =
  | { kind: 'verify'; command: ParsedCommand }
  | { kind: 'merge'; files: string[] }
  | { kind: 'help' }
  | { kind: 'version' };

const VALUE_OPTIONS = ['with', 'trampoline', 'signal', 'patch-at', 'max-insns', 'format', 'engine', 'lookup', 'strategy', 'max-file-size', 'max-memory', 'max-output', 'timeout', 'process', 'sysroot', 'stdin', 'explore', 'stride', 'horizon', 'shard', 'jobs', 'seed', 'schedules', 'report'] as const;
/** Options that may be given more than once; each adds one value. */
const REPEATED_OPTIONS = ['file', 'arg', 'env'] as const;
/** Options of the exploration that mean nothing without --explore. */
const EXPLORE_ONLY = ['stride', 'horizon', 'shard', 'jobs'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
type RepeatedOption = (typeof REPEATED_OPTIONS)[number];

function count(text: string, option: string): number {
  if (!/^\d[\d_]*$/.test(text)) throw new VerifyError('bad-option', `--${option} wants a whole number of instructions, not '${text}'`);
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n)) throw new VerifyError('bad-option', `--${option} ${text} is too large`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: MiB, mib: MiB, g: 1024 * MiB, gib: 1024 * MiB };

/** A byte size: 4096, 64K, 512M, 1G (KiB/MiB/GiB accepted too; units are powers of 1024). */
function byteSize(text: string, option: string): number {
  const m = /^(\d[\d_]*)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new VerifyError('bad-option', `--${option} wants a size such as 65536, 64K, 512M or 1G, not '${text}'`);
  const n = Number(m[1]!.replaceAll('_', '')) * unit;
  if (!Number.isSafeInteger(n) || n <= 0) throw new VerifyError('bad-option', `--${option} ${text} is out of range`);
  return n;
}

function seconds(text: string, option: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new VerifyError('bad-option', `--${option} wants a number of seconds (0 for no limit), not '${text}'`);
  const n = Number(text);
  if (n > 1e7) throw new VerifyError('bad-option', `--${option} ${text} is too large`);
  return n;
}

/** Parses the arguments after the program name. Throws VerifyError('bad-option') with a one-line message. */
export function parseCommandLine(argv: readonly string[]): CommandRequest {
  if (argv[0] === 'merge') {
    const files = argv.slice(1);
    if (files.includes('--help') || files.includes('-h')) return { kind: 'help' };
    const option = files.find((f) => f.startsWith('--'));
    if (option) throw new VerifyError('bad-option', `merge takes only JSON reports, not '${option}' (see --help)`);
    if (files.length === 0) throw new VerifyError('bad-option', 'merge needs the JSON reports of the shards: verify-patch merge a.json b.json ...');
    return { kind: 'merge', files };
  }
  const values: Partial<Record<ValueOption, string>> = {};
  const repeated: Record<RepeatedOption, string[]> = { file: [], arg: [], env: [] };
  const positionals: string[] = [];
  const reports: ReportFile[] = [];
  let progress: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-V') return { kind: 'version' };
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--progress' || arg === '--no-progress') {
      progress = arg === '--progress';
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)) as ValueOption;
      const many = REPEATED_OPTIONS.includes(name as unknown as RepeatedOption);
      if (!VALUE_OPTIONS.includes(name) && !many) throw new VerifyError('bad-option', `unknown option '${arg}' (see --help)`);
      // --explore takes its window only when one follows: `--explore 0:5000` or a bare `--explore`.
      const optional = name === 'explore' && eq < 0 && !/^\d[\d_]*:\d[\d_]*$|^:\d[\d_]*$|^\d[\d_]*:$/.test(argv[i + 1] ?? '');
      let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : optional ? '' : argv[++i];
      if (value === undefined) throw new VerifyError('bad-option', `option --${name} needs a value (see --help)`);
      if (name === 'report') {
        reports.push(reportFile(value));
        continue;
      }
      if (many) {
        repeated[name as unknown as RepeatedOption].push(value);
        continue;
      }
      if (values[name] !== undefined) throw new VerifyError('bad-option', `option --${name} given twice`);
      values[name] = value;
      value = undefined;
      continue;
    }
    positionals.push(arg);
  }
  if (positionals.length !== 3) {
    throw new VerifyError('bad-option', `expected 3 arguments <main> <patch.so> <sym>, got ${positionals.length} (see --help)`);
  }
  const [mainPath, patchPath, symbol] = positionals as [string, string, string];
  if (symbol === '') throw new VerifyError('bad-option', '<sym> is empty');
  const format = values.format ?? 'text';
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new VerifyError('bad-option', `--format must be ${REPORT_FORMATS.slice(0, -1).join(', ')} or ${REPORT_FORMATS.at(-1)}, not '${format}'`);
  const engine = values.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'unicorn') throw new VerifyError('bad-option', `--engine must be wasm or unicorn, not '${engine}'`);
  const t = values.trampoline?.trim();
  const trampoline: TrampolineChoice = t === undefined || t === 'abs-rax' ? 'abs-rax' : t === 'rel32' || t === 'abs-indirect' ? t : { template: t };
  const command: ParsedCommand = {
    mainPath, patchPath, symbol, trampoline, format: format as ReportFormat, engine, files: repeated.file, args: repeated.arg, env: repeated.env,
    maxFileSize: values['max-file-size'] === undefined ? DEFAULT_MAX_FILE_SIZE : byteSize(values['max-file-size'], 'max-file-size'),
    maxMemory: values['max-memory'] === undefined ? DEFAULT_MAX_MEMORY : byteSize(values['max-memory'], 'max-memory'),
    maxOutput: values['max-output'] === undefined ? DEFAULT_MAX_OUTPUT : byteSize(values['max-output'], 'max-output'),
    timeoutSeconds: values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : seconds(values.timeout, 'timeout'),
  };
  if (command.maxMemory < 16 * MiB) throw new VerifyError('bad-option', '--max-memory must be at least 16M (the process image alone needs a few MiB)');
  if (reports.length > 0) command.reports = reports;
  if (progress !== undefined) command.progress = progress;
  if (values.process !== undefined) {
    if (values.process !== 'system' && values.process !== 'stubs') throw new VerifyError('bad-option', `--process must be system or stubs, not '${values.process}'`);
    command.process = values.process;
  }
  if (values.sysroot !== undefined) command.sysroot = values.sysroot;
  if (values.stdin !== undefined) command.stdin = values.stdin;
  if (values.seed !== undefined) {
    if (!/^\d{1,19}$/.test(values.seed) || BigInt(values.seed) >= 1n << 64n) throw new VerifyError('bad-option', `--seed wants a whole number below 2^64, not '${values.seed}'`);
    command.seed = BigInt(values.seed);
  }
  if (values.schedules !== undefined) {
    if (!/^\d{1,4}$/.test(values.schedules) || Number(values.schedules) < 1 || Number(values.schedules) > 1024) throw new VerifyError('bad-option', `--schedules wants a number of schedules from 1 to 1024, not '${values.schedules}'`);
    command.schedules = Number(values.schedules);
  }
  for (const e of repeated.env) {
    if (!/^[^=]+=/.test(e)) throw new VerifyError('bad-option', `--env wants NAME=VALUE, not '${e}'`);
  }
  if (command.process === 'stubs' && (command.sysroot !== undefined || command.files.length > 0 || command.stdin !== undefined)) {
    throw new VerifyError('bad-option', '--sysroot, --file and --stdin need the system process model (--process system)');
  }
  if (values.with !== undefined) command.with = values.with;
  if (values.strategy !== undefined) {
    const strategy = values.strategy;
    if (strategy !== 'prologue' && strategy !== 'got' && strategy !== 'vtable') throw new VerifyError('bad-option', `--strategy must be prologue, got or vtable, not '${strategy}'`);
    if (strategy !== 'prologue') command.strategy = strategy;
  }
  if (values.signal !== undefined) command.signal = values.signal;
  if (values.lookup !== undefined) {
    if (values.lookup !== 'dynsym' && values.lookup !== 'symtab') throw new VerifyError('bad-option', `--lookup must be dynsym or symtab, not '${values.lookup}'`);
    command.lookup = values.lookup;
  }
  if (values['patch-at'] !== undefined) command.patchAt = count(values['patch-at'], 'patch-at');
  if (values['max-insns'] !== undefined) {
    command.maxInstructions = count(values['max-insns'], 'max-insns');
    if (command.maxInstructions === 0) throw new VerifyError('bad-option', '--max-insns must be at least 1');
  }
  if (values.explore !== undefined) {
    command.explore = exploreOptions(values);
    if (values.jobs !== undefined) {
      command.jobs = count(values.jobs, 'jobs');
      if (command.jobs === 0) throw new VerifyError('bad-option', '--jobs must be at least 1');
    }
  } else {
    const stray = EXPLORE_ONLY.find((o) => values[o] !== undefined);
    if (stray) throw new VerifyError('bad-option', `--${stray} applies to --explore only`);
  }
  return { kind: 'verify', command };
}

function exploreOptions(values: Partial<Record<ValueOption, string>>): ExploreOptions {
  const options: ExploreOptions = {};
  const window = values.explore ?? '';
  if (window !== '') {
    const [from, to] = window.split(':') as [string, string | undefined];
    if (to === undefined) throw new VerifyError('bad-option', `--explore wants a window FROM:TO of instruction counts, not '${window}'`);
    if (from !== '') options.from = count(from, 'explore');
    if (to !== '') options.to = count(to, 'explore');
  }
  if (values.stride !== undefined) options.stride = count(values.stride, 'stride');
  if (values.horizon !== undefined) options.horizon = horizonOption(values.horizon);
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m) throw new VerifyError('bad-option', `--shard wants i/n (slice i of n, 1 <= i <= n), not '${values.shard}'`);
    options.shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  validateExploreOptions(options);
  return options;
}

/** `return` (default: until a call through the trampoline returned, at most 10000), `return:N`, or `N` (exactly N). */
function horizonOption(text: string): HorizonOption {
  if (text === 'return') return { ...DEFAULT_HORIZON };
  const m = /^(return:)?(\d[\d_]*)$/.exec(text);
  if (!m) throw new VerifyError('bad-option', `--horizon wants return, return:N or N (instructions), not '${text}'`);
  const instructions = count(m[2]!, 'horizon');
  if (instructions === 0) throw new VerifyError('bad-option', '--horizon must be at least 1 instruction');
  return { instructions, untilReturn: m[1] !== undefined };
}

export interface CommandOutcome {
  result: VerifyResult;
  report: string;
  exitCode: number;
}


/**
 * Runs a parsed command on the two files' bytes. `engine` overrides the command's engine
 * (tests, the web worker); `libraries`: the files main needs beyond the emulated system
 * libraries (collectNeededLibraries; stubs model); `host` gives what only the caller can build:
 * the system model's file system (from --sysroot/--file) and main's standard input (--stdin).
 */
export async function runCommand(command: ParsedCommand, main: Uint8Array, patch: Uint8Array, engine?: EngineChoice, libraries?: LibraryFile[], host?: { process?: ProcessChoice; stdin?: Uint8Array }): Promise<CommandOutcome> {
  const input = commandInput(command, main, patch, engine, libraries, host);
  const result: VerifyResult = command.process === 'system' && !host?.process
    ? { verdict: 'error', findings: [], error: 'the system process model needs a sysroot, which this caller cannot read (use the command line, or pass one)' }
    : await verifyPatch(input);
  return { result, report: render(result, command), exitCode: EXIT_CODES[result.verdict] };
}

/** The verifyPatch input a command line stands for (runCommand's, and the CLI's --jobs). */
export function commandInput(command: ParsedCommand, main: Uint8Array, patch: Uint8Array, engine?: EngineChoice, libraries?: LibraryFile[], host?: { process?: ProcessChoice; stdin?: Uint8Array }): VerifyInput {
  const input: VerifyInput = {
    main,
    mainName: command.mainPath,
    patch,
    patchName: command.patchPath,
    symbol: command.symbol,
    trampoline: command.trampoline,
    engine: engine ?? command.engine,
  };
  if (command.with !== undefined) input.with = command.with;
  if (libraries !== undefined && libraries.length > 0) input.libraries = libraries;
  if (command.strategy !== undefined) input.strategy = command.strategy;
  if (command.signal !== undefined) input.signal = command.signal;
  if (command.lookup !== undefined) input.lookup = command.lookup;
  if (command.patchAt !== undefined) input.patchAt = command.patchAt;
  if (command.maxInstructions !== undefined) input.maxInstructions = command.maxInstructions;
  if (command.explore !== undefined) input.explore = command.explore;
  input.limits = { maxMemory: command.maxMemory, maxOutput: command.maxOutput, timeoutSeconds: command.timeoutSeconds };
  if (host?.process) input.process = host.process;
  const guest: GuestInputs = { argv: command.args, envp: command.env };
  if (host?.stdin) guest.stdin = host.stdin;
  if (command.seed !== undefined) guest.seed = command.seed;
  input.guest = guest;
  if (command.schedules !== undefined) input.schedules = command.schedules;
  input.replayArgs = replayArgs(command);
  return input;
}

/** The options that shape the run (not the report's form): what a replay command repeats. */
function replayArgs(c: ParsedCommand): string[] {
  const out: string[] = [];
  const add = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) out.push(`--${name}`, String(value));
  };
  add('with', c.with);
  add('signal', c.signal);
  add('strategy', c.strategy);
  add('lookup', c.lookup);
  add('patch-at', c.patchAt);
  add('max-insns', c.maxInstructions);
  add('process', c.process);
  add('sysroot', c.sysroot);
  for (const f of c.files) add('file', f);
  for (const a of c.args) add('arg', a);
  for (const e of c.env) add('env', e);
  add('stdin', c.stdin);
  return out;
}

export function render(result: VerifyResult, command: Pick<ParsedCommand, 'format' | 'mainPath' | 'patchPath'>): string {
  switch (command.format) {
    case 'json':
      return renderJson(result, TOOL);
    case 'sarif':
      return renderSarif(result, TOOL, { main: command.mainPath, patch: command.patchPath });
    case 'text':
      return renderText(result);
    case 'html':
      return renderHtml(result, TOOL);
    case 'markdown':
      return renderMarkdown(result);
  }
}
