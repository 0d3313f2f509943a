// explorePatch: the patch tried at every instruction boundary of a window (every k-th with a
// stride), each point classified by the codes a patch there gets. Two methods, compared by a
// test on corpus scenarios:
//
// brute force: restore a checkpoint, run to the point, patch, run the horizon; at every point.
//
// classes (tool-driven): one recorded unpatched run, stepped boundary by boundary. Between two
// consecutive touches of the patched bytes (a fetch over them, a guest read or write, a code
// write, a change of mappings or permissions, a libc call handed a pointer near them), every
// point leads to the same patched state at the next touch: the unpatched state there with the
// new bytes. So the patched future is run once per class (from its first explored point), and
// what differs per point is read from the recording: whether the interrupted instruction or a
// word on the stack (a pending call made from inside the bytes) lies inside them.
//
// Tool-driven points load patch.so once, at the window's first point, as a patcher does before
// it stops the process to write; each point then writes the trampoline. Program-driven points
// deliver the signal, and main's handler does everything, at each point.

import { HookType } from '../../engine/engine.js';
import { DEFAULT_SCHEDULE_SEED } from '../../loader/system/threads.js';
import { EmulatedProcess, layout, RTLD_NOW, type GuestProcess, type ProcessStop } from '../../loader/index.js';

const STUB_CODE = { lo: layout.STUB_CODE_BASE, hi: layout.STUB_CODE_BASE + BigInt(layout.STUB_CODE_SIZE) };
import { launchProcess, openEngine, PATCH_PATH, processLimits } from '../dynamic/launch.js';
import type { OverwrittenBytes } from '../checks/live-clobber.js';
import { ObservationHooks } from '../dynamic/observe.js';
import { stateHere } from '../dynamic/patch-point.js';
import { DEFAULT_TRAMPOLINE_LENGTH } from '../strategies/prologue.js';
import { VerifyError } from '../error.js';
import type { VerifyInput } from '../input.js';
import { calleeFacts, replacementRuntimeAddress } from '../patchers/callee-facts.js';
import { planVerification, type VerifyPlan } from '../pipeline/plan.js';
import type { PatchSession } from '../pipeline/session.js';
import type { VerifyResult } from '../result.js';
import { captureMoment, liveInside, momentContext, threaded, type LiveHazard, type Moment, type MomentContext } from './moment.js';
import { programPatchedRun, toolPatchedRun, type PatchedRunContext, type ToolPatchContext } from './patched-run.js';
import { StackWords } from './stack-words.js';
import { TouchWatch } from './touch.js';
import { DEFAULT_HORIZON, SCHEDULE_SEED, type Exploration, type ExploreOptions, type HorizonOption, type PointVerdict } from './types.js';
import { WindowBuilder } from './windows.js';

/** Brute force re-runs from a checkpoint at most this far behind the point. */
const CHECKPOINT_EVERY = 256;
/** Events that change what a later patched run sees: a class ends at each. */
const CLASS_BOUNDARY_EVENTS = new Set(['mprotect', 'mmap', 'munmap', 'code-write', 'dlopen', 'dlclose']);
/** Bytes around the patched ones a libc argument may point into and still reach them (memcpy of a whole function). */
const ARGUMENT_REACH = 0x1000n;
const ARGUMENT_REGISTERS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const;

const ORIGINAL_TAIL = 32;

export interface ExploreRequest {
  input: VerifyInput;
  options: ExploreOptions;
  /** The default patch point's instruction count (the window's default is twice it). */
  defaultPoint?: number;
  /** Wall-clock source (performance.now in Node and browsers). */
  now?: () => number;
  /** Told every explored point's classification, in order (tests compare the methods point by point). */
  onPoint?: (point: number, verdict: PointVerdict, live: LiveHazard) => void;
}

/** The explored points of the window (or of one shard of it). */
export function explorationPoints(from: number, to: number, stride: number, shard?: { index: number; count: number }): { first: number; last: number } | null {
  if (to < from) return null;
  const total = Math.floor((to - from) / stride) + 1;
  const lo = shard ? Math.floor(((shard.index - 1) * total) / shard.count) : 0;
  const hi = shard ? Math.floor((shard.index * total) / shard.count) : total;
  if (hi <= lo) return null;
  return { first: from + lo * stride, last: from + (hi - 1) * stride };
}

