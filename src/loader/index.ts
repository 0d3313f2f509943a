// Public surface of the loader layer: the emulated process and what it records.
export { EmulatedProcess, CALLER_SAVED_POISON, XMM_POISON, xmmPoison, type Poisoning, type ProcessOptions, type RunOptions, type ProcessStop, type FaultReport, type ProcessSnapshot } from './process.js';
export type { ProcessEvent, OutputChunk } from './events.js';
export type { RelocationBinding, BoundDefinition } from './dynamic/bindings.js';
export { RTLD_LAZY, RTLD_NOW, RTLD_GLOBAL, RTLD_DEFAULT, RTLD_NEXT, EMULATED_LIBRARIES } from './dynamic/linker.js';
export { LoaderError, type LoaderProblem } from './error.js';
export { COVERED_IMPORTS } from './stubs/index.js';
export { signalNumber, SIGNAL_NAMES } from './kernel/signals.js';
export { formatPrintf } from './printf.js';
export * as layout from './layout.js';
export type { GuestProcess, GuestObject } from './guest-process.js';
