// Running main up to the patch point. Default: where `kill -USR1` finds a server like the
// corpus programs: after the target has returned for the first time, blocked in its next
// sleep call (usleep/nanosleep/sleep/...); if it never sleeps, right after that return.
// With --patch-at N: after N instructions. Either way the state there (rip, the words on
// the stack) is kept, so the checks can ask whether a frame was inside the patched bytes.

import type { CodeMap } from '../../analysis/index.js';
import type { ElfFile } from '../../elf/index.js';
import type { GuestProcess, ProcessStop } from '../../loader/index.js';
import { layout } from '../../loader/index.js';
import { SystemProcess, viewThreads, type ThreadView } from '../../loader/system/index.js';
import { VerifyError } from '../error.js';
import { setPhase } from './progress.js';
import { framePointerWalk, unwindWithRules, type Frame } from './unwind.js';
import { describeStop } from './stop-text.js';

const SLEEP_FUNCTIONS = new Set(['usleep', 'sleep', 'nanosleep', 'clock_nanosleep', 'pause', 'sigsuspend', 'select', 'poll', 'epoll_wait', 'read']);
/** How far up the stack to look for return addresses. */
const STACK_SCAN_BYTES = 64 * 1024;

export interface PatchPoint {
  instruction: number;
  rip: bigint;
  rsp: bigint;
  /** In words: where and why. */
  description: string;
  /** Calls of the target before the patch point. */
  targetCallsBefore: number;
  /** 8-byte words from rsp upwards (slot address and value): candidate return addresses. */
  stackWords: { slot: bigint; value: bigint }[];
  /** The system model's threads other than the one stopped in, with the world stopped (empty with one thread). */
  otherThreads?: ThreadView[];
  /** The stopped thread's id and name (system model). */
  thread?: { tid: number; name: string };
  /** The stopped thread's view, with its frames (system model). */
  self?: ThreadView;
}

/**
 * A thread's frames: the .eh_frame walk from its registers; where the rules end on code that has
 * none (generated code, a stripped object), the rbp chain, and past that the conservative scan
 * of its stack words (each just after a call instruction).
 */
export function threadFrames(process: GuestProcess, v: ThreadView): Frame[] {
  const walk = unwindWithRules(process, v);
  const frames: Frame[] = [...walk.frames];
  if (!walk.noRule && frames.length > 0) return frames;
  const stackEnd = v.stackWords.length > 0 ? v.stackWords[v.stackWords.length - 1]!.slot + 8n : v.rsp;
  frames.push(...framePointerWalk(process, walk.at, stackEnd));
  const seen = new Set(frames.map((f) => f.address));
  // The scan: the words above where the walks reached that look like return addresses.
  const scanned = new Set(v.callChain.map((c) => c.address));
  for (const w of v.stackWords) {
    if (w.slot < walk.at.rsp || !scanned.has(w.value) || seen.has(w.value)) continue;
    seen.add(w.value);
    frames.push({ address: w.value, location: process.describe(w.value), how: 'stack scan' });
  }
  return frames;
}

/**
 * A call of a sleep function in main: `call usleep@plt`, or (-fno-plt) `call [rip+GOT]`. The
 * default patch point stops at the call itself, so the interrupted frame is main's own code
 * (what the web page lists and steps); the sleep would only add a libc frame above it.
 */
export interface SleepCall {
  /** Run-time address of the call instruction. */
  address: bigint;
  symbol: string;
  via: 'plt' | 'got';
}

/** ModRM reg field of `ff /r` with a [rip+disp32] operand: 2 = call, 4 = jmp. */
function indirectThroughRip(bytes: Uint8Array | null): 'call' | 'jmp' | null {
  if (!bytes || bytes.length < 6) return null;
  const opcode = bytes[bytes.length - 6];
  const modrm = bytes[bytes.length - 5]!;
  if (opcode !== 0xff || (modrm & 0xc7) !== 0x05) return null;
  const reg = (modrm >> 3) & 7;
  return reg === 2 ? 'call' : reg === 4 ? 'jmp' : null;
}

