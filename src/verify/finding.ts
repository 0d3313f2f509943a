// Findings: what the checks report, with the evidence a user needs to act on them.
// The codes are a stable contract (shared/design.md): tests and users' CI key on them.

import type { SourceLine } from '../elf/dwarf-line.js';

export const FINDING_CODES = {
  TRAMPOLINE_OVERRUNS_FUNCTION: 'the overwrite is longer than the function',
  BRANCH_INTO_PATCHED_BYTES: 'a branch or jump-table target lies inside the overwritten bytes (not at the start)',
  RETURN_ADDRESS_IN_PATCHED_BYTES: 'a call inside the overwritten bytes leaves a return address there',
  LIVE_INSTRUCTION_CLOBBERED:
    'an overwritten byte other than the entry was executed after the patch, or the patch point interrupted execution inside them',
  STACK_IMBALANCE: "rsp at the replacement's entry or after return differs from what the caller set up",
  REGISTER_CLOBBERED: 'an argument or callee-saved register changed across the trampoline',
  WRITE_FAULT: 'the patch write hit a page that is not writable',
  PATCH_BINDS_OWN_COPY: "a relocation in patch.so binds to patch.so's own copy of a symbol the executable defines",
  SYMBOL_NOT_EXPORTED: 'dlsym(RTLD_DEFAULT, sym) would return NULL in the real process',
  PATCH_NOT_REACHED: 'after the patch the replacement never ran although the old function had run before',
  REL32_OUT_OF_RANGE: 'the rel32 form cannot reach the replacement',
  CRASH_AFTER_PATCH: 'the patched run dies (signal, fault, abort, nonzero exit) where the unpatched baseline from the same point does not',
  CALLER_ASSUMES_PRESERVED_REGISTER:
    'a caller keeps a caller-saved register live across the call (gcc -fipa-ra) and the replacement may clobber it',
  OLD_FUNCTION_STILL_CALLED: 'after a GOT or vtable patch the old function still ran (direct call, old pointer, unpatched slot, devirtualised call)',
  WRITE_OUTSIDE_PATCH_TARGET: 'the patcher wrote outside what it set out to patch (past a vtable, beyond a GOT slot, past the bytes)',
  OBJECT_NOT_CONVERTED: 'a new-module method ran on an object the converter had not converted, or it converted one twice',
  TORN_WRITE: 'another thread fetched an instruction overlapping the patched bytes while the patcher was writing them (half old, half new)',
  // Informational codes (never errors): facts about the site a reviewer may want to know.
  PARTIAL_INSTRUCTION_OVERWRITTEN: 'the trampoline ends inside an instruction; its tail stays behind as garbage bytes',
  ENTRY_ENDBR64: 'the target starts with endbr64 (CET/IBT build): what that means for the trampoline and the replacement',
  RIP_RELATIVE_IN_PATCHED_BYTES: 'rip-relative instructions in the overwritten bytes (matters only to a patcher that relocates them)',
} as const;

export type FindingCode = keyof typeof FINDING_CODES;
export type Severity = 'error' | 'warning' | 'info';
export type Verdict = 'safe' | 'unsafe' | 'error';

/** One piece of evidence: an instruction, a byte range, a relocation, a call: what was seen and where. */
export interface Evidence {
  label: string;
  address?: bigint;
  /** Symbol+offset form of the address, e.g. `main_loop+0x1c`. */
  location?: string;
  bytes?: Uint8Array;
  /** Disassembly or other one-line text. */
  text?: string;
  /** The source line of `address`, when the file it lies in has DWARF line info (-g). */
  source?: SourceLine;
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** One sentence: what is wrong, in the user's terms. */
  message: string;
  /** The address the finding is about (in the emulated layout), when there is one. */
  address?: bigint;
  evidence: Evidence[];
  /** What to do instead. */
  hint?: string;
  /** The source line of `address`, when the file it lies in has DWARF line info (-g). */
  source?: SourceLine;
}

export function isFindingCode(code: string): code is FindingCode {
  return Object.prototype.hasOwnProperty.call(FINDING_CODES, code);
}

/** unsafe as soon as one error finding exists; warnings and infos leave the patch safe. */
export function verdictOf(findings: readonly Finding[]): Exclude<Verdict, 'error'> {
  return findings.some((f) => f.severity === 'error') ? 'unsafe' : 'safe';
}

export const EXIT_CODES: Record<Verdict, number> = { safe: 0, unsafe: 1, error: 2 };

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then infos; within a severity by address, then code. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      compareOptionalBigint(a.address, b.address) ||
      compareCodes(a.code, b.code),
  );
}

/**
 * The order localeCompare gives codes ([A-Z0-9_]: '_' before digits before letters) without
 * its cost: the first localeCompare of a process loads ICU's collator, ~30 ms of a cold start.
 */
function compareCodes(a: string, b: string): number {
  const x = a.replaceAll('_', ' ');
  const y = b.replaceAll('_', ' ');
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareOptionalBigint(a: bigint | undefined, b: bigint | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}
