// Phase 1 of the pipeline: the plan. Everything decided from the inputs alone, before any
// emulation: options validated, both ELF files parsed, the code map of main built, the
// patcher (tool | program) and the strategy chosen; then, once the strategy has located the
// old function in the loaded process, the target and its replacement (completePlan).

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
import { strategyFor, type LocatedTarget, type PatchStrategy, type StrategyName } from '../strategies/index.js';

export type PatchMode = 'tool-driven' | 'program-driven';

/** Everything decided before the process exists. */
export interface StaticPlan {
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
  /** Loaded only for a Keystone template in tool-driven mode. */
  assembler?: Assembler;
  /** main's code: the patch point's sleep calls, the prologue strategy's site analysis. */
  codeMap: CodeMap;
  strategy: PatchStrategy;
  /**
   * The prologue strategy's target in main and its replacement, resolved from the files alone
   * (a missing symbol is reported before anything runs); the slot strategies find theirs in
   * the loaded process (PatchStrategy.locate).
   */
  inMain?: { target: ResolvedFunction; replacement: ReplacementChoice | null };
}

/** The plan once the strategy has located the old function in the loaded process. */
export interface VerifyPlan extends StaticPlan {
  /** The old function, link-time in the object that defines it (main for the prologue strategy, a library for got). */
  target: ResolvedFunction;
  /** The code of the object that defines the target, when analysed. */
  targetCode: CodeMap | null;
  /** null when program-driven and patch.so names no replacement the tool can find. */
  replacement: ReplacementChoice | null;
}

function parseElf(bytes: Uint8Array, role: string, name: string): ElfFile {
  try {
    return ElfFile.parse(bytes, { reuse: true });
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

/** The options every strategy shares: who patches, the budget, the patch point, the signal. */
function planRunOptions(input: VerifyInput): { mode: PatchMode; budget: number; signal?: { number: number; name: string } } {
  const mode: PatchMode = input.signal === undefined ? 'tool-driven' : 'program-driven';
  const budget = input.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (!Number.isInteger(budget) || budget <= 0) throw new VerifyError('bad-option', `the instruction budget must be a positive integer, not ${budget}`);
  if (input.patchAt !== undefined && (!Number.isInteger(input.patchAt) || input.patchAt < 0)) {
    throw new VerifyError('bad-option', `--patch-at must be a non-negative instruction count, not ${input.patchAt}`);
  }
  if (input.signal === undefined) return { mode, budget };
  const signo = signalNumber(input.signal);
  if (signo === undefined || signo <= 0 || signo >= 65) throw new VerifyError('bad-option', `unknown signal '${input.signal}' (try USR1, USR2, HUP or a number)`);
  return { mode, budget, signal: { number: signo, name: SIGNAL_NAMES[signo] ?? `signal ${signo}` } };
}

/** The options that only mean something for patching code bytes. */
function refuseCodeOptions(input: VerifyInput, strategy: StrategyName): void {
  if (input.lookup !== undefined) {
    throw new VerifyError('bad-option', `--lookup applies to --strategy prologue only: the ${strategy} strategy finds its slots through relocations${strategy === 'vtable' ? ' and the _ZTV symbols' : ''}, as a careful patcher does`);
  }
  if (input.trampoline !== undefined && input.trampoline !== 'abs-rax') {
    throw new VerifyError('bad-option', `--trampoline applies to --strategy prologue only: the ${strategy} strategy writes addresses into slots, not code`);
  }
}

/** Phase 1: options validated, both files parsed, main analysed, the strategy chosen (and, for the prologue, the target). */
export async function planStatic(input: VerifyInput): Promise<StaticPlan> {
  const { mode, budget, signal } = planRunOptions(input);
  const strategyName = input.strategy ?? 'prologue';
  if (strategyName !== 'prologue' && strategyName !== 'got' && strategyName !== 'vtable') {
    throw new VerifyError('bad-option', `--strategy must be prologue, got or vtable, not '${String(strategyName)}'`);
  }
  if (strategyName !== 'prologue') refuseCodeOptions(input, strategyName);
  const lookup = input.lookup ?? 'dynsym';
  if (lookup !== 'dynsym' && lookup !== 'symtab') throw new VerifyError('bad-option', `--lookup must be dynsym or symtab, not '${String(lookup)}'`);
  if (input.lookup !== undefined && input.signal !== undefined) {
    throw new VerifyError('bad-option', '--lookup models the tool as the patcher; with --signal the program\'s own handler looks the function up (drop one of them)');
  }
  const trampolineSpec: TrampolineSpec = typeof input.trampoline === 'object' ? parseTrampolineSpec(input.trampoline.template) : input.trampoline ?? 'abs-rax';

  const mainElf = parseElf(input.main, 'the executable', input.mainName);
  const patchElf = parseElf(input.patch, 'the patch', input.patchName);
  // The demangler costs ~80 ms to load: only when a name is mangled (C programs have none).
  if ([mainElf, patchElf].some(hasMangledNames) || strategyName !== 'prologue') await initDemangler();
  let inMain: StaticPlan['inMain'];
  if (strategyName === 'prologue') {
    const target = findTarget(mainElf, input, lookup);
    inMain = { target, replacement: chooseReplacement(patchElf, `the patch '${input.patchName}'`, target, replacementQuery(input), mode === 'tool-driven') ?? null };
  }
  const assembler = typeof trampolineSpec === 'object' && mode === 'tool-driven' ? await Assembler.load() : undefined;
  const codeMap = CodeMap.build(codeImageFromElf(mainElf));
  return {
    input, mode, budget, trampolineSpec, lookup, mainElf, patchElf, codeMap,
    strategy: strategyFor(strategyName),
    ...(inMain ? { inMain } : {}),
    ...(input.patchAt !== undefined ? { patchAt: input.patchAt } : {}),
    ...(signal ? { signal } : {}),
    ...(assembler ? { assembler } : {}),
  };
}

function replacementQuery(input: VerifyInput): { with?: string; symbol: string } {
  return { ...(input.with !== undefined ? { with: input.with } : {}), symbol: input.symbol };
}

/** The plan completed with what the strategy located in the loaded process: the target and its replacement. */
export function completePlan(plan: StaticPlan, located: LocatedTarget): VerifyPlan {
  const replacement = plan.inMain && plan.inMain.target === located.target
    ? plan.inMain.replacement
    : chooseReplacement(plan.patchElf, `the patch '${plan.input.patchName}'`, located.target, replacementQuery(plan.input), plan.mode === 'tool-driven') ?? null;
  return { ...plan, target: located.target, targetCode: located.code, replacement };
}

/** The prologue strategy's plan from the files alone (exploration patches code bytes only). */
export async function planVerification(input: VerifyInput): Promise<VerifyPlan> {
  if (input.strategy !== undefined && input.strategy !== 'prologue') throw new VerifyError('bad-option', `--explore tries --strategy prologue only, not ${input.strategy}`);
  const plan = await planStatic(input);
  const { target, replacement } = plan.inMain!;
  return { ...plan, target, targetCode: plan.codeMap, replacement };
}

function hasMangledNames(elf: ElfFile): boolean {
  const mangled = (s: { name: string }): boolean => s.name.startsWith('_Z') || s.name.startsWith('_R');
  return elf.symbols.some(mangled) || elf.dynamicSymbols.some(mangled);
}
