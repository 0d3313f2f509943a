// The strategies by name (`--strategy`). Each lives in its own file: prologue.ts (code bytes),
// got.ts and vtable.ts (pointer slots, sharing slots.ts).

import { gotStrategy } from './got.js';
import { prologueStrategy } from './prologue.js';
import type { PatchStrategy, StrategyName } from './strategy.js';
import { vtableStrategy } from './vtable.js';

export type { PatchStrategy, StrategyName, PreparedPatch, AppliedPatch, ProgramPatchReading, ReplacementAt, LocatedTarget, ObservedRun } from './strategy.js';

const STRATEGIES: Record<StrategyName, PatchStrategy> = { prologue: prologueStrategy, got: gotStrategy, vtable: vtableStrategy };

export function strategyFor(name: StrategyName): PatchStrategy {
  return STRATEGIES[name];
}
