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
import type { EngineChoice, PatcherLookup, TrampolineChoice, VerifyInput } from './input.js';
import type { LibraryFile } from './libraries.js';
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

export type CommandRequest = { kind: 'verify'; command: ParsedCommand } | { kind: 'help' } | { kind: 'version' };

const VALUE_OPTIONS = ['with', 'trampoline', 'signal', 'patch-at', 'max-insns', 'format', 'engine', 'lookup', 'strategy', 'max-file-size', 'max-memory', 'max-output', 'timeout', 'report'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

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
  const values: Partial<Record<ValueOption, string>> = {};
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
      if (!VALUE_OPTIONS.includes(name)) throw new VerifyError('bad-option', `unknown option '${arg}' (see --help)`);
      let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new VerifyError('bad-option', `option --${name} needs a value (see --help)`);
      if (name === 'report') {
        reports.push(reportFile(value));
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
    mainPath, patchPath, symbol, trampoline, format: format as ReportFormat, engine,
    maxFileSize: values['max-file-size'] === undefined ? DEFAULT_MAX_FILE_SIZE : byteSize(values['max-file-size'], 'max-file-size'),
    maxMemory: values['max-memory'] === undefined ? DEFAULT_MAX_MEMORY : byteSize(values['max-memory'], 'max-memory'),
    maxOutput: values['max-output'] === undefined ? DEFAULT_MAX_OUTPUT : byteSize(values['max-output'], 'max-output'),
    timeoutSeconds: values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : seconds(values.timeout, 'timeout'),
  };
  if (command.maxMemory < 16 * MiB) throw new VerifyError('bad-option', '--max-memory must be at least 16M (the process image alone needs a few MiB)');
  if (reports.length > 0) command.reports = reports;
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
  return { kind: 'verify', command };
}

export interface CommandOutcome {
  result: VerifyResult;
  report: string;
  exitCode: number;
}


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
  input.limits = { maxMemory: command.maxMemory, maxOutput: command.maxOutput, timeoutSeconds: command.timeoutSeconds };
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
    case 'html':
      return renderHtml(result, TOOL);
    case 'markdown':
      return renderMarkdown(result);
  }
}
