// The one error type of the verify layer: the patch could not be verified (bad input, a
// symbol that is not there, an instruction the emulator cannot run before the patch point,
// the budget spent before it). verifyPatch turns it into verdict 'error'; the CLI into exit 2.

export type VerifyProblem =
  | 'bad-input' // an input file is not a usable ELF file
  | 'symbol-not-found' // the target or the replacement is not defined where it should be
  | 'bad-option' // an option value is malformed (signal name, trampoline template, patch point)
  | 'unsupported' // the emulated process cannot run the program up to the patch point
  | 'budget' // the instruction budget ran out before the patch point
  | 'no-patch-point'; // the program ended before the target ran

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  constructor(
    readonly problem: VerifyProblem,
    message: string,
  ) {
    super(message);
  }
}
