// Phase 1 of the pipeline: the plan. Everything decided from the inputs alone, before any
// emulation: options validated, both ELF files parsed, the target and its replacement
// resolved, the code map of main built, the patcher (tool | program) and the strategy chosen.

import { CodeMap } from '../../analysis/index.js';
import { codeImageFromElf } from '../../analysis/from-elf.js';
import { Assembler } from '../../asm/keystone.js';
import { parseTrampolineSpec, type TrampolineSpec } from '../../asm/trampoline.js';
import { ElfError, ElfFile, initDemangler } from '../../elf/index.js';
import { signalNumber, SIGNAL_NAMES } from '../../loader/index.js';
import { VerifyError } from '../error.js';
import { DEFAULT_MAX_INSTRUCTIONS, type PatcherLookup, type VerifyInput } from '../input.js';
import { chooseReplacement, type ReplacementChoice } from '../replacement.js';
import { requireFunction, type ResolvedFunction } from '../symbols.js';
import { strategyFor, type PatchStrategy } from '../strategies/index.js';

export type PatchMode = 'tool-driven' | 'program-driven';

export interface VerifyPlan {
  input: VerifyInput;
  mode: PatchMode;
  /** Instruction budget for the whole run (and, again, for the baseline's continuation). */
  budget: number;
  patchAt?: number;
  /** Program-driven: the signal main's handler patches on. */
  signal?: { number: number; name: string };
  trampolineSpec: TrampolineSpec;
  /** Tool-driven: how the tool finds the old function. */
  lookup: PatcherLookup;
  mainElf: ElfFile;
  patchElf: ElfFile;
  target: ResolvedFunction;
  /** null when program-driven and patch.so names no replacement the tool can find. */
  replacement: ReplacementChoice | null;
  /** Loaded only for a Keystone template in tool-driven mode. */
  assembler?: Assembler;
  codeMap: CodeMap;
  strategy: PatchStrategy;
}

function parseElf(bytes: Uint8Array, role: string, name: string): ElfFile {
  try {
    return ElfFile.parse(bytes);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    const what = e.problem === 'truncated' ? 'is truncated (cut short or damaged)' : e.problem === 'not-elf' ? 'is not an ELF file' : 'is not a usable ELF file';
    throw new VerifyError('bad-input', `${role} '${name}' ${what}: ${e.message}`);
  }
}

/** The target in main; a stripped main that lacks it is named as such. */
function findTarget(mainElf: ElfFile, input: VerifyInput, lookup: PatcherLookup): ResolvedFunction {
  try {
    return requireFunction(mainElf, input.symbol, `the executable '${input.mainName}'`);
  } catch (e) {
    if (!(e instanceof VerifyError) || e.problem !== 'symbol-not-found' || mainElf.sections.some((s) => s.name === '.symtab')) throw e;
    const who = lookup === 'symtab' ? 'an external patcher reading the symbol table (--lookup symtab)' : 'dlsym(RTLD_DEFAULT)';
    throw new VerifyError('symbol-not-found', `${e.message}: '${input.mainName}' is stripped (no .symtab) and does not export it, so ${who} cannot find it either; verify against the unstripped build`);
  }
}

/** How the run goes, whatever the strategy: who patches, the budget, the patch point, the signal. */
export interface RunOptions {
  mode: PatchMode;
  budget: number;
  patchAt?: number;
  signal?: { number: number; name: string };
}

/** Validates the options every strategy shares (the slot strategies plan the rest themselves: strategies/run.ts). */
export function planRunOptions(input: VerifyInput): RunOptions {
  const mode: PatchMode = input.signal === undefined ? 'tool-driven' : 'program-driven';
  const budget = input.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (!Number.isInteger(budget) || budget <= 0) throw new VerifyError('bad-option', `the instruction budget must be a positive integer, not ${budget}`);
  if (input.patchAt !== undefined && (!Number.isInteger(input.patchAt) || input.patchAt < 0)) {
    throw new VerifyError('bad-option', `--patch-at must be a non-negative instruction count, not ${input.patchAt}`);
  }
  let signal: RunOptions['signal'];
  if (input.signal !== undefined) {
    const signo = signalNumber(input.signal);
    if (signo === undefined || signo <= 0 || signo >= 65) throw new VerifyError('bad-option', `unknown signal '${input.signal}' (try USR1, USR2, HUP or a number)`);
    signal = { number: signo, name: SIGNAL_NAMES[signo] ?? `signal ${signo}` };
  }
  return { mode, budget, ...(input.patchAt !== undefined ? { patchAt: input.patchAt } : {}), ...(signal ? { signal } : {}) };
}

export async function planVerification(input: VerifyInput): Promise<VerifyPlan> {
  const { mode, budget, signal } = planRunOptions(input);
  const lookup = input.lookup ?? 'dynsym';
  if (lookup !== 'dynsym' && lookup !== 'symtab') throw new VerifyError('bad-option', `--lookup must be dynsym or symtab, not '${String(lookup)}'`);
  if (input.lookup !== undefined && input.signal !== undefined) {
    throw new VerifyError('bad-option', '--lookup models the tool as the patcher; with --signal the program\'s own handler looks the function up (drop one of them)');
  }
  const trampolineSpec: TrampolineSpec = typeof input.trampoline === 'object' ? parseTrampolineSpec(input.trampoline.template) : input.trampoline ?? 'abs-rax';

  const mainElf = parseElf(input.main, 'the executable', input.mainName);
  const patchElf = parseElf(input.patch, 'the patch', input.patchName);
  // The demangler costs ~80 ms to load: only when a name is mangled (C programs have none).
  if ([mainElf, patchElf].some(hasMangledNames)) await initDemangler();
  const target = findTarget(mainElf, input, lookup);
  const replacement = chooseReplacement(patchElf, `the patch '${input.patchName}'`, target, { ...(input.with !== undefined ? { with: input.with } : {}), symbol: input.symbol }, mode === 'tool-driven');
  const assembler = typeof trampolineSpec === 'object' && mode === 'tool-driven' ? await Assembler.load() : undefined;
  const codeMap = CodeMap.build(codeImageFromElf(mainElf));
  return {
    input, mode, budget, trampolineSpec, lookup, mainElf, patchElf, target, replacement: replacement ?? null, codeMap,
    strategy: strategyFor('prologue'),
    ...(input.patchAt !== undefined ? { patchAt: input.patchAt } : {}),
    ...(signal ? { signal } : {}),
    ...(assembler ? { assembler } : {}),
  };
}

function hasMangledNames(elf: ElfFile): boolean {
  const mangled = (s: { name: string }): boolean => s.name.startsWith('_Z') || s.name.startsWith('_R');
  return elf.symbols.some(mangled) || elf.dynamicSymbols.some(mangled);
}