export function validateExploreOptions(options: ExploreOptions): void {
  const whole = (n: number | undefined, what: string, min: number): void => {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < min)) throw new VerifyError('bad-option', `${what} must be a whole number >= ${min}, not ${n}`);
  };
  whole(options.from, '--explore FROM', 0);
  whole(options.to, '--explore TO', 0);
  whole(options.stride, '--stride', 1);
  whole(options.horizon?.instructions, '--horizon', 1);
  if (options.from !== undefined && options.to !== undefined && options.to < options.from) throw new VerifyError('bad-option', `--explore ${options.from}:${options.to}: TO is before FROM`);
  if (options.shard) {
    const { index, count } = options.shard;
    if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 1 || index > count) throw new VerifyError('bad-option', `--shard ${index}/${count}: want i/n with 1 <= i <= n`);
  }
}

export async function explorePatch(request: ExploreRequest): Promise<Exploration> {
  const { input, options } = request;
  validateExploreOptions(options);
  if (input.strategy === 'got' || input.strategy === 'vtable') {
    // The slot strategies plan and patch outside the common pipeline (strategies/run.ts) for now;
    // the sweep would try the prologue trampoline instead, which is not what was asked.
    throw new VerifyError('bad-option', `--explore with --strategy ${input.strategy} is not supported yet: the slot strategies are not on the pipeline the exploration drives (explore the prologue strategy, or verify at one point with --patch-at)`);
  }
  const now = request.now ?? (() => performance.now());
  const started = now();
  const plan = await planVerification(input);
  const stride = options.stride ?? 1;
  const horizon = options.horizon ?? DEFAULT_HORIZON;
  const from = options.from ?? 0;
  let to = options.to ?? (request.defaultPoint !== undefined ? 2 * request.defaultPoint : undefined);
  if (to === undefined) throw new VerifyError('bad-option', '--explore without TO needs the default patch point; give the window as FROM:TO');
  to = Math.min(to, plan.budget);
  // Classes for tool-driven points (proven equal to brute force point by point on corpus
  // windows, test/verify/explore.test.ts); program-driven points are run one by one.
  const method = options.method === 'brute-force' || (options.method !== 'classes' && plan.mode === 'program-driven') ? 'brute-force' : 'classes';
  if (method === 'classes' && plan.mode === 'program-driven') {
    throw new VerifyError('bad-option', 'the classes method is tool-driven only: a signal handler may act differently at each point, so program-driven points are run one by one');
  }
  const range = explorationPoints(from, to, stride, options.shard);
  const builder = new WindowBuilder(stride);
  const tally = { points: 0, notApplied: 0, patchedRuns: 0, programEnded: null as number | null };

  let sweepStarted = now();
  let loadedAt: number | undefined;
  const engine = await openEngine(input.engine ?? 'wasm');
  try {
    if (range) {
      const sweep = await Sweep.start(plan, engine, input, from, horizon);
      loadedAt = sweep.loadedAt;
      const record: Record = (point, verdict, live, context) => {
        request.onPoint?.(point, verdict, live);
        if (!verdict.applied) {
          tally.notApplied++;
          builder.gap(point);
          return;
        }
        tally.points++;
        builder.add(point, verdict.codes, live, context);
      };
      sweepStarted = now();
      // Points before the tool could load patch.so: not applied.
      let first = range.first;
      for (; first <= range.last && first < (sweep.loadedAt ?? 0); first += stride) record(first, { applied: false }, 'none', () => ({ where: '', callChain: [], doing: '' }));
      if (first <= range.last) {
        const rest = { first, last: range.last };
        tally.programEnded = method === 'classes' ? sweep.byClasses(rest, stride, record, tally) : sweep.bruteForce(rest, stride, record, tally);
      }
    }
  } finally {
    engine.close();
  }
  const ended = now();
  const seconds = (ended - started) / 1000;
  const sweepSeconds = (ended - sweepStarted) / 1000;
  return {
    mode: plan.mode, from, to, stride, horizon, seed: input.process?.model === 'system' ? Number(input.guest?.seed ?? DEFAULT_SCHEDULE_SEED) : SCHEDULE_SEED, method,
    points: tally.points, unsafePoints: builder.unsafePoints, notApplied: tally.notApplied, programEnded: tally.programEnded,
    windows: builder.windows, patchedRuns: tally.patchedRuns, seconds,
    pointsPerSecond: sweepSeconds > 0 ? Math.round(tally.points / sweepSeconds) : 0,
    ...(loadedAt !== undefined ? { patchLoadedAt: loadedAt } : {}),
    ...(options.shard ? { shard: { ...options.shard, first: range?.first ?? null, last: range?.last ?? null } } : {}),
  };
}

