// The one place the page calls the verifier (src/verify). It is looked up through a glob so
// the page still builds, and says so plainly, in a tree where the verifier has not landed.

import { GUEST_CWD, TarError, isSysrootPath, vfsFromTar, type Vfs } from '../../../src/loader/system/index.js';
import type { ProcessChoice, VerifyInput } from '../../../src/verify/input.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import type { VerifyRequest } from '../protocol.js';
import { InputError } from './inputs.js';

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
  if (request.argv !== undefined) input.guest = { argv: request.argv };
  if (request.seed !== undefined) input.guest = { ...input.guest, seed: BigInt(request.seed) };
  const model = processChoice(request);
  if (model) input.process = model;
  return verifyPatch(input);
}

/** The request's system model (its sysroot checked for ld.so), or undefined for the stubs model. */
export function processChoice(request: VerifyRequest): ProcessChoice | undefined {
  if (!request.sysroot) return undefined;
  const { name, tar } = request.sysroot;
  checkSysroot(name, sysrootVfs(name, tar));
  return { model: 'system', sysroot: name, vfs: () => sysrootVfs(name, tar) };
}

/**
 * The system model's file system from the tar (a fresh one per run: slices, no copy), with the
 * working directory: only the library directories and /etc/ld.so.cache, as --sysroot shows a
 * directory, so a whole image's tar shows the program no more than its libraries.
 */
export function sysrootVfs(name: string, tar: Uint8Array): Vfs {
  try {
    const vfs = vfsFromTar(tar, undefined, { only: isSysrootPath });
    vfs.mkdirs(GUEST_CWD);
    vfs.mkdirs('/tmp');
    return vfs;
  } catch (error) {
    if (error instanceof TarError) throw new InputError(`sysroot '${name}': ${error.message}`);
    throw error;
  }
}

/** Where x86-64 executables' PT_INTERP points: a sysroot without it cannot start anything. */
const DYNAMIC_LOADER = '/lib64/ld-linux-x86-64.so.2';

function checkSysroot(name: string, vfs: Vfs): void {
  try {
    if (vfs.resolve(DYNAMIC_LOADER, '/').node.kind === 'file') return;
  } catch {
    // reported below
  }
  throw new InputError(`sysroot '${name}' has no ${DYNAMIC_LOADER} (make the tar from the root of an x86-64 image: tar -cf sysroot.tar -C / lib64 lib usr/lib/x86_64-linux-gnu ...)`);
}
