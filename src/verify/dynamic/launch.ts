// Starting the emulated process: the chosen engine, main mapped and relocated, patch.so
// offered to dlopen under the path the programs open ("./patch.so") and under its own name.

import { createEngine } from '../../engine/index.js';
import type { Engine } from '../../engine/engine.js';
import { EmulatedProcess } from '../../loader/index.js';
import type { ResourceLimits } from '../../loader/limits.js';
import type { EngineChoice, VerifyLimits } from '../input.js';
import type { LibraryFile } from '../libraries.js';

/** Where patch.so lives in the emulated file system. */
export const PATCH_PATH = './patch.so';

export async function openEngine(choice: EngineChoice): Promise<Engine> {
  if (typeof choice === 'function') return choice();
  return createEngine(choice);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The process's limits for a verification starting now (the deadline counts from here). */
export function processLimits(limits: VerifyLimits | undefined, startedAt = Date.now()): Partial<ResourceLimits> {
  const out: Partial<ResourceLimits> = {};
  if (limits?.maxMemory !== undefined) out.maxMemory = limits.maxMemory;
  if (limits?.maxOutput !== undefined) out.maxOutput = limits.maxOutput;
  if (limits?.timeoutSeconds !== undefined && limits.timeoutSeconds > 0) {
    out.deadline = startedAt + limits.timeoutSeconds * 1000;
    out.timeoutSeconds = limits.timeoutSeconds;
  }
  return out;
}

/** `needed`: main's own libraries, by path relative to its directory (the working directory, as a server started in its folder). */
export function launchProcess(engine: Engine, main: Uint8Array, mainName: string, patch: Uint8Array, patchName: string, needed: readonly LibraryFile[] = [], limits: Partial<ResourceLimits> = {}): EmulatedProcess {
  const libraries = [{ path: PATCH_PATH, bytes: patch }, ...needed.map((l) => ({ path: `./${l.path}`, bytes: l.bytes }))];
  const own = `./${baseName(patchName)}`;
  if (own !== PATCH_PATH) libraries.push({ path: own, bytes: patch });
  // argv[0] as a shell would pass it; no arguments, so the program runs its default course.
  return EmulatedProcess.create(engine, { main, mainPath: `./${baseName(mainName)}`, libraries, argv: [], limits });
}
