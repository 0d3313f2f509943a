// The corpus's expect.json files: their type, a validating reader, and a loader
// over all scenarios. The verifier's corpus regression test reuses these.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { EXIT_CODES, isFindingCode, type FindingCode, type Severity, type Verdict } from '../../src/verify/finding.js';
import { collectNeededLibraries, type LibraryFile } from '../../src/verify/libraries.js';

export const CORPUS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../corpus');
/** The upstream programs (corpus/real/SCENARIOS lists them); load with corpusCases(REAL_CORPUS_DIR). */
export const REAL_CORPUS_DIR = join(CORPUS_DIR, 'real');

/** A finding the verifier must report (every error and warning; infos are not listed). */
export interface ExpectedFinding {
  code: FindingCode;
  severity: Exclude<Severity, 'info'>;
}

/** What a real run of the committed binary on this machine shows (cwd = scenario folder). */
export interface NativeRun {
  argv: string[];
  stdoutContains: string[];
  stdoutLacks: string[];
  /** Terminating signal name ("SIGSEGV"), or null for a normal exit. */
  signal: NodeJS.Signals | null;
}

export interface CorpusCase {
  name: string;
  /** Executable, patch and symbol: file names relative to the scenario folder. */
  main: string;
  patch: string;
  symbol: string;
  /** verify-patch options after the three positionals; `--signal` marks a program-driven case. */
  args: string[];
  verdict: Verdict;
  exitCode: number;
  findings: ExpectedFinding[];
  /** Only for exit code 2: a fragment of the error message. */
  messageContains?: string;
  native?: NativeRun;
  /** For a case whose args have --explore: what the exploration must find. */
  exploration?: ExpectedExploration;
  /**
   * The process model the case needs (`--process`): "system" (the real ld.so and glibc over
   * the emulated kernel) for the upstream programs of corpus/real; absent: either model.
   */
  process?: ProcessModel;
}

/** The exploration's outcome, pinned: counts, the codes of the unsafe windows, what the program was doing there. */
export interface ExpectedExploration {
  defaultPointVerdict: 'safe' | 'unsafe';
  points: number;
  unsafePoints: number;
  notApplied: number;
  windows: number;
  /** Every code of every unsafe window, sorted. */
  codes: string[];
  /** Fragments each found in some window's `doing` ("the call from handle_events+0x5"). */
  doing: string[];
}

export type ProcessModel = 'system' | 'stubs';

export interface Scenario {
  scenario: string;
  description: string;
  cases: CorpusCase[];
  /** Absolute path of the scenario folder. */
  dir: string;
}

/** A case with the absolute paths of its inputs, ready to hand to verify-patch. */
export interface ResolvedCase extends CorpusCase {
  scenario: string;
  dir: string;
  mainPath: string;
  patchPath: string;
}

/** Thrown by readScenario; lists every problem found in one expect.json. */
export class CorpusError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}:\n  ${problems.join('\n  ')}`);
    this.name = 'CorpusError';
  }
}

const VERDICTS: readonly Verdict[] = ['safe', 'unsafe', 'error'];
const SCENARIO_KEYS = ['scenario', 'description', 'cases'];
const CASE_KEYS = ['name', 'process', 'main', 'patch', 'symbol', 'args', 'verdict', 'exitCode', 'findings', 'messageContains', 'native', 'exploration'];
const EXPLORATION_KEYS = ['defaultPointVerdict', 'points', 'unsafePoints', 'notApplied', 'windows', 'codes', 'doing'];

function checkExploration(value: unknown, where: string, args: unknown, problems: string[]): ExpectedExploration | undefined {
  if (!isRecord(value)) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  const before = problems.length;
  problems.push(...unknownKeys(value, EXPLORATION_KEYS, where));
  for (const key of EXPLORATION_KEYS) if (!(key in value)) problems.push(`${where}.${key}: missing`);
  if (value.defaultPointVerdict !== 'safe' && value.defaultPointVerdict !== 'unsafe') problems.push(`${where}.defaultPointVerdict: safe or unsafe`);
  for (const key of ['points', 'unsafePoints', 'notApplied', 'windows']) {
    if (!Number.isInteger(value[key]) || (value[key] as number) < 0) problems.push(`${where}.${key}: must be a whole number`);
  }
  if (!isStringArray(value.codes)) problems.push(`${where}.codes: must be an array of strings`);
  else if (value.codes.some((c) => !isFindingCode(c) && c !== 'CRASH_AFTER_PATCH')) problems.push(`${where}.codes: unknown code`);
  if (!isStringArray(value.doing)) problems.push(`${where}.doing: must be an array of strings`);
  if (!isStringArray(args) || !args.includes('--explore')) problems.push(`${where}: only for a case whose args have --explore`);
  return problems.length > before ? undefined : (value as unknown as ExpectedExploration);
}
const NATIVE_KEYS = ['argv', 'stdoutContains', 'stdoutLacks', 'signal'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function unknownKeys(record: Record<string, unknown>, allowed: readonly string[], where: string): string[] {
  return Object.keys(record)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${where}: unknown key "${key}"`);
}

