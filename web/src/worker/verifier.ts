// The one place the page calls the verifier (src/verify). It is looked up through a glob so
// the page still builds, and says so plainly, in a tree where the verifier has not landed.

import type { VerifyInput } from '../../../src/verify/input.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import type { VerifyRequest } from '../protocol.js';

type VerifyFunction = (input: VerifyInput) => Promise<VerifyResult>;

const modules = import.meta.glob<{ verifyPatch?: VerifyFunction }>('../../../src/verify/verify.ts');

export async function runVerifier(request: VerifyRequest): Promise<VerifyResult> {
  const load = Object.values(modules)[0];
  const verifyPatch = load ? (await load()).verifyPatch : undefined;
  if (!verifyPatch) {
    return { verdict: 'error', findings: [], error: 'this build of the page has no verifier (src/verify/verify.ts is missing)' };
  }
  // 'wasm' by name: src/engine/index.ts loads UnicornEngine through a specifier bundlers do
  // not follow, so naming the engine pulls nothing Node-only into the page.
  const input: VerifyInput = {
    main: request.main,
    mainName: request.mainName,
    patch: request.patch,
    patchName: request.patchName,
    symbol: request.symbol,
    trampoline: request.trampoline,
    engine: 'wasm',
  };
  if (request.replacement !== undefined) input.with = request.replacement;
  if (request.signal !== undefined) input.signal = request.signal;
  if (request.strategy !== undefined) input.strategy = request.strategy;
  if (request.libraries !== undefined && request.libraries.length > 0) input.libraries = request.libraries;
  if (request.explore) input.explore = { ...request.explore };
  if (request.patchAt !== undefined) input.patchAt = request.patchAt;
  if (request.seed !== undefined) input.guest = { ...input.guest, seed: BigInt(request.seed) };
  return verifyPatch(input);
}
