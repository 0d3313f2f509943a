// What the calling convention of the replaced call depends on, and where the replacement
// lies at run time: shared by both patchers.

import type { GuestProcess } from '../../loader/index.js';
import type { CodeMap } from '../../analysis/index.js';
import type { CalleeFacts } from '../checks/register-preservation.js';
import type { ReplacementChoice } from '../replacement.js';
import type { ResolvedFunction } from '../symbols.js';
import { isVariadicFunction } from '../variadic.js';

/** Prologue bytes read to recognise a variadic function. */
const PROLOGUE_BYTES = 128;

/** Variadic when either side says so. */
export function calleeFacts(codeMap: CodeMap, target: ResolvedFunction, process: GuestProcess, replacement: bigint | null, replacementName: string): CalleeFacts {
  const targetCode = codeMap.bytesAt(target.address, Math.min(target.size || PROLOGUE_BYTES, PROLOGUE_BYTES));
  if (isVariadicFunction(target.demangled, targetCode, target.address)) return { variadic: true };
  if (replacement === null) return { variadic: false };
  let replacementCode: Uint8Array | null;
  try {
    replacementCode = process.engine.readMemory(replacement, PROLOGUE_BYTES);
  } catch {
    replacementCode = null;
  }
  return { variadic: isVariadicFunction(replacementName, replacementCode, replacement) };
}

export function replacementRuntimeAddress(process: GuestProcess, patchBase: bigint, choice: ReplacementChoice): bigint {
  if (choice.how === 'fix-table' && choice.fixTable) {
    // What the table holds after relocation is what a patcher reading it would use.
    return process.mem.u64(patchBase + choice.fixTable.address);
  }
  return patchBase + choice.fn.address;
}
