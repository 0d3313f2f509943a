// corpus/thread-pool verified on the system model in Node: the threaded run the page's lane tests draw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import type { VerifyResult } from '../../src/verify/result.js';
import { verifyPatch } from '../../src/verify/verify.js';

const DIR = new URL('../../corpus/thread-pool/', import.meta.url).pathname;

/** The parked pool (main and three named workers), patched by main's SIGUSR1 handler. */
export async function threadPoolResult(): Promise<VerifyResult> {
  return verifyPatch({
    main: readFileSync(join(DIR, 'main-parked')), mainName: 'main-parked', patch: readFileSync(join(DIR, 'patch.so')), patchName: 'patch.so',
    symbol: 'score', signal: 'USR1', trampoline: 'abs-rax', engine: 'wasm',
    process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(DIR)) },
  });
}
