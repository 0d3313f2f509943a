// The verify-patch command line, independent of Node: parse the arguments of the contract
// (shared/design.md), run the verification on file bytes the caller supplies, render the
// report. src/cli adds only the file system and the process; tests and the web page call
// this directly, so they exercise exactly what the CLI does.

import { renderJson } from '../report/json.js';
import { renderSarif } from '../report/sarif.js';
import { renderText } from '../report/text.js';
import { VerifyError } from './error.js';
import { EXIT_CODES } from './finding.js';
import type { EngineChoice, GuestInputs, PatcherLookup, ProcessChoice, TrampolineChoice, VerifyInput } from './input.js';
import type { LibraryFile } from './libraries.js';
import type { VerifyResult } from './result.js';
import { verifyPatch } from './verify.js';

export type ReportFormat = 'text' | 'json' | 'sarif';

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
  /** --seed N: the thread scheduler's seed (system model). */
  seed?: bigint;
}

export type CommandRequest = { kind: 'verify'; command: ParsedCommand } | { kind: 'help' } | { kind: 'version' };

const VALUE_OPTIONS = ['with', 'trampoline', 'signal', 'patch-at', 'max-insns', 'format', 'engine', 'lookup', 'strategy', 'process', 'sysroot', 'stdin', 'seed'] as const;
/** Options that may be given more than once; each adds one value. */
const REPEATED_OPTIONS = ['file', 'arg', 'env'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
type RepeatedOption = (typeof REPEATED_OPTIONS)[number];

function count(text: string, option: string): number {
  if (!/^\d[\d_]*$/.test(text)) throw new VerifyError('bad-option', `--${option} wants a whole number of instructions, not '${text}'`);
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n)) throw new VerifyError('bad-option', `--${option} ${text} is too large`);
  return n;
}

/** Parses the arguments after the program name. Throws VerifyError('bad-option') with a one-line message. */
export function parseCommandLine(argv: readonly string[]): CommandRequest {
  const values: Partial<Record<ValueOption, string>> = {};
  const repeated: Record<RepeatedOption, string[]> = { file: [], arg: [], env: [] };
  const positionals: string[] = [];
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
      let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new VerifyError('bad-option', `option --${name} needs a value (see --help)`);
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
  if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new VerifyError('bad-option', `--format must be text, json or sarif, not '${format}'`);
  const engine = values.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'unicorn') throw new VerifyError('bad-option', `--engine must be wasm or unicorn, not '${engine}'`);
  const t = values.trampoline?.trim();
  const trampoline: TrampolineChoice = t === undefined || t === 'abs-rax' ? 'abs-rax' : t === 'rel32' || t === 'abs-indirect' ? t : { template: t };
  const command: ParsedCommand = { mainPath, patchPath, symbol, trampoline, format, engine, files: repeated.file, args: repeated.arg, env: repeated.env };
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
  return { kind: 'verify', command };
}

export interface CommandOutcome {
  result: VerifyResult;
  report: string;
  exitCode: number;
}

export const TOOL = { name: 'verify-patch', version: '0.1.0' } as const;

/**
 * Runs a parsed command on the two files' bytes. `engine` overrides the command's engine
 * (tests, the web worker); `libraries`: the files main needs beyond the emulated system
 * libraries (collectNeededLibraries; stubs model); `host` gives what only the caller can build:
 * the system model's file system (from --sysroot/--file) and main's standard input (--stdin).
 */
export async function runCommand(command: ParsedCommand, main: Uint8Array, patch: Uint8Array, engine?: EngineChoice, libraries?: LibraryFile[], host?: { process?: ProcessChoice; stdin?: Uint8Array }): Promise<CommandOutcome> {
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
  if (host?.process) input.process = host.process;
  const guest: GuestInputs = { argv: command.args, envp: command.env };
  if (host?.stdin) guest.stdin = host.stdin;
  if (command.seed !== undefined) guest.seed = command.seed;
  input.guest = guest;
  const result: VerifyResult = command.process === 'system' && !host?.process
    ? { verdict: 'error', findings: [], error: 'the system process model needs a sysroot, which this caller cannot read (use the command line, or pass one)' }
    : await verifyPatch(input);
  return { result, report: render(result, command), exitCode: EXIT_CODES[result.verdict] };
}

export function render(result: VerifyResult, command: Pick<ParsedCommand, 'format' | 'mainPath' | 'patchPath'>): string {
  switch (command.format) {
    case 'json':
      return renderJson(result, TOOL);
    case 'sarif':
      return renderSarif(result, TOOL, { main: command.mainPath, patch: command.patchPath });
    case 'text':
      return renderText(result);
  }
}
