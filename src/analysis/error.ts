// The one error type of the analysis layer. Analysis turns odd code into data (invalid
// bytes, unbounded jump tables); this is thrown only when the question cannot be asked:
// an address the image does not contain, an image the layer cannot represent.

export type AnalysisProblem =
  | 'address-out-of-range' // an address above 2^53: not a user-space x86-64 address
  | 'not-in-code' // the asked-for function or address is not in an executable section
  | 'bad-argument' // e.g. an overwrite length of 0
  | 'decoder'; // iced-x86 itself failed (caught at the sweep, never leaked as a foreign exception)

export class AnalysisError extends Error {
  override readonly name = 'AnalysisError';
  readonly problem: AnalysisProblem;
  readonly address: bigint | undefined;

  constructor(problem: AnalysisProblem, message: string, address?: bigint) {
    super(message);
    this.problem = problem;
    this.address = address;
  }
}

export { hex } from '../hex.js';
