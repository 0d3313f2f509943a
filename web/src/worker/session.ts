// The worker's work: load the decoder/assembler/demangler, verify, and build the page's view.

/// <reference lib="webworker" />
import keystoneWasmUrl from '../../../node_modules/keystone-wasm/dist/keystone.wasm?url';
import { loadIcedWasm } from 'virtual:iced-x86-wasm';
import { Assembler } from '../../../src/asm/keystone.js';
import { ElfType, initDemangler } from '../../../src/elf/index.js';
import { PIE_BASE } from '../../../src/loader/layout.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import type { FunctionEntry, PatchSiteView, TimelineEvent, VerificationView, VerifyRequest, WorkerToPage } from '../protocol.js';
import { eventsOnLanes, threadLanes } from '../lanes.js';
import { InputError, listFunctions, parseElf } from './inputs.js';
import { buildPatchSiteView } from './patch-site.js';
import { replay } from './replay.js';
import { processChoice, runVerifier } from './verifier.js';

let ready: Promise<void> | undefined;
/** iced's and Keystone's wasm are served as assets next to the bundle; the demangler's is embedded. */
export function loadRuntime(): Promise<void> {
  ready ??= (async () => {
    const bytes = new Uint8Array(await (await fetch(keystoneWasmUrl)).arrayBuffer());
    await Promise.all([loadIcedWasm(), Assembler.load({ wasmBinary: bytes }), initDemangler()]);
  })();
  return ready;
}

export async function verify(request: VerifyRequest, post: (message: WorkerToPage) => void): Promise<VerificationView> {
  const started = performance.now();
  post({ type: 'progress', stage: 'loading the decoder, assembler and emulator', fraction: 0.02 });
  await loadRuntime();
  post({ type: 'progress', stage: 'verifying the patch in the emulated process', fraction: 0.1 });
  // Bad input is the verifier's to report: the page then shows the CLI's own words.
  const result = await runVerifier(request);
  const view: VerificationView = { result, timeline: [], notes: [], elapsedMs: 0 };
  if (request.strategy !== undefined) {
    // GOT and vtable patches write slots, not code: the page draws the slots (from the result)
    // and shows the verifier's own run; the replay that records a trace patches prologues only.
    view.timeline = verifierTimeline(result);
    if (result.run) view.notes.push('no instruction trace for a GOT or vtable patch: the timeline is the verifier\'s own run');
  } else if (result.verdict !== 'error' || result.run) {
    const site = patchSite(request, result, view.notes);
    if (site) view.site = site;
    post({ type: 'progress', stage: 'replaying the run to record the trace', fraction: 0.55 });
    try {
      const replayed = await replay(request, result, (f) => post({ type: 'progress', stage: 'replaying the run to record the trace', fraction: 0.55 + f * 0.45 }), processChoice(request));
      view.replay = replayed.check;
      view.notes.push(...replayed.notes);
      if (replayed.check.differences.length === 0) {
        view.timeline = replayed.timeline;
        if (replayed.trace) view.trace = replayed.trace;
      } else {
        // A trace of some other run would be evidence for nothing: the page shows the
        // verifier's own output instead, and says why there is no trace.
        view.timeline = verifierTimeline(result);
      }
    } catch (error) {
      view.notes.push(`replay: ${(error as Error).message}`);
    }
  }
  // A threaded run (system model): one lane per thread, each event on the lane of the thread that ran then.
  const threads = result.run?.process?.threads;
  const lanes = threadLanes(threads, result.run?.instructions ?? 0);
  if (lanes) {
    view.lanes = lanes;
    view.timeline = eventsOnLanes(view.timeline, threads);
  }
  view.elapsedMs = performance.now() - started;
  return view;
}

/** The target's listing before and after the overwrite (both models map main at the same base). */
function patchSite(request: VerifyRequest, result: VerifyResult, notes: string[]): PatchSiteView | undefined {
  const main = parseElf(request.main, request.mainName, 'main');
  const base = main.header.type === ElfType.Executable ? 0n : PIE_BASE;
  try {
    if (result.target) return buildPatchSiteView(main, base, result.target.name, overwriteLength(result, request));
  } catch (error) {
    notes.push(`patch site: ${(error as Error).message}`);
  }
  return undefined;
}

/** Trampoline lengths by form, for a patch site whose trampoline could not be built (rel32 out of range). */
const FORM_LENGTH: Record<string, number> = { 'abs-rax': 12, rel32: 5, 'abs-indirect': 14 };

function overwriteLength(result: VerifyResult, request: VerifyRequest): number {
  const built = result.trampoline?.bytes.length ?? 0;
  if (built > 0) return built;
  return typeof request.trampoline === 'string' ? FORM_LENGTH[request.trampoline] ?? 12 : 12;
}

/** The verifier's own run as a timeline: its output lines, the patch point and the end. */
function verifierTimeline(result: VerifyResult): TimelineEvent[] {
  const run = result.run;
  if (!run) return [];
  const events: TimelineEvent[] = run.output.map((l) => ({ kind: 'output', at: l.instruction, text: `${l.stream}: ${l.text}` }));
  if (run.patchPoint !== undefined) events.push({ kind: 'patch-point', at: run.patchPoint, text: `patch point: ${run.patchPointDescription ?? `after ${run.patchPoint} instructions`}` });
  events.push({ kind: 'exit', at: run.instructions, text: run.endReason ?? run.ended });
  return events.sort((a, b) => a.at - b.at);
}

export function functionsOf(main: Uint8Array, mainName: string): FunctionEntry[] {
  return listFunctions(parseElf(main, mainName, 'main'));
}

export { InputError };
