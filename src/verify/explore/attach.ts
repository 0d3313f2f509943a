// --explore inside verifyPatch: after the verification at its own patch point, explore the
// window around it and let the unsafe moments count towards the verdict.

import type { VerifyInput } from '../input.js';
import type { VerifyResult } from '../result.js';
import { explorePatch } from './explore.js';
import type { Exploration, ExploreOptions } from './types.js';

/** The verify-patch command for these inputs, without a patch point. */
export function commandFor(input: VerifyInput): string {
  const words = ['verify-patch', input.mainName, input.patchName, input.symbol];
  if (input.with !== undefined) words.push('--with', input.with);
  if (input.signal !== undefined) words.push('--signal', input.signal);
  if (input.lookup !== undefined && input.lookup !== 'dynsym') words.push('--lookup', input.lookup);
  if (input.strategy !== undefined && input.strategy !== 'prologue') words.push('--strategy', input.strategy);
  if (input.trampoline !== undefined && input.trampoline !== 'abs-rax') words.push('--trampoline', typeof input.trampoline === 'string' ? input.trampoline : input.trampoline.template);
  if (input.maxInstructions !== undefined) words.push('--max-insns', String(input.maxInstructions));
  // Points count the instructions of one process model: name it (the CLI's default depends on the machine).
  words.push('--process', input.process?.model ?? 'stubs');
  if (input.guest?.seed !== undefined) words.push('--seed', String(input.guest.seed));
  for (const a of input.guest?.argv ?? []) words.push('--arg', a);
  for (const e of input.guest?.envp ?? []) words.push('--env', e);
  return words.map((w) => (/^[\w./:=+-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** Safe only when the default point is safe and no explored point is unsafe. */
export function verdictWith(defaultPointVerdict: 'safe' | 'unsafe', exploration: Exploration): 'safe' | 'unsafe' {
  return defaultPointVerdict === 'unsafe' || exploration.unsafePoints > 0 ? 'unsafe' : 'safe';
}

export async function attachExploration(input: VerifyInput, options: ExploreOptions, result: VerifyResult): Promise<VerifyResult> {
  if (result.verdict === 'error') return result;
  const explored = await explorePatch({ input, options, ...(result.run?.patchPoint !== undefined ? { defaultPoint: result.run.patchPoint } : {}) });
  return withExploration(input, result, explored);
}

/** The verification's result with its exploration: reproducing commands added, the verdict updated. */
export function withExploration(input: VerifyInput, result: VerifyResult, explored: Exploration): VerifyResult {
  if (result.verdict === 'error') return result;
  const command = commandFor(input);
  const exploration: Exploration = {
    defaultPointVerdict: result.verdict,
    ...explored,
    windows: explored.windows.map((w) => ({ ...w, reproduce: explored.patchLoadedAt !== undefined ? `${command} --explore ${w.example}:${w.example}` : `${command} --patch-at ${w.example}` })),
  };
  return { ...result, exploration, verdict: verdictWith(result.verdict, exploration) };
}
