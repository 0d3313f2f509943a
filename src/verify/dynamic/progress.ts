// The phase a verification is in, for a progress display: set by the phases that run the guest,
// read by whoever watches the engine's run (the CLI's --progress, through Engine.setMonitor).

import type { Engine } from '../../engine/engine.js';

export type RunPhase = 'starting the program' | 'running to the patch point' | 'running the unpatched baseline' | 'running the signal handler' | 'running the patched program';

const phases = new WeakMap<Engine, RunPhase>();

export function setPhase(engine: Engine, phase: RunPhase): void {
  phases.set(engine, phase);
}

export function phaseOf(engine: Engine): RunPhase {
  return phases.get(engine) ?? 'starting the program';
}
