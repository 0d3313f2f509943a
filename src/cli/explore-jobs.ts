// --jobs N: the exploration spread over N worker threads, one inner shard each, merged into
// the report one thread gives. Node only; the browser and the library run one sweep.

import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { VerifyError } from '../verify/error.js';
import { withExploration } from '../verify/explore/attach.js';
import type { ExploreRequest } from '../verify/explore/explore.js';
import { mergeSubShards, subShard } from '../verify/explore/merge.js';
import type { Exploration, ExploreOptions } from '../verify/explore/types.js';
import type { VerifyInput } from '../verify/input.js';
import type { VerifyResult } from '../verify/result.js';
import type { GuestFile } from './sysroot.js';
import { verifyPatch } from '../verify/verify.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCE ? './explore-worker.ts' : './explore-worker.js', import.meta.url);

/** Run from the TypeScript sources (tests, `npx tsx`), a worker needs tsx's loader registered first. */
function startWorker(workerData: unknown): Worker {
  // Loaded here, not imported: node:worker_threads costs every cold start a few ms, and only --jobs uses it.
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  if (!FROM_SOURCE) return new Worker(WORKER, { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** The system model's file system as a worker rebuilds it (a VFS builder function does not cross threads). */
export interface SystemFiles {
  sysroot: string;
  files: GuestFile[];
}

export interface WorkerRequest {
  request: Omit<ExploreRequest, 'now'>;
  system?: SystemFiles;
}

function exploreInWorker(data: WorkerRequest): Promise<Exploration> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(data);
    worker.once('message', (m: { exploration?: Exploration; error?: { message: string; problem?: string } }) => {
      void worker.terminate();
      if (m.exploration) resolve(m.exploration);
      else if (m.error?.problem) reject(new VerifyError(m.error.problem as ConstructorParameters<typeof VerifyError>[0], m.error.message));
      else reject(new Error(m.error?.message ?? 'exploration worker failed'));
    });
    worker.once('error', reject);
  });
}

/** verifyPatch with --explore, the exploration's points spread over `jobs` threads. */
export async function verifyWithJobs(input: VerifyInput, explore: ExploreOptions, jobs: number, system?: SystemFiles): Promise<VerifyResult> {
  const { explore: _ignored, ...plain } = input;
  const result = await verifyPatch(plain);
  if (result.verdict === 'error') return result;
  const defaultPoint = result.run?.patchPoint;
  if (plain.process?.model === 'system' && !system) throw new VerifyError('bad-option', '--jobs on the system model needs the sysroot and guest files to rebuild the file system in each worker');
  if (typeof plain.engine === 'function') throw new VerifyError('bad-option', '--jobs needs an engine by name (wasm or unicorn)');
  const { process: _process, ...sendable } = plain;
  const parts = await Promise.all(
    Array.from({ length: jobs }, (_, j) => exploreInWorker({
      request: {
        input: sendable,
        options: { ...explore, shard: subShard(explore.shard, j + 1, jobs) },
        ...(defaultPoint !== undefined ? { defaultPoint } : {}),
      },
      ...(plain.process?.model === 'system' && system ? { system: { sysroot: system.sysroot, files: system.files.map((f) => ('symlink' in f ? f : { ...f, bytes: typeof f.bytes === 'function' ? f.bytes() : f.bytes })) } } : {}),
    })),
  );
  return withExploration(input, result, mergeSubShards(parts, explore.shard, jobs));
}