/** main's calls of sleep functions, found through the GOT slots its relocations name. */
export function sleepCalls(main: ElfFile, codeMap: CodeMap, loadBias: bigint): SleepCall[] {
  const slots = new Map<bigint, string>();
  for (const r of main.relocations) {
    if (r.symbol && SLEEP_FUNCTIONS.has(r.symbol.name)) slots.set(r.offset, r.symbol.name);
  }
  if (slots.size === 0) return [];
  const calls: SleepCall[] = [];
  const pltEntries = new Map<bigint, string>();
  for (const o of codeMap.ripRelativeOperands()) {
    const symbol = slots.get(o.target);
    if (symbol === undefined) continue;
    const kind = indirectThroughRip(codeMap.bytesAt(o.address, o.length));
    if (kind === 'call') calls.push({ address: o.address + loadBias, symbol, via: 'got' });
    if (kind !== 'jmp') continue;
    pltEntries.set(o.address, symbol);
    // `endbr64; bnd jmp [rip+GOT]` (.plt.sec under -fcf-protection): calls target the endbr64.
    const before = codeMap.bytesAt(o.address - 4n, 4);
    if (before && before[0] === 0xf3 && before[1] === 0x0f && before[2] === 0x1e && before[3] === 0xfa) pltEntries.set(o.address - 4n, symbol);
  }
  for (const e of codeMap.directBranches()) {
    const symbol = e.kind === 'call' ? pltEntries.get(e.target) : undefined;
    if (symbol !== undefined) calls.push({ address: e.source + loadBias, symbol, via: 'plt' });
  }
  return calls.sort((x, y) => (x.address < y.address ? -1 : 1));
}

/** Host work (libc copies, formatting, system calls) counts against the budget too: say how much. */
function chargedText(process: GuestProcess): string {
  return process.charged > 0 ? ` and ${process.charged} more for host work (libc copies and formatting, system calls)` : '';
}

function failBeforePatchPoint(stop: ProcessStop, process: GuestProcess, what: string): never {
  switch (stop.reason) {
    case 'budget':
      throw new VerifyError('budget', `the instruction budget ran out after ${stop.instructions} instructions${chargedText(process)}, before ${what}; raise --max-insns or choose an earlier --patch-at`);
    case 'error':
      throw new VerifyError('unsupported', `the emulated process stopped before ${what}: ${stop.error.message}`);
    case 'killed': {
      const fault = stop.fault;
      if (fault && fault.signal === 'SIGILL') {
        const bytes = Array.from(fault.instructionBytes.slice(0, 15), (b) => b.toString(16).padStart(2, '0')).join(' ');
        throw new VerifyError('unsupported', `unsupported or invalid instruction at 0x${fault.rip.toString(16)} (${fault.location}), bytes ${bytes}, before ${what}: the emulator cannot run this program that far`);
      }
      throw new VerifyError('unsupported', `the program died before ${what}: ${describeStop(stop)}`);
    }
    case 'exited': {
      // What the program (or ld.so: "error while loading shared libraries") said last on stderr explains an early exit.
      const stderr = process.output.filter((c) => c.fd === 2).map((c) => c.text).join('').trim().split('\n').pop();
      const said = stderr ? `; its last words on stderr: "${stderr.slice(0, 300)}"` : '';
      throw new VerifyError('no-patch-point', `the program exited (status ${stop.status}) after ${stop.instructions} instructions, before ${what}${said}; choose a --patch-at below ${stop.instructions}`);
    }
    default:
      throw new VerifyError('unsupported', `the run stopped unexpectedly (${stop.reason}) before ${what} at ${process.describe(process.engine.readRegister('rip'))}`);
  }
}

function stackWords(process: GuestProcess, rsp: bigint): { slot: bigint; value: bigint }[] {
  const top = layout.STACK_TOP;
  const end = rsp + BigInt(STACK_SCAN_BYTES) < top ? rsp + BigInt(STACK_SCAN_BYTES) : top;
  if (rsp >= end) return [];
  const bytes = process.engine.readMemory(rsp, Number(end - rsp));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: { slot: bigint; value: bigint }[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) words.push({ slot: rsp + BigInt(i), value: view.getBigUint64(i, true) });
  return words;
}

/** The running thread's id (system model), 0 for the single-threaded stubs model. */
export function threadOf(process: GuestProcess): number {
  return process instanceof SystemProcess ? process.threads.current.tid : 0;
}

