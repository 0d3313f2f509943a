// Re-runs the verified scenario in a process of its own (either model: the stubs model's
// EmulatedProcess or the system model's SystemProcess on the request's sysroot) to show it: the
// whole run's events and output as a timeline, and a bounded window of single steps around the
// patch point with registers and the stack, which the verifier does not keep. It starts the process,
// opens patch.so and writes the trampoline with the verifier's own functions, under the same
// instruction budget, and then checks that its run is the verifier's: same patch point, output
// lines, code writes, instruction count and end. A replay that differs is not shown as a trace.
// On the system model each step records the thread that executes it, and the scheduler is
// reseeded at the patch point with the reported schedule's seed, as the verifier does.

import { disassemble } from '../../../src/asm/disasm.js';
import { SymbolType } from '../../../src/elf/index.js';
import { createEngine } from '../../../src/engine/index.js';
import { EmulatedProcess, RTLD_NOW, layout, signalNumber, type GuestObject, type GuestProcess, type ProcessEvent, type ProcessStop } from '../../../src/loader/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';
import { launchProcess, PATCH_PATH } from '../../../src/verify/dynamic/launch.js';
import { writtenRanges } from '../../../src/verify/dynamic/program-patcher.js';
import { describeStop } from '../../../src/verify/dynamic/stop-text.js';
import { applyToolPatch } from '../../../src/verify/dynamic/tool-patcher.js';
import { DEFAULT_MAX_INSTRUCTIONS, type ProcessChoice } from '../../../src/verify/input.js';
import type { OutputLine, VerifyResult } from '../../../src/verify/result.js';
import { outputLines } from '../../../src/verify/summary.js';
import {
  STACK_WORDS, STACK_WORDS_BELOW, TRACE_REGISTERS,
  type CodeListing, type ListingLine, type RecordedTrace, type ReplayCheck, type TimelineEvent, type TraceStep, type VerifyRequest,
} from '../protocol.js';
import { hex } from '../../../src/hex.js';

/** Steps recorded before the patch point, and at most after it. */
const STEPS_BEFORE = 150;
const MAX_STEPS_AFTER = 6000;
/** Once the replacement has run, a few more steps show the return into its caller. */
const STEPS_AFTER_REPLACEMENT = 120;
const MAX_LISTED_BYTES = 1024;

export interface Replay {
  timeline: TimelineEvent[];
  trace?: RecordedTrace;
  notes: string[];
  check: ReplayCheck;
}

interface FunctionRange {
  title: string;
  start: bigint;
  end: bigint;
}

