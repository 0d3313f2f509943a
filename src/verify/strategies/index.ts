// The strategies by name (`--strategy`). Each lives in its own file.

import { VerifyError } from '../error.js';
import { prologueStrategy } from './prologue.js';
import type { PatchStrategy, StrategyName } from './strategy.js';

export type { PatchStrategy, StrategyName, PreparedPatch, AppliedPatch, ProgramPatchReading, ReplacementAt } from './strategy.js';

const STRATEGIES: Partial<Record<StrategyName, PatchStrategy>> = { prologue: prologueStrategy };

export function strategyFor(name: StrategyName): PatchStrategy {
  const strategy = STRATEGIES[name];
  if (!strategy) throw new VerifyError('bad-option', `--strategy ${name} is not implemented yet (available: ${Object.keys(STRATEGIES).join(', ')})`);
  return strategy;
}
