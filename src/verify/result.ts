// The verifier's answer: everything a report (text, JSON, SARIF, the web page) shows.

import type { Finding, Verdict } from './finding.js';

export interface SymbolSummary {
  /** Name as in the symbol table (mangled for C++). */
  name: string;
  demangled?: string;
  address: bigint;
  size: number;
  /** The input file it comes from, as the user named it. */
  file: string;
}

export interface InstructionLine {
  address: bigint;
  bytes: Uint8Array;
  text: string;
}

export interface TrampolineSummary {
  form: string;
  site: bigint;
  target: bigint;
  bytes: Uint8Array;
  instructions: InstructionLine[];
  /** The original bytes the trampoline overwrites. */
  originalBytes: Uint8Array;
  /** The original instructions touched by the overwrite (the last may be partly overwritten). */
  originalInstructions: InstructionLine[];
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** Instruction count at which the guest wrote it. */
  instruction: number;
}

export interface RunSummary {
  engine: string;
  mode: 'tool-driven' | 'program-driven';
  instructions: number;
  /** Instruction count at which the patch was applied or the signal delivered. */
  patchPoint?: number;
  /** Why the run ended, in words. */
  ended: string;
  output: OutputLine[];
}

export interface VerifyResult {
  verdict: Verdict;
  target?: SymbolSummary;
  replacement?: SymbolSummary;
  trampoline?: TrampolineSummary;
  findings: Finding[];
  run?: RunSummary;
  /** Set when verdict is 'error': why the patch could not be verified. */
  error?: string;
}
