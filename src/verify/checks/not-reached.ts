// PATCH_NOT_REACHED: the old function ran before the patch point, the replacement never ran
// after it, whatever the cause: the function is inlined where it matters, the patcher
// patched another copy, or it gave up.

import type { Evidence, Finding } from '../finding.js';

export interface ReachInput {
  targetName: string;
  replacementName: string | null;
  targetCallsBefore: number;
  targetCallsAfter: number;
  replacementRuns: number;
  /** Instructions run after the patch. */
  instructionsAfter: number;
  /** What was written, where, when it was not at the target (program-driven). */
  writesElsewhere: Evidence[];
  /** Nothing was written at the target at all. */
  nothingWritten: boolean;
}

export function checkReached(input: ReachInput): Finding[] {
  if (input.targetCallsBefore === 0 || input.replacementRuns > 0) return [];
  const evidence: Evidence[] = [
    { label: `${input.targetName} before the patch`, text: `ran ${input.targetCallsBefore === 1 ? 'at least once' : `${input.targetCallsBefore} times`}` },
    { label: `${input.targetName}'s entry after the patch`, text: `reached ${input.targetCallsAfter} time(s) in ${input.instructionsAfter} instructions` },
    { label: `${input.replacementName ?? 'the replacement'} after the patch`, text: 'never ran' },
    ...input.writesElsewhere,
  ];
  let cause: string;
  let hint: string;
  if (input.nothingWritten && input.writesElsewhere.length > 0) {
    cause = `the program's handler never wrote to the running ${input.targetName}: it wrote its trampoline somewhere else (below)`;
    hint = 'make the patcher find the running copy (link main with -rdynamic; do not build the old sources into patch.so)';
  } else if (input.nothingWritten) {
    cause = `the program's handler never wrote to ${input.targetName}, nor to any other code (it gave up: see the program output)`;
    hint = 'see why the patcher gave up in the program output (a failed dlopen/dlsym?)';
  } else if (input.targetCallsAfter === 0) {
    cause = `nothing reached ${input.targetName}'s entry after the patch: it is probably inlined into its callers, or only reached through another path`;
    hint = `patch the functions ${input.targetName} is inlined into, or rebuild main with __attribute__((noinline)) on functions meant to be hot-patched`;
  } else {
    cause = `${input.targetName}'s entry was reached after the patch but control did not arrive at the replacement`;
    hint = 'check that the trampoline\'s destination is the replacement\'s entry';
  }
  return [{
    code: 'PATCH_NOT_REACHED',
    severity: 'error',
    message: `the patch never took effect: ${input.targetName} ran before the patch point, ${input.replacementName ?? 'the replacement'} never ran after it; ${cause}`,
    evidence,
    hint,
  }];
}