type Record = (point: number, verdict: PointVerdict, live: LiveHazard, context: () => MomentContext) => void;

/**
 * Runs the process to the first point where a block of main's own code starts (where a patcher
 * can load a library: not inside ld.so's start-up, nor libc, which may hold its locks), and
 * returns that point. The same point for every window and shard, so their points share one
 * timeline (the one with patch.so loaded there).
 */
function runToMainCode(process: GuestProcess, ended: (stop: ProcessStop) => VerifyError): number {
  const engine = process.engine;
  const main = process.executable;
  const code = engine.regions().filter((r) => (r.perms & 4) !== 0 && main.contains(r.begin));
  if (code.length === 0) throw new VerifyError('unsupported', `no executable mapping of ${main.path} to load patch.so from`);
  let entered = false;
  const hook = engine.addHook({
    type: HookType.Block,
    begin: code.reduce((lo, r) => (r.begin < lo ? r.begin : lo), code[0]!.begin),
    end: code.reduce((hi, r) => (r.end > hi ? r.end : hi), code[0]!.end) - 1n,
    callback: (address) => {
      if (!main.contains(address)) return;
      entered = true;
      engine.stop();
    },
  });
  try {
    for (;;) {
      const stop = process.run({ maxInstructions: 1_000_000 });
      if (entered) return process.instructions;
      if (stop.reason !== 'budget') throw ended(stop);
    }
  } finally {
    engine.removeHook(hook);
  }
}

/** The process of one exploration, run to the window's first point and ready to patch. */
class Sweep {
  /** The sweep's watch over the patched bytes, shared with the patched runs. */
  private watch: TouchWatch | null = null;
  /** The patched runs' observation hooks, kept over the whole sweep. */
  private observationHooks: ObservationHooks | null = null;

  private constructor(
    private readonly process: GuestProcess,
    /** Instructions the tool's own dlopen added to the process's count (point p is count p + offset). */
    private readonly offset: number,
    private readonly base: PatchedRunContext,
    private readonly tool: Omit<ToolPatchContext, keyof PatchedRunContext> | null,
    /** The bytes the patch overwrites (program-driven: the classic trampoline's, for descriptions). */
    private readonly overwritten: OverwrittenBytes,
  ) {}

  static async start(plan: VerifyPlan, engine: Awaited<ReturnType<typeof openEngine>>, input: VerifyInput, from: number, horizon: HorizonOption): Promise<Sweep> {
    const process = launchProcess(engine, input.main, input.mainName, input.patch, input.patchName, input.libraries ?? [], input.process, input.guest, processLimits(input.limits));
    const loadBias = process.executable.base;
    const site = plan.target.address + loadBias;
    const original = process.engine.readMemory(site, ORIGINAL_TAIL);
    const ended = (stop: ProcessStop): VerifyError => new VerifyError('no-patch-point', `the program ended (${stop.reason}) after ${process.instructions} instructions, before the window's first point ${from}: explore a window that starts below ${process.instructions}`);
    // Where the tool loads patch.so: at the window's first point on the stubs model (its dlopen is
    // the host's and leaves the program's course alone); on the system model the real dlopen
    // runs in the guest and changes what follows (allocations, the link map), so it is loaded
    // once, where main's own code first runs, and every window's points count from that course.
    let loadedAt: number | undefined;
    if (process.model === 'system' && plan.mode === 'tool-driven') {
      loadedAt = runToMainCode(process, ended);
    } else if (from > 0) {
      const stop = process.run({ maxInstructions: from });
      if (stop.reason !== 'budget') throw ended(stop);
    }
    const result: VerifyResult = { verdict: 'error', findings: [] };
    const session: PatchSession = { plan, process, loadBias, site, original, point: stateHere(process, 'explored point', 0), result, describe: (a) => process.describe(a) };
    const names = { target: plan.target.demangled, replacement: plan.replacement?.fn.demangled ?? 'the replacement' };
    const base: PatchedRunContext = { session, horizon, budget: plan.budget, names };
    if (plan.mode === 'program-driven') return new Sweep(process, 0, base, null, { site, length: DEFAULT_TRAMPOLINE_LENGTH });

    const choice = plan.replacement;
    if (!choice) throw new VerifyError('symbol-not-found', `no replacement for ${plan.target.demangled} in the patch '${input.patchName}'`);
    const before = process.instructions;
    const opened = process.dlopen(PATCH_PATH, RTLD_NOW, Math.max(1, plan.budget - process.instructions));
    if ('error' in opened) throw new VerifyError('bad-input', `dlopen("${input.patchName}") fails in the emulated process: ${opened.error}`);
    const patchObject = process.objects.find((o) => o.path === PATCH_PATH)!;
    const replacement = replacementRuntimeAddress(process, patchObject.base, choice);
    const facts = calleeFacts(plan.codeMap, plan.target, process, replacement, choice.fn.demangled);
    const prepared = plan.strategy.prepare(session, { address: replacement, name: choice.fn.demangled }, facts);
    names.replacement = choice.fn.demangled;
    const sweep = new Sweep(process, process.instructions - before, base, { prepared, replacement, facts }, prepared.overwritten);
    if (loadedAt !== undefined) sweep.loadedAt = loadedAt;
    return sweep;
  }

