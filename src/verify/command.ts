// The verify-patch command line, independent of Node: parse the arguments of the contract
// (shared/design.md), run the verification on file bytes the caller supplies, render the
// report. src/cli adds only the file system and the process; tests and the web page call
// this directly, so they exercise exactly what the CLI does.

import { renderJson } from '../report/json.js';
import { renderSarif } from '../report/sarif.js';
import { renderText } from '../report/text.js';
import { VerifyError } from './error.js';
import { EXIT_CODES } from './finding.js';
import type { EngineChoice, PatcherLookup, TrampolineChoice, VerifyInput } from './input.js';
import type { LibraryFile } from './libraries.js';
import { DEFAULT_HORIZON, type ExploreOptions, type HorizonOption } from './explore/types.js';
import { validateExploreOptions } from './explore/explore.js';
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
  explore?: ExploreOptions;
  /** --jobs: worker threads for the exploration (the CLI's; the core runs one). */
  jobs?: number;
}

export type CommandRequest =
  | { kind: 'verify'; command: ParsedCommand }
  | { kind: 'merge'; files: string[] }
  | { kind: 'help' }
  | { kind: 'version' };

const VALUE_OPTIONS = ['with', 'trampoline', 'signal', 'patch-at', 'max-insns', 'format', 'engine', 'lookup', 'strategy', 'explore', 'stride', 'horizon', 'shard', 'jobs'] as const;
/** Options of the exploration that mean nothing without --explore. */
const EXPLORE_ONLY = ['stride', 'horizon', 'shard', 'jobs'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function count(text: string, option: string): number {
  if (!/^\d[\d_]*$/.test(text)) throw new VerifyError('bad-option', `--${option} wants a whole number of instructions, not '${text}'`);
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n)) throw new VerifyError('bad-option', `--${option} ${text} is too large`);
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
      if (!VALUE_OPTIONS.includes(name)) throw new VerifyError('bad-option', `unknown option '${arg}' (see --help)`);
      // --explore takes its window only when one follows: `--explore 0:5000` or a bare `--explore`.
      const optional = name === 'explore' && eq < 0 && !/^\d[\d_]*:\d[\d_]*$|^:\d[\d_]*$|^\d[\d_]*:$/.test(argv[i + 1] ?? '');
      let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : optional ? '' : argv[++i];
      if (value === undefined) throw new VerifyError('bad-option', `option --${name} needs a value (see --help)`);
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
  const command: ParsedCommand = { mainPath, patchPath, symbol, trampoline, format, engine };
  if (progress !== undefined) command.progress = progress;
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

export const TOOL = { name: 'verify-patch', version: '0.1.0' } as const;

/** Runs a parsed command on the two files' bytes. `engine` overrides the command's engine (tests, the web worker). */
/** `libraries`: the files main needs beyond the emulated system libraries (collectNeededLibraries). */
export async function runCommand(command: ParsedCommand, main: Uint8Array, patch: Uint8Array, engine?: EngineChoice, libraries?: LibraryFile[]): Promise<CommandOutcome> {
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
  const result = await verifyPatch(input);
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
