// One --jobs worker: explores its slice of the window (an inner shard) and posts the result.

import { parentPort, workerData } from 'node:worker_threads';
import { explorePatch } from '../verify/explore/explore.js';
import type { WorkerRequest } from './explore-jobs.js';
import { buildVfs } from './sysroot.js';

const { request, system } = workerData as WorkerRequest;
const input = system ? { ...request.input, process: { model: 'system' as const, sysroot: system.sysroot, vfs: () => buildVfs(system.sysroot, system.files) } } : request.input;
explorePatch({ ...request, input }).then(
  (exploration) => parentPort!.postMessage({ exploration }),
  (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? { name: error.name, message: error.message, problem: (error as { problem?: string }).problem } : { message: String(error) } }),
);