  /** System model, tool-driven: where patch.so was loaded; points before it are not applied. */
  loadedAt: number | undefined;

  /** The program's instruction count (the point) where the process stands. */
  private get point(): number {
    return this.process.instructions - this.offset;
  }

  private runTo(point: number): boolean {
    // Host work a stub does is charged to the run's budget, so one run may stop short of the
    // point with 'budget': go on until the point (instructions, not charges, are points).
    for (;;) {
      const left = point - this.point;
      if (left <= 0) return true;
      const stop = this.process.run({ maxInstructions: left });
      if (stop.reason !== 'budget') return false;
      if (this.point === point) return true;
    }
  }

  /** Patch here with the interrupted state as the verifier's patch point sees it, and run. */
  private patchedRunHere(realPoint: boolean, atTouch = false): PointVerdict {
    const session: PatchSession = {
      ...this.base.session,
      point: realPoint ? stateHere(this.process, 'explored point', 0) : { instruction: this.process.instructions, rip: 0n, rsp: 0n, description: 'class representative', targetCallsBefore: 0, stackWords: [] },
      result: { verdict: 'error', findings: [] },
    };
    const ctx = { ...this.base, session, ...(this.watch ? { watch: this.watch } : {}), ...(atTouch ? { atTouch } : {}), ...(this.observationHooks ? { observationHooks: this.observationHooks } : {}) };
    return this.tool ? toolPatchedRun({ ...ctx, ...this.tool }) : programPatchedRun(ctx);
  }

  /** Every point: back to a checkpoint, forward to the point, patch, run. Returns where the program ended, if inside the range. */
  bruteForce(range: { first: number; last: number }, stride: number, record: Record, tally: { patchedRuns: number }): number | null {
    const process = this.process;
    if (!this.runTo(range.first)) return this.point;
    const watch = new TouchWatch(process, this.overwritten.site, this.overwritten.length);
    watch.enabled = false;
    this.watch = watch;
    const stubs = process instanceof EmulatedProcess ? process : null;
    if (stubs) stubs.briefFaults = true; // only the codes of a patched run count
    try {
      return this.bruteForceFrom(range, stride, record, tally);
    } finally {
      if (stubs) stubs.briefFaults = false;
      this.watch = null;
      watch.close();
    }
  }

  private bruteForceFrom(range: { first: number; last: number }, stride: number, record: Record, tally: { patchedRuns: number }): number | null {
    const process = this.process;
    let checkpoint = process.snapshot();
    let checkpointAt = this.point;
    for (let p = range.first; p <= range.last; p += stride) {
      if (p - checkpointAt >= CHECKPOINT_EVERY) {
        process.restore(checkpoint);
        if (!this.runTo(p)) return this.point;
        checkpoint = process.snapshot();
        checkpointAt = p;
      }
      process.restore(checkpoint);
      if (!this.runTo(p)) return this.point;
      const context = momentContext(process, this.overwritten);
      const live = liveInside(process, this.overwritten);
      tally.patchedRuns++;
      record(p, this.patchedRunHere(true), live, () => context);
      process.restore(checkpoint);
    }
    return null;
  }

