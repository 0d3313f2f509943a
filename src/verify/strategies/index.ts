// The strategies by name (`--strategy`). Each lives in its own file.

import { VerifyError } from '../error.js';
import { prologueStrategy } from './prologue.js';
import type { PatchStrategy, StrategyName } from './strategy.js';

export type { PatchStrategy, StrategyName, PreparedPatch, AppliedPatch, ProgramPatchReading, ReplacementAt } from './strategy.js';

const STRATEGIES: Partial<Record<StrategyName, PatchStrategy>> = { prologue: prologueStrategy };

export function strategyFor(name: StrategyName): PatchStrategy {
  const strategy = STRATEGIES[name];
  // got and vtable rewrite pointer slots, not code: they run through strategies/run.ts (slots.ts, got.ts, vtable.ts).
  if (!strategy) throw new VerifyError('bad-option', `--strategy ${name} does not patch code bytes: it runs through the slot pipeline (strategies/run.ts), not this interface`);
  return strategy;
}
