// What verifyPatch is asked: both files as bytes (so it runs in a browser), the symbol to
// patch and how. Mirrors the CLI contract of shared/design.md.

import type { Engine } from '../engine/engine.js';
import type { Vfs } from '../loader/system/index.js';
import type { LibraryFile } from './libraries.js';
import type { ExploreOptions } from './explore/types.js';

/** How the tool, as the patcher, finds the old function: dlsym(RTLD_DEFAULT) (.dynsym) or the symbol table (an external, ptrace-based patcher). */
export type PatcherLookup = 'dynsym' | 'symtab';

export type TrampolineChoice = 'abs-rax' | 'rel32' | 'abs-indirect' | { template: string };

/** A built-in engine by name, or a factory (tests, the web page's worker). */
export type EngineChoice = 'wasm' | 'unicorn' | (() => Promise<Engine>);

export interface VerifyInput {
  main: Uint8Array;
  /** The executable's name as the user gave it (reports, argv[0]). */
  mainName: string;
  patch: Uint8Array;
  patchName: string;
  /** The function to patch in main: mangled or demangled. */
  symbol: string;
  /** The replacement in patch.so; default: the same name, else patch.so's {new, old} fix table. */
  with?: string;
  /** Default 'abs-rax'. Ignored in program-driven mode: the program writes its own. */
  trampoline?: TrampolineChoice;
  /** Program-driven mode: deliver this signal (name or number) and let main's handler patch. */
  signal?: string;
  /** Patch (or deliver the signal) after this many instructions instead of the default point. */
  patchAt?: number;
  /** Budget for the whole run. */
  maxInstructions?: number;
  /** Default 'wasm'. */
  engine?: EngineChoice;
  /** Tool-driven: how the patcher finds the old function (default 'dynsym'). */
  lookup?: PatcherLookup;
  /** What to rewrite: 'prologue' (default: the function's first bytes), 'got' (the GOT slots callers reach it through), 'vtable' (the vtable slots holding the method). */
  strategy?: 'prologue' | 'got' | 'vtable';
  /** Libraries main needs that the sandbox does not emulate, by path relative to main's directory (see libraries.ts). */
  libraries?: LibraryFile[];
  /** Resource limits (defaults: src/loader/limits.ts; no wall-clock limit unless timeoutSeconds > 0). */
  limits?: VerifyLimits;
  /** Also try the patch at every boundary of a window (--explore). */
  explore?: ExploreOptions;
  /** Default stubs. */
  /** --schedules N: interleavings replayed from the patch point, seeds --seed .. --seed+N-1 (default 16; system model with threads). */
  schedules?: number;
  /** The command-line options (after the positionals) that replay this run, without --seed/--schedules. */
  replayArgs?: string[];
  process?: ProcessChoice;
  guest?: GuestInputs;
}

/**
 * The process model. stubs: the sandbox's loader and TypeScript libc (no sysroot needed).
 * system: the real ld.so and libraries from `vfs()` (a fresh file system per run; main and
 * patch.so are added to its working directory) over emulated Linux system calls.
 */
export type ProcessChoice = { model: 'stubs' } | { model: 'system'; vfs: () => Vfs; sysroot?: string };

/** What main runs with: arguments after argv[0], environment, standard input. */
export interface GuestInputs {
  argv?: string[];
  envp?: string[];
  stdin?: Uint8Array;
  /**
   * The thread scheduler's seed from the patch point on (system model; --seed): the run to the
   * patch point follows the default schedule, so every seed starts from the same patch point.
   */
  seed?: bigint;
}

export interface VerifyLimits {
  /** Bytes of touched guest pages. */
  maxMemory?: number;
  /** Captured output kept per stream at each end (bytes). */
  maxOutput?: number;
  /** Wall-clock limit in seconds for the whole verification; 0 or absent for none. */
  timeoutSeconds?: number;
}

/** A real program's start-up plus a few seconds of its work (about 20 s at the core's speed). */
export const DEFAULT_MAX_INSTRUCTIONS = 2_000_000_000;
