// The one place the page calls the verifier (src/verify). It is looked up through a glob so
// the page still builds, and says so plainly, in a tree where the verifier has not landed.

import type { VerifyResult } from '../../../src/verify/result.js';
import type { VerifyRequest } from '../protocol.js';

type VerifyFunction = (input: Record<string, unknown>) => Promise<VerifyResult>;

const modules = import.meta.glob<{ verifyPatch?: VerifyFunction }>('../../../src/verify/verify.ts');

export async function runVerifier(request: VerifyRequest): Promise<VerifyResult> {
  const load = Object.values(modules)[0];
  const verifyPatch = load ? (await load()).verifyPatch : undefined;
  if (!verifyPatch) {
    return { verdict: 'error', findings: [], error: 'this build of the page has no verifier (src/verify/verify.ts is missing)' };
  }
  const input: Record<string, unknown> = {
    main: request.main,
    mainPath: request.mainName,
    patch: request.patch,
    patchPath: request.patchName,
    symbol: request.symbol,
    trampoline: request.trampoline,
    engine: 'wasm',
  };
  if (request.replacement !== undefined) input['replacement'] = request.replacement;
  if (request.signal !== undefined) input['signal'] = request.signal;
  if (request.argv !== undefined) input['argv'] = request.argv;
  return verifyPatch(input);
}
