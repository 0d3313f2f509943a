// The one error type of the asm layer (Keystone assembly, trampoline building). Only
// input the user wrote can cause it (a template Keystone rejects, a malformed address);
// a trampoline that assembles but misbehaves is data on the Trampoline, not an error.

/** Stable reason so callers can branch without parsing messages. */
export type AsmProblem =
  | 'keystone-load' // the Keystone wasm module could not be instantiated
  | 'assembly' // Keystone rejected the text
  | 'template' // a trampoline template is malformed (no {target}, empty, ...)
  | 'address'; // an address outside the 64-bit range

export interface AsmErrorDetails {
  /** The assembly text that was being assembled, after {target} substitution. */
  source?: string;
  /** Address the text was assembled at. */
  address?: bigint;
  /** Keystone's own error number (KS_ERR_*) and message, when Keystone reported one. */
  keystoneErrno?: number;
  keystoneMessage?: string;
}

export class AsmError extends Error {
  override readonly name = 'AsmError';
  readonly problem: AsmProblem;
  readonly source: string | undefined;
  readonly address: bigint | undefined;
  readonly keystoneErrno: number | undefined;
  readonly keystoneMessage: string | undefined;

  constructor(problem: AsmProblem, message: string, details: AsmErrorDetails = {}) {
    super(message);
    this.problem = problem;
    this.source = details.source;
    this.address = details.address;
    this.keystoneErrno = details.keystoneErrno;
    this.keystoneMessage = details.keystoneMessage;
  }
}
