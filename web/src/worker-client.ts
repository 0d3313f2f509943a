// One verification at a time in a dedicated worker; cancelling terminates it and the next
// request starts a fresh one (the emulator's state is never reused across runs).

import type { FunctionEntry, PageToWorker, VerificationView, VerifyRequest, WorkerToPage } from './protocol.js';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

export class VerificationWorker {
  private worker: Worker | undefined;
  private reject: ((error: Error) => void) | undefined;

  verify(request: VerifyRequest, onProgress: (stage: string, fraction: number) => void): Promise<VerificationView> {
    return this.send({ type: 'verify', request }, onProgress).then((m) => {
      if (m.type !== 'done') throw new Error('unexpected answer from the worker');
      return m.view;
    });
  }

  listFunctions(main: Uint8Array, mainName: string): Promise<FunctionEntry[]> {
    return this.send({ type: 'list-functions', main, mainName }, () => {}).then((m) => {
      if (m.type !== 'functions') throw new Error('unexpected answer from the worker');
      return m.functions;
    });
  }

  cancel(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.reject?.(new CancelledError());
    this.reject = undefined;
  }

  private send(message: PageToWorker, onProgress: (stage: string, fraction: number) => void): Promise<WorkerToPage> {
    this.cancel();
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'patchsandbox-verifier' });
    this.worker = worker;
    return new Promise<WorkerToPage>((resolve, reject) => {
      this.reject = reject;
      worker.onmessage = (event: MessageEvent<WorkerToPage>) => {
        const m = event.data;
        if (m.type === 'progress') return onProgress(m.stage, m.fraction);
        this.reject = undefined;
        worker.terminate();
        if (this.worker === worker) this.worker = undefined;
        if (m.type === 'failed') reject(new Error(m.message));
        else resolve(m);
      };
      worker.onerror = (event) => {
        this.reject = undefined;
        reject(new Error(`the verification worker failed: ${event.message || 'could not start it'}`));
      };
      worker.postMessage(message);
    });
  }
}
