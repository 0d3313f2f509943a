// --progress: instructions executed and the current phase on stderr, for runs longer than a
// second; one line rewritten in place, erased when the run ends. Driven by the engine's run
// monitor (every few million instructions), never by a timer: a run that is not executing
// guest code shows nothing new.

import type { Engine } from '../engine/engine.js';
import { createEngine } from '../engine/index.js';
import { phaseOf } from '../verify/dynamic/progress.js';

const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 200;
const EVERY_INSTRUCTIONS = 1 << 22;

export class ProgressLine {
  private readonly started: number;
  private drawnAt = -Infinity;
  private shown = false;

  /** `clock` is for tests (milliseconds, monotonic). */
  constructor(
    private readonly stream: Pick<NodeJS.WriteStream, 'write'>,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.started = clock();
  }

  update(instructions: number, phase: string): void {
    const now = this.clock();
    if (now - this.started < SHOW_AFTER_MS || now - this.drawnAt < REDRAW_MS) return;
    this.drawnAt = now;
    this.shown = true;
    const seconds = ((now - this.started) / 1000).toFixed(1);
    this.stream.write(`\r\x1b[Kverify-patch: ${(instructions / 1e6).toFixed(1)}M instructions, ${phase} (${seconds} s)`);
  }

  /** Erases the line if one was drawn. */
  end(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

/** An engine factory for runCommand whose engine reports to `line`. */
export function engineWithProgress(kind: 'wasm' | 'unicorn', line: ProgressLine): () => Promise<Engine> {
  return async () => {
    const engine = await createEngine(kind);
    engine.setMonitor?.({ everyInstructions: EVERY_INSTRUCTIONS, callback: (n) => line.update(n, phaseOf(engine)) });
    return engine;
  };
}
