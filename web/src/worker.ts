// The verification worker: everything that decodes, assembles or emulates runs here, so the
// page stays responsive and "Cancel" is simply terminating this worker.

/// <reference lib="webworker" />
import keystoneWasmUrl from '../../node_modules/keystone-wasm/dist/keystone.wasm?url';
import { Assembler } from '../../src/asm/keystone.js';
import { ElfType, initDemangler } from '../../src/elf/index.js';
import { PIE_BASE } from '../../src/loader/layout.js';
import type { PageToWorker, VerificationView, VerifyRequest, WorkerToPage } from './protocol.js';
import { InputError, listFunctions, parseElf } from './worker/inputs.js';
import { buildPatchSiteView } from './worker/patch-site.js';
import { replay } from './worker/replay.js';
import { runVerifier } from './worker/verifier.js';

declare const self: DedicatedWorkerGlobalScope;

let ready: Promise<void> | undefined;
/** Keystone's wasm is served as an asset next to the bundle; the demangler's is embedded. */
function loadRuntime(): Promise<void> {
  ready ??= (async () => {
    const bytes = new Uint8Array(await (await fetch(keystoneWasmUrl)).arrayBuffer());
    await Promise.all([Assembler.load({ wasmBinary: bytes }), initDemangler()]);
  })();
  return ready;
}

function post(message: WorkerToPage): void {
  self.postMessage(message);
}

async function verify(request: VerifyRequest): Promise<VerificationView> {
  const started = performance.now();
  post({ type: 'progress', stage: 'loading the decoder, assembler and emulator', fraction: 0.02 });
  await loadRuntime();
  post({ type: 'progress', stage: 'reading the ELF files', fraction: 0.05 });
  const main = parseElf(request.main, request.mainName, 'main');
  parseElf(request.patch, request.patchName, 'patch.so');
  post({ type: 'progress', stage: 'verifying the patch in the emulated process', fraction: 0.1 });
  const result = await runVerifier(request);
  const view: VerificationView = { result, timeline: [], notes: [], elapsedMs: 0 };
  if (result.verdict !== 'error' || result.run) {
    const base = main.header.type === ElfType.Executable ? 0n : PIE_BASE;
    try {
      if (result.target) view.site = buildPatchSiteView(main, base, result.target.name, result.trampoline?.bytes.length ?? 12);
    } catch (error) {
      view.notes.push(`patch site: ${(error as Error).message}`);
    }
    post({ type: 'progress', stage: 'replaying the run to record the trace', fraction: 0.55 });
    try {
      const replayed = await replay(request, result, (f) => post({ type: 'progress', stage: 'replaying the run to record the trace', fraction: 0.55 + f * 0.45 }));
      view.timeline = replayed.timeline;
      if (replayed.trace) view.trace = replayed.trace;
      view.notes.push(...replayed.notes);
    } catch (error) {
      view.notes.push(`replay: ${(error as Error).message}`);
    }
  }
  view.elapsedMs = performance.now() - started;
  return view;
}

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  const work = async (): Promise<WorkerToPage> => {
    if (message.type === 'list-functions') {
      await loadRuntime();
      return { type: 'functions', functions: listFunctions(parseElf(message.main, message.mainName, 'main')) };
    }
    return { type: 'done', view: await verify(message.request) };
  };
  work().then(post, (error: unknown) => {
    const known = error instanceof InputError;
    const text = error instanceof Error ? error.message : String(error);
    post({ type: 'failed', message: known ? text : `internal error (please report): ${text}` });
  });
};
