// GNU indirect functions: the symbol's value is a resolver, and ld.so binds every reference, and
// dlsym, to what the resolver returns. Patching the resolver's bytes would change nothing a
// caller runs, so the tool asks the resolver in the emulated process which implementation it
// selects here and refuses, naming that implementation for the user to patch instead.

import { SymbolType } from '../elf/index.js';
import type { GuestProcess } from '../loader/index.js';
import { VerifyError } from './error.js';
import type { ResolvedFunction } from './symbols.js';
import { hex } from '../hex.js';

const RESOLVER_BUDGET = 1_000_000;

/** Throws VerifyError when `fn` is an ifunc, saying which implementation it resolves to in this process. */
export function refuseIfunc(process: GuestProcess, fn: ResolvedFunction, runtimeAddress: bigint, role: 'target' | 'replacement', file: string): void {
  if (fn.symbol.type !== SymbolType.GnuIfunc) return;
  let selected: string;
  try {
    const implementation = process.callFunction(runtimeAddress, [0n], RESOLVER_BUDGET);
    selected = `${process.describe(implementation)} at ${hex(implementation)}`;
  } catch (e) {
    selected = `an implementation the sandbox could not determine (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
  const option = role === 'target' ? 'give that implementation as <sym>' : 'give that implementation with --with';
  throw new VerifyError(
    'bad-input',
    `the ${role} ${fn.demangled} in '${file}' is a GNU indirect function (STT_GNU_IFUNC): callers and dlsym get what its resolver selects, in this process ${selected}; patching the resolver would change nothing they run: ${option}`,
  );
}
