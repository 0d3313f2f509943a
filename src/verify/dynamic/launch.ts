// Starting the emulated process: the chosen engine, then main in the chosen process model
// (stubs: the sandbox's loader and libc; system: the real ld.so from a sysroot VFS), with
// patch.so where the programs open it ("./patch.so") and under its own name.

import { createEngine } from '../../engine/index.js';
import type { Engine } from '../../engine/engine.js';
import { EmulatedProcess, type GuestProcess } from '../../loader/index.js';
import type { ResourceLimits } from '../../loader/limits.js';
import { GUEST_CWD, SystemProcess } from '../../loader/system/index.js';
import type { EngineChoice, GuestInputs, ProcessChoice, VerifyLimits } from '../input.js';
import type { LibraryFile } from '../libraries.js';
import type { ThreadsSummary } from '../result.js';

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

/**
 * `needed`: main's own libraries, by path relative to its directory (the working directory, as
 * a server started in its folder). Without a model: the stubs model's EmulatedProcess (the
 * page's replay steps it).
 */
export function launchProcess(engine: Engine, main: Uint8Array, mainName: string, patch: Uint8Array, patchName: string, needed?: readonly LibraryFile[], model?: undefined, guest?: GuestInputs, limits?: Partial<ResourceLimits>): EmulatedProcess;
export function launchProcess(engine: Engine, main: Uint8Array, mainName: string, patch: Uint8Array, patchName: string, needed: readonly LibraryFile[], model: ProcessChoice | undefined, guest?: GuestInputs, limits?: Partial<ResourceLimits>): GuestProcess;
export function launchProcess(
  engine: Engine,
  main: Uint8Array,
  mainName: string,
  patch: Uint8Array,
  patchName: string,
  needed: readonly LibraryFile[] = [],
  model: ProcessChoice = { model: 'stubs' },
  guest: GuestInputs = {},
  limits: Partial<ResourceLimits> = {},
): GuestProcess {
  const own = `./${baseName(patchName)}`;
  // argv[0] as a shell would pass it; by default no arguments, so the program runs its default course.
  const mainPath = `./${baseName(mainName)}`;
  if (model.model === 'system') {
    const vfs = model.vfs();
    vfs.addFile(`${GUEST_CWD}/${baseName(mainName)}`, main, main.length, 0o755);
    vfs.addFile(`${GUEST_CWD}/patch.so`, patch, patch.length, 0o755);
    if (own !== PATCH_PATH) vfs.addFile(`${GUEST_CWD}/${baseName(patchName)}`, patch, patch.length, 0o755);
    for (const l of needed) vfs.addFile(`${GUEST_CWD}/${l.path}`, l.bytes, l.bytes.length, 0o755);
    return SystemProcess.create(engine, { vfs, executable: mainPath, argv: guest.argv ?? [], envp: guest.envp ?? [], cwd: GUEST_CWD, limits, ...(guest.stdin ? { stdin: guest.stdin } : {}), ...(guest.tty ? { tty: true } : {}) });
  }
  const libraries = [{ path: PATCH_PATH, bytes: patch }, ...needed.map((l) => ({ path: `./${l.path}`, bytes: l.bytes }))];
  if (own !== PATCH_PATH) libraries.push({ path: own, bytes: patch });
  return EmulatedProcess.create(engine, { main, mainPath, libraries, argv: guest.argv ?? [], envp: guest.envp ?? [], limits });
}

/** The threads of a system-model run, for the report: the schedule's seed, threads created, switches, who ran when. */
export function threadsDescription(process: GuestProcess): ThreadsSummary | undefined {
  if (!(process instanceof SystemProcess)) return undefined;
  const s = process.threads;
  const summary: ThreadsSummary = { seed: s.scheduleSeed.toString(), threads: s.threads.length, switches: s.switches };
  if (s.threads.length > 1) {
    summary.list = s.threads.map((t) => ({ tid: t.tid, name: t.name, createdAt: t.createdAt, instructions: t.instructions, exited: t.state === 'exited' }));
    summary.ran = s.ran.map((r) => ({ ...r }));
  }
  return summary;
}

/** The libc the process runs with, for the report: the guest's libc.so.6 and its version string. */
export function libcDescription(process: GuestProcess): string {
  if (!(process instanceof SystemProcess)) return "the sandbox's libc stubs (src/loader/stubs)";
  const libc = process.regions().find((m) => /\/libc\.so\.6$/.test(m.name));
  if (!libc) return 'no libc.so.6 loaded yet';
  const version = process.libcVersion();
  return `${version ?? 'libc.so.6'} (${libc.name})`;
}
