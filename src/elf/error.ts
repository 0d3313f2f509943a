// The one error type of the ELF layer. Every malformed, truncated or unsupported input
// ends here, never as a RangeError from a DataView: callers catch one class.

/** What kind of problem the input has; stable so callers can branch on it. */
export type ElfProblem =
  | 'not-elf' // no ELF magic
  | 'unsupported' // valid ELF, but not x86-64 little-endian ELF64
  | 'truncated' // a structure extends past the end of the file
  | 'malformed' // a field holds an impossible value (bad size, index, overlap, ...)
  | 'not-found'; // a look-up asked for something the file does not have

export interface ElfErrorDetails {
  /** Which structure is at fault, e.g. "section header 12 (.dynsym)". */
  where?: string;
  /** File offset of the offending structure or field, when there is one. */
  offset?: number;
}

export class ElfError extends Error {
  override readonly name = 'ElfError';
  readonly problem: ElfProblem;
  readonly where: string | undefined;
  readonly offset: number | undefined;

  constructor(problem: ElfProblem, message: string, details: ElfErrorDetails = {}) {
    super(details.where ? `${details.where}: ${message}` : message);
    this.problem = problem;
    this.where = details.where;
    this.offset = details.offset;
  }
}

export { hex } from '../hex.js';