/** The patch point at the process's current instruction boundary. */
export function stateHere(process: GuestProcess, description: string, targetCallsBefore: number): PatchPoint {
  const rsp = process.engine.readRegister('rsp');
  const point: PatchPoint = { instruction: process.instructions, rip: process.engine.readRegister('rip'), rsp, description, targetCallsBefore, stackWords: stackWords(process, rsp), otherThreads: [] };
  if (process instanceof SystemProcess) {
    const views = viewThreads(process, STACK_SCAN_BYTES);
    for (const v of views) {
      v.frames = threadFrames(process, v);
      // The call chain as a debugger shows it: where the thread is, then its callers.
      if (v.frames.length > 0 && v.frames[0]!.how === 'cfi') v.callChain = [{ address: v.rip, location: process.describe(v.rip) }, ...v.frames];
    }
    point.otherThreads = views.filter((v) => !v.running);
    const self = views.find((v) => v.running);
    if (self) {
      point.thread = { tid: self.tid, name: self.name };
      point.self = self;
    }
  }
  return point;
}

export function runToPatchPoint(
  process: GuestProcess,
  target: { address: bigint; name: string },
  sleepSites: readonly SleepCall[],
  options: { patchAt?: number; budget: number },
): PatchPoint {
  const limit = options.budget;
  const left = (): number => limit - process.instructions;
  setPhase(process.engine, 'running to the patch point');
  if (options.patchAt !== undefined) {
    process.watchCalls([target.address]);
    const what = `the patch point (--patch-at ${options.patchAt})`;
    if (options.patchAt > limit) throw new VerifyError('bad-option', `--patch-at ${options.patchAt} is beyond the instruction budget (--max-insns ${limit})`);
    // Counted from the program's first instruction, also when a strategy ran start-up first.
    const steps = options.patchAt - process.instructions;
    if (steps < 0) {
      throw new VerifyError('bad-option', `--patch-at ${options.patchAt} falls in the start-up the strategy needs before it can find what to patch (the guest's ld.so ran ${process.instructions} instructions loading and relocating the libraries): choose --patch-at ${process.instructions} or more`);
    }
    // Instructions, not budget units: host work charged to the budget (libc stubs, system
    // calls) stops a run short of the count, so go on to it (as --explore counts its points).
    let stop: ProcessStop = steps > 0 ? process.run({ maxInstructions: steps }) : { reason: 'budget', instructions: process.instructions };
    while (stop.reason === 'budget' && process.instructions < options.patchAt) stop = process.run({ maxInstructions: options.patchAt - process.instructions });
    if (stop.reason !== 'budget') failBeforePatchPoint(stop, process, what);
    const calls = process.events.filter((e) => e.kind === 'call' && e.address === target.address).length;
    return stateHere(process, `after ${options.patchAt} instructions (--patch-at), at ${process.describe(process.engine.readRegister('rip'))}`, calls);
  }

  const what = `${target.name} ran (the default patch point waits for its first return)`;
  let stop = process.run({ maxInstructions: left(), stopAtCallOf: [target.address] });
  if (stop.reason !== 'call') failBeforePatchPoint(stop, process, what);
  const entryRsp = process.engine.readRegister('rsp');
  const returnAddress = process.mem.u64(entryRsp);
  const entryThread = threadOf(process);
  // Recursion returns to the same address first, from deeper frames, and other threads may
  // return there too: wait for our thread's return from our frame.
  for (;;) {
    stop = process.run({ maxInstructions: left(), until: returnAddress });
    if (stop.reason !== 'until') failBeforePatchPoint(stop, process, `${target.name} returned`);
    if (process.engine.readRegister('rsp') > entryRsp && threadOf(process) === entryThread) break;
    // Step off the address (a run from `until` itself would stop at once).
    stop = process.run({ maxInstructions: 1 });
    if (stop.reason !== 'budget') failBeforePatchPoint(stop, process, `${target.name} returned`);
  }
  const afterReturn = `right after ${target.name} returned for the first time, at ${process.describe(returnAddress)}`;
  if (sleepSites.length === 0) return stateHere(process, afterReturn, 1);

  const snapshot = process.snapshot();
  const atSleep = process.run({ maxInstructions: left(), stopAtCallOf: sleepSites.map((c) => c.address) });
  const call = atSleep.reason === 'call' ? sleepSites.find((c) => c.address === atSleep.address) : undefined;
  if (call) {
    return stateHere(process, `at the ${call.symbol} call at ${process.describe(call.address)}, after ${target.name} had returned once: where kill -SIGNAL finds a server like this one`, 1);
  }
  process.restore(snapshot);
  return stateHere(process, afterReturn, 1);
}
