// The verification worker: everything that decodes, assembles or emulates runs here, so the
// page stays responsive and "Cancel" is simply terminating this worker. The handler is set
// before anything heavy loads: iced-x86's module awaits its wasm at evaluation, and a
// message arriving before the handler exists would be lost.

/// <reference lib="webworker" />
import type { PageToWorker, WorkerToPage } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

function post(message: WorkerToPage): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  const session = import('./worker/session.js');
  const work = async (): Promise<WorkerToPage> => {
    const { functionsOf, loadRuntime, verify } = await session;
    if (message.type === 'list-functions') {
      await loadRuntime();
      return { type: 'functions', functions: functionsOf(message.main, message.mainName) };
    }
    return { type: 'done', view: await verify(message.request, post) };
  };
  work().then(post, async (error: unknown) => {
    const { InputError } = await session.catch(() => ({ InputError: undefined }));
    const known = InputError !== undefined && error instanceof InputError;
    const text = error instanceof Error ? error.message : String(error);
    post({ type: 'failed', message: known ? text : `internal error (please report): ${text}` });
  });
};
