// SYMBOL_NOT_EXPORTED: dlsym(RTLD_DEFAULT, sym) returns NULL in the real process because
// main does not have the target in .dynsym (linked without -rdynamic). Tool-driven: the
// tool's patcher looks the old function up that way, so the static fact decides. Program-
// driven: what the program's own dlsym calls returned decides (a handler that reads a fix
// table never asks).

import type { Evidence, Finding } from '../finding.js';
import type { ResolvedFunction } from '../symbols.js';

export interface FailedLookup {
  symbol: string;
  error: string;
  caller: string;
  instruction: number;
}

const HINT = 'link main with -rdynamic (or -Wl,--export-dynamic-symbol=<sym> for just this one), or give the patcher the address another way (a table built into main)';

export function checkTargetExported(target: ResolvedFunction, mainName: string): Finding[] {
  if (target.exported) return [];
  return [{
    code: 'SYMBOL_NOT_EXPORTED',
    severity: 'error',
    message: `${target.demangled} is not in ${mainName}'s dynamic symbol table (.dynsym): dlsym(RTLD_DEFAULT, "${target.name}") returns NULL in the real process, so a patcher that looks it up by name finds nothing`,
    evidence: [{ label: 'found only in', text: `.${target.table} (the static symbol table, invisible to dlsym)` }],
    hint: HINT,
  }];
}

export function checkFailedLookups(target: ResolvedFunction, lookups: readonly FailedLookup[]): Finding[] {
  const relevant = lookups.filter((l) => l.symbol === target.name);
  if (relevant.length === 0) return [];
  const evidence: Evidence[] = relevant.map((l) => ({ label: `dlsym from ${l.caller}`, text: `"${l.symbol}" -> NULL: ${l.error}` }));
  return [{
    code: 'SYMBOL_NOT_EXPORTED',
    severity: 'error',
    message: `the program's patcher looked up ${target.demangled} with dlsym and got NULL: ${target.exported ? 'the lookup used a handle that does not see main' : 'main does not export it (.dynsym)'}`,
    evidence,
    hint: HINT,
  }];
}
