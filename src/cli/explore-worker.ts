// One --jobs worker: explores its slice of the window (an inner shard) and posts the result.

import { parentPort, workerData } from 'node:worker_threads';
import { explorePatch, type ExploreRequest } from '../verify/explore/explore.js';

const request = workerData as Omit<ExploreRequest, 'now'>;
explorePatch(request).then(
  (exploration) => parentPort!.postMessage({ exploration }),
  (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? { name: error.name, message: error.message, problem: (error as { problem?: string }).problem } : { message: String(error) } }),
);
