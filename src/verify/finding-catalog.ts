// Every finding code in one table: the severities it can carry and its one-line meaning.
// Exported by the package (FINDING_CATALOG) for tools that key on codes; the README's table
// is checked against it.

import { FINDING_CODES, type FindingCode, type Severity } from './finding.js';

export interface FindingCodeInfo {
  /** The severities a finding with this code can have: an 'info' code never changes the verdict. */
  severities: readonly Severity[];
  /** One line: what the code means (stable; the codes may grow, their meaning does not change). */
  meaning: string;
}

const SEVERITIES: Record<FindingCode, readonly Severity[]> = {
  TRAMPOLINE_OVERRUNS_FUNCTION: ['error', 'warning'],
  BRANCH_INTO_PATCHED_BYTES: ['error'],
  RETURN_ADDRESS_IN_PATCHED_BYTES: ['error'],
  LIVE_INSTRUCTION_CLOBBERED: ['error'],
  STACK_IMBALANCE: ['error'],
  REGISTER_CLOBBERED: ['error'],
  WRITE_FAULT: ['error'],
  PATCH_BINDS_OWN_COPY: ['error', 'warning'],
  SYMBOL_NOT_EXPORTED: ['error'],
  PATCH_NOT_REACHED: ['error'],
  REL32_OUT_OF_RANGE: ['error'],
  CRASH_AFTER_PATCH: ['error'],
  CALLER_ASSUMES_PRESERVED_REGISTER: ['error'],
  OLD_FUNCTION_STILL_CALLED: ['error', 'info'],
  WRITE_OUTSIDE_PATCH_TARGET: ['error'],
  OBJECT_NOT_CONVERTED: ['error'],
  TORN_WRITE: ['error'],
  PARTIAL_INSTRUCTION_OVERWRITTEN: ['info'],
  ENTRY_ENDBR64: ['info'],
  RIP_RELATIVE_IN_PATCHED_BYTES: ['info'],
};

export const FINDING_CATALOG: Readonly<Record<FindingCode, FindingCodeInfo>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(FINDING_CODES) as FindingCode[]).map((code) => [code, Object.freeze({ severities: SEVERITIES[code], meaning: FINDING_CODES[code] })]),
  ) as Record<FindingCode, FindingCodeInfo>,
);
