// corpus/thread-pool verified on the system model in Node: the threaded run the page's lane tests draw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import type { ProcessChoice } from '../../src/verify/input.js';
import type { VerifyResult } from '../../src/verify/result.js';
import { verifyPatch } from '../../src/verify/verify.js';
import type { VerifyRequest } from '../../web/src/protocol.js';

const DIR = new URL('../../corpus/thread-pool/', import.meta.url).pathname;

/** The system model on this machine's own libraries, as the CLI's --sysroot / does. */
export function threadPoolProcess(): ProcessChoice {
  return { model: 'system', vfs: () => buildVfs('/', directoryFiles(DIR)) };
}

/**
 * The page's request for the parked pool (the replay in web/src/worker/replay.ts takes it):
 * main's SIGUSR1 handler patches (program-driven), or the tool patches score with fix_score.
 */
export function threadPoolRequest(mode: 'signal' | 'tool' = 'signal'): VerifyRequest {
  return {
    main: readFileSync(join(DIR, 'main-parked')), mainName: 'main-parked', patch: readFileSync(join(DIR, 'patch.so')), patchName: 'patch.so',
    symbol: 'score', trampoline: 'abs-rax', ...(mode === 'signal' ? { signal: 'USR1' } : { replacement: 'fix_score' }),
  };
}

/** The parked pool (main and three named workers), patched by main's SIGUSR1 handler (or by the tool). */
export async function threadPoolResult(mode: 'signal' | 'tool' = 'signal'): Promise<VerifyResult> {
  const r = threadPoolRequest(mode);
  return verifyPatch({
    main: r.main, mainName: r.mainName, patch: r.patch, patchName: r.patchName, symbol: r.symbol, trampoline: 'abs-rax', engine: 'wasm',
    ...(r.signal ? { signal: r.signal } : {}), ...(r.replacement ? { with: r.replacement } : {}),
    process: threadPoolProcess(),
  });
}
