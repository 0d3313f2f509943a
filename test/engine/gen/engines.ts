// Which engines this machine can run, and why not: the suites parametrise over these and
// turn an absent engine into a visible skip (locally) or a failure (CI, for the oracle).

import { EmulationError, type Engine } from '../../../src/engine/engine.js';
import type { WasmEngine } from '../../../src/engine/wasm-engine.js';

export type EngineKind = 'wasm' | 'unicorn';

export interface EngineAvailability {
  kind: EngineKind;
  /** Undefined when the engine can be created here. */
  unavailable?: string;
}

export const IN_CI = process.env.CI === 'true';

/** Through the public factory, so the suites also prove createEngine() for each kind. */
async function tryCreate(kind: EngineKind): Promise<Engine> {
  const { createEngine } = await import('../../../src/engine/index.js');
  return createEngine(kind);
}

/** Probes each kind once (top-level await in the suites, so describe.each sees the result). */
export async function engineAvailability(kind: EngineKind): Promise<EngineAvailability> {
  try {
    const engine = await tryCreate(kind);
    engine.close();
    return { kind };
  } catch (error) {
    const why = error instanceof EmulationError || error instanceof Error ? error.message : String(error);
    return { kind, unavailable: `${kind} engine unavailable: ${why}` };
  }
}

export function createEngineOfKind(kind: EngineKind): Promise<Engine> {
  return tryCreate(kind);
}

export async function createWasmEngine(): Promise<WasmEngine> {
  const { WasmEngine } = await import('../../../src/engine/wasm-engine.js');
  return WasmEngine.create();
}

export async function createUnicornEngine(): Promise<Engine> {
  const { UnicornEngine } = await import('../../../src/engine/unicorn-engine.js');
  return UnicornEngine.create();
}