function checkNative(value: unknown, where: string, problems: string[]): NativeRun | undefined {
  if (!isRecord(value)) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  problems.push(...unknownKeys(value, NATIVE_KEYS, where));
  const { argv, stdoutContains, stdoutLacks, signal } = value;
  if (!isStringArray(argv)) problems.push(`${where}.argv: must be an array of strings`);
  if (!isStringArray(stdoutContains)) problems.push(`${where}.stdoutContains: must be an array of strings`);
  if (!isStringArray(stdoutLacks)) problems.push(`${where}.stdoutLacks: must be an array of strings`);
  if (signal !== null && !(typeof signal === 'string' && /^SIG[A-Z0-9]+$/.test(signal)))
    problems.push(`${where}.signal: must be null or a signal name such as "SIGSEGV"`);
  if (isStringArray(stdoutContains) && isStringArray(stdoutLacks) && stdoutContains.length + stdoutLacks.length === 0)
    problems.push(`${where}: asserts nothing about stdout`);
  if (!isStringArray(argv) || !isStringArray(stdoutContains) || !isStringArray(stdoutLacks)) return undefined;
  return { argv, stdoutContains, stdoutLacks, signal: signal as NodeJS.Signals | null };
}

function checkFindings(value: unknown, where: string, problems: string[]): ExpectedFinding[] {
  if (!Array.isArray(value)) {
    problems.push(`${where}: must be an array`);
    return [];
  }
  const findings: ExpectedFinding[] = [];
  value.forEach((item: unknown, index) => {
    const at = `${where}[${index}]`;
    if (!isRecord(item)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    problems.push(...unknownKeys(item, ['code', 'severity'], at));
    const { code, severity } = item;
    if (typeof code !== 'string' || !isFindingCode(code)) problems.push(`${at}.code: "${String(code)}" is not a finding code`);
    else if (severity !== 'error' && severity !== 'warning') problems.push(`${at}.severity: must be "error" or "warning"`);
    else findings.push({ code, severity });
  });
  return findings;
}

function checkCase(value: unknown, where: string, dir: string, problems: string[]): CorpusCase | undefined {
  if (!isRecord(value)) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  const before = problems.length;
  problems.push(...unknownKeys(value, CASE_KEYS, where));
  const { name, main, patch, symbol, args, verdict, exitCode, messageContains } = value;
  for (const [key, field] of Object.entries({ name, main, patch, symbol })) {
    if (typeof field !== 'string' || field === '') problems.push(`${where}.${key}: must be a non-empty string`);
  }
  for (const [key, file] of Object.entries({ main, patch })) {
    if (typeof file === 'string' && file !== '' && !existsSync(join(dir, file)))
      problems.push(`${where}.${key}: ${file} does not exist in ${dir}`);
  }
  if (!isStringArray(args)) problems.push(`${where}.args: must be an array of strings`);
  if (typeof verdict !== 'string' || !(VERDICTS as readonly string[]).includes(verdict))
    problems.push(`${where}.verdict: must be one of ${VERDICTS.join(', ')}`);
  else if (exitCode !== EXIT_CODES[verdict as Verdict])
    problems.push(`${where}.exitCode: ${String(exitCode)} does not match verdict "${verdict}" (${EXIT_CODES[verdict as Verdict]})`);
  const findings = checkFindings(value.findings, `${where}.findings`, problems);
  const exploration = value.exploration === undefined ? undefined : checkExploration(value.exploration, `${where}.exploration`, args, problems);
  const hasError = findings.some((finding) => finding.severity === 'error') || (exploration?.unsafePoints ?? 0) > 0;
  if (verdict === 'unsafe' && !hasError) problems.push(`${where}: verdict "unsafe" needs at least one error finding (or unsafe explored points)`);
  if (verdict === 'safe' && hasError) problems.push(`${where}: verdict "safe" with an error finding`);
  if (verdict === 'error' && findings.length > 0) problems.push(`${where}: verdict "error" lists findings`);
  if (verdict === 'error' && (typeof messageContains !== 'string' || messageContains === ''))
    problems.push(`${where}.messageContains: required for exit code 2`);
  if (verdict !== 'error' && messageContains !== undefined) problems.push(`${where}.messageContains: only for exit code 2`);
  const codes = findings.map((finding) => finding.code);
  if (new Set(codes).size !== codes.length) problems.push(`${where}.findings: a code is listed twice`);
  const native = value.native === undefined ? undefined : checkNative(value.native, `${where}.native`, problems);
  if (value.process !== undefined && value.process !== 'system' && value.process !== 'stubs')
    problems.push(`${where}.process: must be "system" or "stubs"`);
  if (problems.length > before) return undefined;
  const checked: CorpusCase = {
    name: name as string,
    main: main as string,
    patch: patch as string,
    symbol: symbol as string,
    args: args as string[],
    verdict: verdict as Verdict,
    exitCode: exitCode as number,
    findings,
  };
  if (typeof messageContains === 'string') checked.messageContains = messageContains;
  if (native !== undefined) checked.native = native;
  if (exploration !== undefined) checked.exploration = exploration;
  if (value.process === 'system' || value.process === 'stubs') checked.process = value.process;
  return checked;
}

/** Read and validate one scenario folder's expect.json; throws CorpusError listing every problem. */
export function readScenario(dir: string): Scenario {
  const file = join(dir, 'expect.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CorpusError(file, [`cannot read: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  if (!isRecord(parsed)) throw new CorpusError(file, ['must be a JSON object']);
  problems.push(...unknownKeys(parsed, SCENARIO_KEYS, 'expect.json'));
  const { scenario, description, cases } = parsed;
  const folder = dir.split(/[\\/]/).pop();
  if (scenario !== folder) problems.push(`scenario: "${String(scenario)}" differs from the folder name "${folder}"`);
  if (typeof description !== 'string' || description === '') problems.push('description: must be a non-empty string');
  const checkedCases: CorpusCase[] = [];
  if (!Array.isArray(cases) || cases.length === 0) problems.push('cases: must be a non-empty array');
  else
    cases.forEach((item: unknown, index) => {
      const checked = checkCase(item, `cases[${index}]`, dir, problems);
      if (checked) checkedCases.push(checked);
    });
  const names = checkedCases.map((item) => item.name);
  if (new Set(names).size !== names.length) problems.push('cases: a case name is used twice');
  if (problems.length > 0) throw new CorpusError(file, problems);
  return { scenario: scenario as string, description: description as string, cases: checkedCases, dir };
}

/** Scenario folders in corpus order (corpus/SCENARIOS, the order build.sh builds them). */
export function scenarioDirs(corpusDir: string = CORPUS_DIR): string[] {
  const listed = readFileSync(join(corpusDir, 'SCENARIOS'), 'utf8').split(/\s+/).filter(Boolean);
  return listed.map((name) => join(corpusDir, name));
}

/** Folders holding an expect.json, whether or not SCENARIOS lists them. */
export function foldersWithExpectations(corpusDir: string = CORPUS_DIR): string[] {
  return readdirSync(corpusDir)
    .map((name) => join(corpusDir, name))
    .filter((path) => statSync(path).isDirectory() && existsSync(join(path, 'expect.json')));
}

export function loadCorpus(corpusDir: string = CORPUS_DIR): Scenario[] {
  return scenarioDirs(corpusDir).map(readScenario);
}

/** Every case of the corpus with absolute input paths, for table-driven tests (`it.each`). */
export function corpusCases(corpusDir: string = CORPUS_DIR): ResolvedCase[] {
  return loadCorpus(corpusDir).flatMap((scenario) =>
    scenario.cases.map((item) => ({
      ...item,
      scenario: scenario.scenario,
      dir: scenario.dir,
      mainPath: join(scenario.dir, item.main),
      patchPath: join(scenario.dir, item.patch),
    })),
  );
}

/** The libraries a case's main needs from its folder (RUNPATH $ORIGIN), read as the CLI reads them. */
export function neededLibraries(c: ResolvedCase): LibraryFile[] {
  const main = new Uint8Array(readFileSync(c.mainPath));
  return collectNeededLibraries(main, (relative) => {
    const path = join(c.dir, relative);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
  });
}
