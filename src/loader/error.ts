// The one error type of the loader layer. It is thrown for problems of the *inputs* or of
// the sandbox's coverage (unsupported relocation, an import with no stub, a path the guest
// may not open); faults of the guest program itself are data (signals, ProcessStop), never this.

export type LoaderProblem =
  | 'bad-input' // the ELF bytes cannot be loaded (not x86-64, no PT_LOAD, ...)
  | 'unsupported-relocation' // a relocation type the loader does not implement
  | 'undefined-symbol' // RTLD_NOW / start-up binding found no definition
  | 'missing-stub' // the guest called an import the sandbox has no stub for
  | 'unsupported' // a feature outside the emulated process's documented scope
  | 'limit' // the guest hit a resource limit (memory, time, output, events)
  | 'state'; // the API was used out of order (e.g. run() after exit)

export class LoaderError extends Error {
  override readonly name = 'LoaderError';
  constructor(
    readonly problem: LoaderProblem,
    message: string,
  ) {
    super(message);
  }
}

export { hex } from '../hex.js';
