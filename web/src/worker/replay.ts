// Re-runs the verified scenario in an EmulatedProcess of its own to show it: the whole run's
// events and output as a timeline, and a bounded window of single steps around the patch
// point with registers and the stack, which the verifier does not keep.

import { disassemble } from '../../../src/asm/disasm.js';
import { SymbolType } from '../../../src/elf/index.js';
import { WasmEngine } from '../../../src/engine/wasm-engine.js';
import { EmulatedProcess, RTLD_NOW, layout, signalNumber, type ProcessEvent, type ProcessStop } from '../../../src/loader/index.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import {
  STACK_WORDS, STACK_WORDS_BELOW, TRACE_REGISTERS,
  type CodeListing, type ListingLine, type RecordedTrace, type TimelineEvent, type TraceStep, type VerifyRequest,
} from '../protocol.js';

/** Steps recorded before the patch point, and at most after it. */
const STEPS_BEFORE = 150;
const MAX_STEPS_AFTER = 6000;
/** Once the replacement has run, a few more steps show the return into its caller. */
const STEPS_AFTER_REPLACEMENT = 120;
const RUN_BUDGET = 20_000_000;
const MAX_LISTED_BYTES = 1024;
const PROT_RWX = 7;
const PROT_RX = 5;

export interface Replay {
  timeline: TimelineEvent[];
  trace?: RecordedTrace;
  notes: string[];
}

interface FunctionRange {
  title: string;
  start: bigint;
  end: bigint;
}

export async function replay(request: VerifyRequest, result: VerifyResult, onProgress: (fraction: number) => void): Promise<Replay> {
  const notes: string[] = [];
  const mainPath = `./${request.mainName}`;
  const patchPath = `./${request.patchName}`;
  const libraries = [{ path: patchPath, bytes: request.patch }];
  // The handler of a program-driven patch dlopens the name it was written with.
  if (request.patchName !== 'patch.so') libraries.push({ path: './patch.so', bytes: request.patch });
  const process = EmulatedProcess.create(await WasmEngine.create(), { main: request.main, mainPath, libraries, argv: request.argv ?? [] });

  const targetName = result.target?.name ?? request.symbol;
  const replacementName = result.replacement?.name ?? request.replacement ?? targetName;
  const targetAddress = process.symbolAddress(targetName, mainPath);
  if (targetAddress !== undefined) process.watchCalls([targetAddress]);
  let replacementAddress: bigint | undefined;
  const watchReplacement = (): void => {
    if (replacementAddress !== undefined) return;
    for (const path of libraries.map((l) => l.path)) {
      replacementAddress = process.symbolAddress(replacementName, path);
      if (replacementAddress !== undefined) break;
    }
    if (replacementAddress !== undefined) process.watchCalls([replacementAddress]);
  };

  const patchPoint = result.run?.patchPoint;
  const signo = request.signal !== undefined ? signalNumber(request.signal) : undefined;
  const applyPatch = (): void => {
    if (signo !== undefined) {
      process.deliverSignal(signo);
      return;
    }
    const trampoline = result.trampoline;
    if (!trampoline) return;
    // What a patcher does: load the replacement, make the page(s) writable, write, restore.
    const opened = process.dlopen(patchPath, RTLD_NOW);
    if ('error' in opened) notes.push(`replay: dlopen failed: ${opened.error}`);
    const page = trampoline.site & ~0xfffn;
    const length = ((trampoline.site + BigInt(trampoline.bytes.length) + 0xfffn) & ~0xfffn) - page;
    process.mprotect(page, length, PROT_RWX);
    process.writeCode(trampoline.site, trampoline.bytes);
    process.mprotect(page, length, PROT_RX);
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

  let stop: ProcessStop | undefined;
  let trace: RecordedTrace | undefined;
  if (patchPoint === undefined) {
    notes.push('no patch point in the verifier\'s result: the timeline shows the unpatched run, without a step trace');
    stop = process.run({ maxInstructions: RUN_BUDGET });
  } else {
    const firstInstruction = Math.max(0, patchPoint - STEPS_BEFORE);
    if (firstInstruction > 0) stop = process.run({ maxInstructions: firstInstruction });
    onProgress(0.3);
    const steps: TraceStep[] = [];
    let applied = false;
    let replacementSeenAt: number | undefined;
    let truncated = true;
    while (stop === undefined || stop.reason === 'budget') {
      if (!applied && process.instructions >= patchPoint) {
        applyPatch();
        applied = true;
        watchReplacement();
      }
      if (applied && replacementAddress === undefined && process.events.some((e) => e.kind === 'dlopen')) watchReplacement();
      steps.push(snapshotStep(process, listingFor));
      const rip = steps[steps.length - 1]!.rip;
      if (replacementSeenAt === undefined && replacementAddress !== undefined && rip === replacementAddress) replacementSeenAt = steps.length;
      const after = steps.length - STEPS_BEFORE;
      if (after >= MAX_STEPS_AFTER || (replacementSeenAt !== undefined && steps.length - replacementSeenAt >= STEPS_AFTER_REPLACEMENT)) break;
      stop = process.run({ maxInstructions: 1 });
      if (stop.reason !== 'budget') truncated = false;
    }
    trace = { steps, listings, firstInstruction, truncated };
    onProgress(0.7);
    if (!applied) applyPatch();
    if (stop === undefined || stop.reason === 'budget') stop = process.run({ maxInstructions: RUN_BUDGET });
  }
  onProgress(0.95);
  const timeline = buildTimeline(process.events, process.output, patchPoint, targetAddress, replacementAddress, stop, describe(process));
  if (trace) attachSteps(timeline, trace.steps);
  return trace ? { timeline, trace, notes } : { timeline, notes };
}

function describe(process: EmulatedProcess): (address: bigint) => string {
  return (address) => process.describe(address);
}

function snapshotStep(process: EmulatedProcess, listingFor: (rip: bigint) => number): TraceStep {
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
  return { at: process.instructions, rip, registers, stack, listing: listingFor(rip) };
}

/** Function symbols of every loaded object at their run-time addresses, plus the libc stub area. */
function functionRanges(process: EmulatedProcess): FunctionRange[] {
  const out: FunctionRange[] = [];
  for (const o of process.objects) {
    if (!o.elf) continue;
    for (const s of [...o.elf.symbols, ...o.elf.dynamicSymbols]) {
      if (s.type !== SymbolType.Func || s.sectionIndex === 0 || s.size === 0n) continue;
      const start = o.base + s.value;
      out.push({ title: `${o.elf.demangledName(s)}  [${o.path.replace(/^\.\//, '')}]`, start, end: start + s.size });
    }
  }
  out.push({ title: 'emulated libc (host stubs)', start: layout.STUB_CODE_BASE, end: layout.STUB_CODE_BASE + BigInt(layout.STUB_CODE_SIZE) });
  return out;
}

function buildTimeline(
  events: readonly ProcessEvent[],
  output: readonly { fd: number; text: string; at: number }[],
  patchPoint: number | undefined,
  target: bigint | undefined,
  replacement: bigint | undefined,
  stop: ProcessStop | undefined,
  where: (address: bigint) => string,
): TimelineEvent[] {
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  const timeline: TimelineEvent[] = [];
  for (const chunk of output) {
    for (const line of chunk.text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)) {
      timeline.push({ kind: 'output', at: chunk.at, text: `${chunk.fd === 2 ? 'stderr' : 'stdout'}: ${line}` });
    }
  }
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
