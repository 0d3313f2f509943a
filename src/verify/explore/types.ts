// Exploration (--explore): the patch tried at every instruction boundary of a window of the
// run, each moment classified safe or unsafe with the finding codes it would get. These are
// the options and the result (the `exploration` block of the JSON report).

/** A point is an instruction count; with threads it becomes (instruction count, schedule seed). */
export const SCHEDULE_SEED = 0;

export interface HorizonOption {
  /** Instructions watched after the patched bytes are first touched (fetched, read or written) after the patch. */
  instructions: number;
  /** End earlier, once a call through the trampoline has returned to its caller. */
  untilReturn: boolean;
}

export const DEFAULT_HORIZON: HorizonOption = { instructions: 10_000, untilReturn: true };

export type ExploreMethod = 'auto' | 'classes' | 'brute-force';

export interface ExploreOptions {
  /** First point (instructions executed before the patch); default 0. */
  from?: number;
  /** Last point; default twice the default patch point (the run up to it and as long again after it). */
  to?: number;
  /** Explore every k-th point; default 1. */
  stride?: number;
  horizon?: HorizonOption;
  /** 1-based slice i of n of the explored points. */
  shard?: { index: number; count: number };
  /**
   * 'classes' (tool-driven only): one recorded run, one patched run per class of points that
   * lead to the same patched future, per-point hazards from the recording. 'brute-force':
   * restore, run to the point, patch and run the horizon at every point. 'auto' (default):
   * classes for tool-driven points, brute force for program-driven ones.
   */
  method?: ExploreMethod;
}

/** Consecutive explored points with the same finding codes. */
export interface ExplorationWindow {
  from: number;
  to: number;
  codes: string[];
  /** Where a frame resumes inside the patched bytes at these points: the interrupted instruction, a pending call's return, or neither. */
  live: 'rip' | 'frame' | 'none';
  /** The first point of the window: `--patch-at example` reproduces it. */
  example: number;
  /** The interrupted instruction at the example point, as symbol+offset. */
  where: string;
  /** Call sites of the frames on the stack at the example point, innermost first. */
  callChain: string[];
  /** What the program was doing there, in words: "executing f+0x4", "the call from f+0x5 is in progress (in usleep)". */
  doing: string;
  /** The command that verifies the patch at the example point. */
  reproduce?: string;
  /** Explored points in the window. */
  points: number;
}

export interface Exploration {
  /** The verification's verdict at its own patch point, before exploring. */
  defaultPointVerdict?: 'safe' | 'unsafe';
  mode: 'tool-driven' | 'program-driven';
  from: number;
  to: number;
  stride: number;
  horizon: HorizonOption;
  /** Schedule seed of every point (a point is (instruction count, seed)): the system model's --seed; 0 on the stubs model (one thread). */
  seed: number;
  method: 'classes' | 'brute-force';
  /** Points explored (patched and classified). */
  points: number;
  unsafePoints: number;
  /** Program-driven points where the signal could not patch (no handler installed yet, signal blocked). */
  notApplied: number;
  /** Instruction count at which the unpatched program ended inside the window, if it did. */
  programEnded: number | null;
  windows: ExplorationWindow[];
  /** Patched runs actually made (one per class with 'classes'). */
  patchedRuns: number;
  seconds: number;
  pointsPerSecond: number;
  /**
   * System model, tool-driven: the point where the tool loaded patch.so (where main's code first
   * runs); the real dlopen changes the program's course, so every point counts from the run with
   * patch.so loaded there, and `--explore N:N` (not `--patch-at N`) reproduces point N.
   */
  patchLoadedAt?: number;
  /** Set on a shard's report; `verify-patch merge` combines shards into the unsharded report. */
  shard?: { index: number; count: number; first: number | null; last: number | null };
}

/** What one point got: the codes (empty when safe), or not applied. */
export type PointVerdict = { applied: true; codes: string[]; /** The patch's bytes were written (else no frame can resume inside them). */ written?: boolean } | { applied: false };