export async function replay(request: VerifyRequest, result: VerifyResult, onProgress: (fraction: number) => void, model?: ProcessChoice): Promise<Replay> {
  const notes: string[] = [];
  const mainPath = `./${baseName(request.mainName)}`;
  const libraryPaths = [...new Set([PATCH_PATH, `./${baseName(request.patchName)}`])];
  // The verifier's budget and process: argv, library names and layout are the verifier's.
  const budget = DEFAULT_MAX_INSTRUCTIONS;
  const process: GuestProcess = launchProcess(await createEngine('wasm'), request.main, request.mainName, request.patch, request.patchName, request.libraries ?? [], model);
  const stubs = process instanceof EmulatedProcess ? process : undefined;
  const system = process instanceof SystemProcess ? process : undefined;
  /** A symbol's run-time address: the stubs model's linker knows; on the system model, the live image's objects. */
  const symbolAddress = (name: string, path: string): bigint | undefined => {
    if (stubs) return stubs.symbolAddress(name, path);
    const object = path === mainPath ? process.executable : process.objects.find((o) => o.path === path);
    return symbolIn(object, name);
  };

  const targetName = result.target?.name ?? request.symbol;
  const replacementName = result.replacement?.name ?? request.replacement ?? targetName;
  const targetAddress = symbolAddress(targetName, mainPath);
  if (targetAddress !== undefined) process.watchCalls([targetAddress]);
  let replacementAddress: bigint | undefined;
  const watchReplacement = (): void => {
    if (replacementAddress !== undefined) return;
    for (const path of libraryPaths) {
      replacementAddress = symbolAddress(replacementName, path);
      if (replacementAddress !== undefined) break;
    }
    if (replacementAddress !== undefined) process.watchCalls([replacementAddress]);
  };

  const patchPoint = result.run?.patchPoint;
  const signo = request.signal !== undefined ? signalNumber(request.signal) : undefined;
  let appliedAt: number | undefined;
  /** false when the verifier's patch stopped the run (its write was refused): so does the replay's. */
  let runOn = true;
  const applyPatch = (): void => {
    appliedAt = process.instructions;
    // The verifier replays its schedule from the patch point: the scheduler is reseeded there (verify.ts's patchOnce).
    const seed = result.run?.process?.threads?.seed;
    if (system && seed !== undefined) system.threads.reseed(BigInt(seed));
    if (signo !== undefined) {
      process.deliverSignal(signo);
      return;
    }
    const trampoline = result.trampoline;
    if (!trampoline) return;
    // What the verifier does as the patcher: dlopen, mprotect RWX, write, mprotect R-X.
    const opened = process.dlopen(PATCH_PATH, RTLD_NOW, Math.max(1, budget - process.instructions));
    if ('error' in opened) notes.push(`replay: dlopen failed: ${opened.error}`);
    if (trampoline.bytes.length === 0 || !applyToolPatch(process, trampoline.site, trampoline.bytes).written) runOn = false;
  };

  // Recomputed when an object is loaded (patch.so by dlopen), so the replacement gets its name.
  let functions = functionRanges(process);
  let objectCount = process.objects.length;
  const listings: CodeListing[] = [];
  const listingIndex = new Map<string, number>();
  const listingFor = (rip: bigint): number => {
    if (process.objects.length !== objectCount) {
      functions = functionRanges(process);
      objectCount = process.objects.length;
    }
    if (stubs && rip >= layout.STUB_CODE_BASE && rip < layout.STUB_CODE_BASE + BigInt(layout.STUB_CODE_SIZE)) return stubListing(rip);
    const fn = functions.find((f) => rip >= f.start && rip < f.end);
    const codeWrites = process.events.filter((e) => e.kind === 'code-write' && fn && e.address < fn.end && e.address + BigInt(e.bytes.length) > fn.start).length;
    const start = fn?.start ?? rip;
    const key = `${start}:${codeWrites}`;
    const known = listingIndex.get(key);
    if (known !== undefined) return known;
    const length = fn ? Math.min(Number(fn.end - fn.start), MAX_LISTED_BYTES) : 64;
    let lines: ListingLine[] = [];
    try {
      lines = disassemble(process.mem.read(start, length), start).map((i) => {
        const line: ListingLine = { address: i.address, bytes: i.bytes, text: i.text };
        if (i.branchTarget !== undefined) line.branchTarget = i.branchTarget;
        return line;
      });
    } catch {
      lines = [];
    }
    const title = (fn?.title ?? `code at 0x${rip.toString(16)}`) + (codeWrites > 0 ? ' (as patched)' : '');
    listings.push({ title, lines });
    listingIndex.set(key, listings.length - 1);
    return listings.length - 1;
  };

  // The libc image is 64 KiB of int3 with a breakpoint per function the host emulates: a
  // listing of the stub at rip, named, rather than the image from its start.
  const stubListing = (rip: bigint): number => {
    const key = `stub:${rip}`;
    const known = listingIndex.get(key);
    if (known !== undefined) return known;
    const name = process.describe(rip);
    let lines: ListingLine[] = [];
    try {
      lines = disassemble(process.mem.read(rip, 8), rip).map((i) => ({ address: i.address, bytes: i.bytes, text: i.text }));
    } catch {
      lines = [];
    }
    const first = lines[0];
    const stub = name.endsWith(' (libc stub)') ? name.slice(0, -' (libc stub)'.length) : undefined;
    if (first && first.text === 'int3' && stub !== undefined) lines = [{ ...first, text: 'int3    ; breakpoint: the host runs it' }];
    listings.push({ title: stub !== undefined ? `${stub} (emulated libc: the host runs it and returns to the caller)` : `emulated libc: ${name}`, lines });
    listingIndex.set(key, listings.length - 1);
    return listings.length - 1;
  };

  let stop: ProcessStop | undefined;
  let trace: RecordedTrace | undefined;
  if (patchPoint === undefined) {
    notes.push('no patch point in the verifier\'s result: the timeline shows the unpatched run, without a step trace');
    stop = process.run({ maxInstructions: budget });
  } else {
    const firstInstruction = Math.max(0, patchPoint - STEPS_BEFORE);
    // The system model charges system calls to the budget too: a run may end a little early, so run on to the count.
    while (process.instructions < firstInstruction && (stop === undefined || stop.reason === 'budget')) stop = process.run({ maxInstructions: firstInstruction - process.instructions });
    onProgress(0.3);
    const steps: TraceStep[] = [];
    let applied = false;
    let replacementSeenAt: number | undefined;
    let truncated = true;
    while ((stop === undefined || stop.reason === 'budget') && process.instructions < budget) {
      if (!applied && process.instructions >= patchPoint) {
        applyPatch();
        applied = true;
        watchReplacement();
      }
      if (applied && replacementAddress === undefined && process.events.some((e) => e.kind === 'dlopen')) watchReplacement();
      if (system) {
        // The scheduler switches threads at the start of a run, before the next instruction: a run
        // of no instructions makes that switch now, so the step shows (and names) the thread that
        // executes it. The verifier's run switches at the same count; the replay check says so.
        const switched = process.run({ maxInstructions: 0 });
        if (switched.reason !== 'budget') {
          stop = switched;
          truncated = false;
          break;
        }
      }
      steps.push(snapshotStep(process, listingFor, system));
      const rip = steps[steps.length - 1]!.rip;
      if (replacementSeenAt === undefined && replacementAddress !== undefined && rip === replacementAddress) replacementSeenAt = steps.length;
      const after = steps.length - STEPS_BEFORE;
      if (applied && !runOn) break;
      if (after >= MAX_STEPS_AFTER || (replacementSeenAt !== undefined && steps.length - replacementSeenAt >= STEPS_AFTER_REPLACEMENT)) break;
      stop = process.run({ maxInstructions: 1 });
      if (stop.reason !== 'budget') truncated = false;
    }
    trace = { steps, listings, firstInstruction, truncated };
    onProgress(0.7);
    if (!applied) applyPatch();
    const left = budget - process.instructions;
    if (runOn && left > 0 && (stop === undefined || stop.reason === 'budget')) stop = process.run({ maxInstructions: left });
    // Not run on: the verifier stopped here too (its write was refused), with no end of its own.
    stop ??= { reason: 'budget', instructions: process.instructions };
  }
  onProgress(0.95);
  const output = outputLines(process.output);
  const check = compareWithVerifier(result, { appliedAt, output, instructions: process.instructions, stop, codeWrites: process.events.filter(isCodeWrite) });
  const timeline = buildTimeline(process.events, output, patchPoint, targetAddress, replacementAddress, stop, describe(process));
  if (trace) attachSteps(timeline, trace.steps);
  return trace ? { timeline, trace, notes, check } : { timeline, notes, check };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

type CodeWrite = Extract<ProcessEvent, { kind: 'code-write' }>;
const isCodeWrite = (e: ProcessEvent): e is CodeWrite => e.kind === 'code-write';

const lineText = (l: OutputLine | undefined): string => (l ? `${l.stream} "${l.text}" at instruction ${l.instruction}` : 'nothing');

/**
 * Differences between the replay and the verifier's run, in words; none means the trace shows
 * the run the verdict is about. Only a finished verification has a run to compare with.
 */
function compareWithVerifier(
  result: VerifyResult,
  replayed: { appliedAt: number | undefined; output: OutputLine[]; instructions: number; stop: ProcessStop | undefined; codeWrites: CodeWrite[] },
): ReplayCheck {
  const run = result.run;
  if (result.verdict === 'error' || !run) return { compared: false, differences: [] };
  const differences: string[] = [];
  if (run.patchPoint !== undefined && replayed.appliedAt !== run.patchPoint) {
    differences.push(`the replay patched after ${replayed.appliedAt ?? 'no'} instructions, the verifier after ${run.patchPoint}`);
  }
  const lines = Math.max(replayed.output.length, run.output.length);
  for (let i = 0; i < lines; i++) {
    const mine = replayed.output[i];
    const theirs = run.output[i];
    if (mine?.stream !== theirs?.stream || mine?.text !== theirs?.text || mine?.instruction !== theirs?.instruction) {
      differences.push(`output line ${i + 1}: the replay wrote ${lineText(mine)}, the verifier's run ${lineText(theirs)}`);
      break;
    }
  }
  // Writes into code from the patch point on: the trampoline (tool-driven) or, program-driven,
  // what the handler wrote (the verifier lists those; the program may write more later).
  const ranges = writtenRanges(replayed.codeWrites.filter((w) => replayed.appliedAt !== undefined && w.at >= replayed.appliedAt));
  const spell = (rs: readonly { start: bigint; end: bigint }[]): string => rs.map((r) => `0x${r.start.toString(16)}..0x${r.end.toString(16)}`).join(', ') || 'nothing';
  const expected = result.programWrites
    ? result.programWrites.map((w) => ({ start: w.address, end: w.address + BigInt(w.length) }))
    : result.trampoline && result.trampoline.bytes.length > 0 ? [{ start: result.trampoline.site, end: result.trampoline.site + BigInt(result.trampoline.bytes.length) }] : [];
  const covered = expected.every((e) => ranges.some((r) => r.start <= e.start && e.end <= r.end));
  if (!covered || (!result.programWrites && spell(ranges) !== spell(expected))) {
    differences.push(`code written from the patch point on: the replay wrote ${spell(ranges)}, the verifier saw ${spell(expected)}`);
  }
  if (replayed.instructions !== run.instructions) differences.push(`the replay ran ${replayed.instructions} instructions, the verifier's run ${run.instructions}`);
  // "while the handler ran, ..." ends are the verifier's own words for a stop it also made.
  const end = replayed.stop ? describeStop(replayed.stop) : 'running';
  if (run.endReason !== undefined && !run.endReason.startsWith('while ') && run.endReason !== 'the patch was not applied' && end !== run.endReason) {
    differences.push(`the replay's run ended as "${end}", the verifier's as "${run.endReason}"`);
  }
  return { compared: true, differences, outputLines: run.output.length, instructions: run.instructions };
}

/** A defined symbol of a loaded object, at its run-time address. */
function symbolIn(object: GuestObject | undefined, name: string): bigint | undefined {
  const elf = object?.elf;
  if (!object || !elf) return undefined;
  const symbol = [...elf.dynamicSymbols, ...elf.symbols].find((s) => s.name === name && s.sectionIndex !== 0 && s.value !== 0n);
  return symbol ? object.base + symbol.value : undefined;
}

function describe(process: GuestProcess): (address: bigint) => string {
  return (address) => process.describe(address);
}

function snapshotStep(process: GuestProcess, listingFor: (rip: bigint) => number, system: SystemProcess | undefined): TraceStep {
  const engine = process.engine;
  const rip = engine.readRegister('rip');
  const registers = TRACE_REGISTERS.map((r) => engine.readRegister(r));
  const rsp = registers[TRACE_REGISTERS.indexOf('rsp')]!;
  const stack: (bigint | null)[] = [];
  for (let i = -STACK_WORDS_BELOW; i < STACK_WORDS - STACK_WORDS_BELOW; i++) {
    try {
      stack.push(process.mem.u64(rsp + BigInt(i * 8)));
    } catch {
      stack.push(null);
    }
  }
  const step: TraceStep = { at: process.instructions, rip, registers, stack, listing: listingFor(rip) };
  if (system) step.thread = system.threads.current.tid;
  return step;
}

/** Function symbols of every loaded object at their run-time addresses, plus (stubs model) the libc stub area. */
function functionRanges(process: GuestProcess): FunctionRange[] {
  const out: FunctionRange[] = [];
  for (const o of process.objects) {
    if (!o.elf) continue;
    for (const s of [...o.elf.symbols, ...o.elf.dynamicSymbols]) {
      if (s.type !== SymbolType.Func || s.sectionIndex === 0 || s.size === 0n) continue;
      const start = o.base + s.value;
      out.push({ title: `${o.elf.demangledName(s)}  [${o.path.replace(/^\.\//, '')}]`, start, end: start + s.size });
    }
  }
  if (process instanceof EmulatedProcess) out.push({ title: 'emulated libc (host stubs)', start: layout.STUB_CODE_BASE, end: layout.STUB_CODE_BASE + BigInt(layout.STUB_CODE_SIZE) });
  return out;
}

function buildTimeline(
  events: readonly ProcessEvent[],
  output: readonly OutputLine[],
  patchPoint: number | undefined,
  target: bigint | undefined,
  replacement: bigint | undefined,
  stop: ProcessStop | undefined,
  where: (address: bigint) => string,
): TimelineEvent[] {
  const timeline: TimelineEvent[] = [];
  for (const line of output) timeline.push({ kind: 'output', at: line.instruction, text: `${line.stream}: ${line.text}` });
  if (patchPoint !== undefined) timeline.push({ kind: 'patch-point', at: patchPoint, text: `patch point: the patch is applied after ${patchPoint} instructions` });
  for (const e of events) {
    switch (e.kind) {
      case 'signal-delivered':
        timeline.push({ kind: 'signal', at: e.at, address: e.handler, text: `signal ${e.signo} delivered, handler ${where(e.handler)}` });
        break;
      case 'signal-return':
        timeline.push({ kind: 'signal-return', at: e.at, address: e.rip, text: `handler returned (sigreturn) to ${where(e.rip)}` });
        break;
      case 'dlopen':
        timeline.push({ kind: 'dlopen', at: e.at, text: `dlopen("${e.path}", ${e.flags}) = ${e.error ? `NULL (${e.error})` : hex(e.handle)}` });
        break;
      case 'dlsym':
        timeline.push({ kind: 'dlsym', at: e.at, address: e.address, text: `dlsym(${e.handle === 0n ? 'RTLD_DEFAULT' : hex(e.handle)}, "${e.symbol}") = ${e.error ? `NULL (${e.error})` : `${hex(e.address)} ${where(e.address)}`}` });
        break;
      case 'mprotect':
        timeline.push({ kind: 'mprotect', at: e.at, address: e.address, text: `mprotect(${hex(e.address)}, ${hex(e.length)}, ${protText(e.prot)}) = ${e.result}` });
        break;
      case 'code-write':
        timeline.push({ kind: 'code-write', at: e.at, address: e.address, text: `write into code at ${where(e.address)}: ${[...e.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')} (by ${e.by === 'instruction' ? `instruction at ${where(e.rip)}` : e.by})` });
        break;
      case 'call':
        if (e.address === target) timeline.push({ kind: 'call-target', at: e.at, address: e.address, text: `call of the target ${where(e.address)}` });
        else if (e.address === replacement) timeline.push({ kind: 'call-replacement', at: e.at, address: e.address, text: `call of the replacement ${where(e.address)}` });
        break;
      default:
        break;
    }
  }
  if (stop) timeline.push({ kind: 'exit', at: stop.instructions, text: stopText(stop) });
  return timeline.sort((a, b) => a.at - b.at);
}

function attachSteps(timeline: TimelineEvent[], steps: readonly TraceStep[]): void {
  if (steps.length === 0) return;
  let i = 0;
  for (const event of timeline) {
    while (i < steps.length && steps[i]!.at < event.at) i++;
    if (i < steps.length) event.step = i;
  }
}

function protText(prot: number): string {
  if (prot === 0) return 'PROT_NONE';
  return [prot & 1 ? 'PROT_READ' : '', prot & 2 ? 'PROT_WRITE' : '', prot & 4 ? 'PROT_EXEC' : ''].filter(Boolean).join('|');
}

function stopText(stop: ProcessStop): string {
  switch (stop.reason) {
    case 'exited':
      return `process exited with status ${stop.status}`;
    case 'killed':
      return `process killed: ${stop.detail}`;
    case 'budget':
      return `run stopped: instruction budget used up`;
    case 'error':
      return `run stopped: ${stop.error.message}`;
    default:
      return `run stopped (${stop.reason})`;
  }
}