  /**
   * Tool-driven: one recorded run, one patched run per class. The recording runs from touch to
   * touch in one go while no stack word points inside the bytes (every point of such a stretch
   * is hazard-free but the one right before a fetch of the bytes, where the run stops, and where
   * the class's patched run starts: nothing between the class's start and its touch looked at
   * the bytes). It steps point by point while such a word is on the stack, and through a class
   * where something else may end it (a mapping change, a code write, a signal, a libc call
   * handed a pointer near the bytes, the program's end), so every boundary is found where a
   * single step would find it.
   */
  byClasses(range: { first: number; last: number }, stride: number, record: Record, tally: { patchedRuns: number }): number | null {
    const process = this.process;
    if (!this.runTo(range.first)) return this.point;
    const overwritten = this.overwritten;
    const watch = new TouchWatch(process, overwritten.site, overwritten.length);
    // The stubs model's libc runs on the host: a call handed a pointer near the bytes may read them unseen.
    // (The system model's libc is guest code: its reads are touches.)
    const stubs = process instanceof EmulatedProcess ? process : null;
    const words = new StackWords(process, overwritten.site + 1n, overwritten.site + BigInt(Math.max(1, overwritten.length)) - 1n);
    // The patched runs' code hooks (over the bytes, at the replacement's entry), kept over the whole
    // sweep: they do nothing between runs (and the unpatched runs never reach the replacement), and
    // the engine's hook state stays the same, so no run re-syncs it or re-marks the decoded code.
    this.observationHooks = this.tool ? new ObservationHooks(process, overwritten.site, overwritten.length, [this.tool.replacement]) : null;
    this.watch = watch;
    if (stubs) stubs.briefFaults = true;
    const near = { lo: overwritten.site - ARGUMENT_REACH, hi: overwritten.site + BigInt(overwritten.length) + ARGUMENT_REACH };
    const argumentsNear = (): boolean => ARGUMENT_REGISTERS.some((r) => {
      const v = process.engine.readRegister(r);
      return v >= near.lo && v < near.hi;
    });
    let nearCall = false;
    if (stubs) {
      stubs.onStubCall = () => {
        if (argumentsNear()) nearCall = true;
      };
    }
    const explored = (p: number): boolean => p >= range.first && p <= range.last && (p - range.first) % stride === 0;
    const firstExplored = (from: number): number => from + ((stride - ((from - range.first) % stride)) % stride);
    // The latest snapshot (the engine keeps one), at or before the current class's start.
    let checkpoint = { snapshot: process.snapshot(), at: this.point, words: words.save() };
    const goTo = (point: number): boolean => {
      process.restore(checkpoint.snapshot);
      words.restore(checkpoint.words);
      watch.enabled = false;
      try {
        return this.runTo(point);
      } finally {
        watch.enabled = true;
      }
    };
    /** The class's patched future, run where the process stands (any point of the class gives the same). */
    let future: { codes: string[]; written: boolean } | null = null;
    const patchedRun = (atTouch = false): { codes: string[]; written: boolean } => {
      checkpoint = { snapshot: process.snapshot(), at: this.point, words: words.save() };
      words.enabled = false;
      tally.patchedRuns++;
      const verdict = this.patchedRunHere(false, atTouch);
      process.restore(checkpoint.snapshot);
      words.restore(checkpoint.words);
      words.enabled = true;
      return { codes: verdict.applied ? verdict.codes : [], written: verdict.applied && verdict.written === true };
    };
    const recordPoint = (p: number, live: LiveHazard, context: () => MomentContext): void => {
      const codes = future!.written && live !== 'none' ? [...future!.codes, 'LIVE_INSTRUCTION_CLOBBERED'] : future!.codes;
      record(p, { applied: true, codes }, live, context);
    };
    /** Step point by point until the class ends (after a stretch that saw something unusual). */
    let stepping = false;
    try {
      for (let p = range.first; ;) {
        // Threads: their stacks are not the main one the word watch covers, so step (the check runs on every thread).
        if (stepping || !words.empty || threaded(process)) {
          // One point: classify it where the process stands, then one step with the boundary checks.
          if (explored(p)) {
            future ??= patchedRun();
            recordPoint(p, liveInside(process, overwritten), () => momentContext(process, overwritten));
          }
          if (p >= range.last) return null;
          const rip = process.engine.readRegister('rip');
          let boundary = stubs !== null && rip >= STUB_CODE.lo && rip < STUB_CODE.hi && argumentsNear();
          watch.touched = false;
          const events = process.events.length;
          if (!this.runTo(p + 1)) return this.point;
          for (let i = events; i < process.events.length && !boundary; i++) boundary = CLASS_BOUNDARY_EVENTS.has(process.events[i]!.kind);
          p++;
          if (watch.touched || boundary) {
            future = null;
            stepping = false;
          }
          continue;
        }
        // A stretch in one run: from p to the class's touch, a stack word inside the bytes, or the range's end.
        const first = firstExplored(p);
        let moment: Moment | null = null;
        const events = process.events.length;
        nearCall = false;
        watch.touched = false;
        watch.stopOnTouch = true;
        words.inserted = false;
        words.stopOnInsert = true;
        const interrupted = (): boolean => watch.touched || words.inserted;
        let alive = true;
        try {
          if (first <= range.last) {
            // The context of the stretch's first explored point is copied on the way (a window may start there).
            alive = this.runUntil(first, interrupted);
            if (alive && !interrupted() && this.point === first) moment = captureMoment(process, overwritten);
          }
          if (alive && !interrupted()) alive = this.runUntil(range.last, interrupted);
        } finally {
          watch.stopOnTouch = false;
          words.stopOnInsert = false;
        }
        let unusual = nearCall || !alive;
        for (let i = events; i < process.events.length && !unusual; i++) unusual = CLASS_BOUNDARY_EVENTS.has(process.events[i]!.kind) || process.events[i]!.kind === 'signal-delivered';
        if (unusual) {
          if (!goTo(p)) return this.point;
          stepping = true;
          continue;
        }
        const stop = this.point;
        const fetched = watch.touched && watch.kind === 'fetch';
        const accessed = watch.touched && watch.kind === 'access';
        const inserted = !watch.touched && words.inserted;
        // Where the process stands is the stretch's last point when it stopped before a fetch or
        // at the range's end (its hazard read there); after an access or an inserting write, the
        // instruction before it is.
        const standing = !accessed && !inserted;
        const last = standing ? stop : stop - 1;
        const lastLive: LiveHazard = standing ? liveInside(process, overwritten) : 'none';
        if (future === null && first <= last) {
          if (!accessed) future = patchedRun(fetched);
          else {
            // The access already saw the old bytes: run the future from the class's start.
            if (!goTo(p)) return this.point;
            future = patchedRun();
            if (!goTo(stop)) return this.point;
          }
        }
        for (let q = first; q <= last; q += stride) {
          const live = q === last ? lastLive : 'none';
          const at = q;
          recordPoint(q, live, () => {
            if (at === last && standing) return momentContext(process, overwritten);
            if (at === first && moment) return momentContext(process, overwritten, moment);
            throw new Error(`exploration: no context kept for point ${at} (a bug in the class sweep)`);
          });
        }
        if (fetched) {
          // Past the fetching instruction: the next class starts after it.
          watch.enabled = false;
          const ok = this.runTo(stop + 1);
          watch.enabled = true;
          if (!ok) return this.point;
          future = null;
          p = stop + 1;
          continue;
        }
        if (accessed) {
          future = null;
          p = stop;
          continue;
        }
        if (inserted) {
          p = stop; // the same class, from here point by point
          continue;
        }
        return null; // the range's end
      }
    } finally {
      if (stubs) {
        stubs.onStubCall = undefined;
        stubs.briefFaults = false;
      }
      this.watch = null;
      this.observationHooks?.close();
      this.observationHooks = null;
      watch.close();
      words.close();
    }
  }

  /** Runs until `last` or until `done()` says a hook stopped the run; false when the program ended. */
  private runUntil(last: number, done: () => boolean): boolean {
    for (;;) {
      const left = last - this.point;
      if (left <= 0) return true;
      const stop = this.process.run({ maxInstructions: left });
      if (stop.reason !== 'budget') return false;
      if (done() || this.point >= last) return true;
    }
  }
}
