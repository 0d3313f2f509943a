// What both process models say when a signal ends the process: the stop and, for a
// synchronous fault, the report of the faulting instruction (signal, access, mapping, bytes).

import { hex } from './error.js';
import { permText, type Mapping } from './kernel/address-space.js';
import { SIGNAL_NAMES, terminatedDetail, type SignalInfo } from './kernel/signals.js';
import type { FaultReport, ProcessStop } from './process.js';

/** What the process knows at the fault; the model supplies how it names places and unwinds. */
export interface FaultContext {
  info: SignalInfo;
  rip: bigint;
  /** The faulting instruction's bytes (empty when unreadable). */
  bytes: Uint8Array;
  access?: 'read' | 'write' | 'fetch';
  kind?: 'unmapped' | 'protection';
  /** The mapping holding the faulting address, if any. */
  mapping?: Mapping;
  describe: (address: bigint) => string;
  backtrace: { address: bigint; location: string }[];
  registers?: Record<string, bigint>;
  /** Appended to the message (e.g. which stub poisoned the register). */
  hint?: string;
}

export function faultReportOf(c: FaultContext): FaultReport {
  const { info, rip } = c;
  const where = c.mapping ? `${c.mapping.name} ${permText(c.mapping.perms)}` : 'unmapped';
  const signal = SIGNAL_NAMES[info.signo] ?? `signal ${info.signo}`;
  const what = c.access ? `${c.access} of ${hex(info.address ?? 0n)} (${where})` : `at ${hex(info.address ?? rip)}`;
  return {
    signo: info.signo,
    signal,
    address: info.address ?? rip,
    rip,
    instructionBytes: c.bytes,
    location: c.describe(rip),
    backtrace: c.backtrace,
    ...(c.registers ? { registers: c.registers } : {}),
    message: `${signal}: ${what} by the instruction at ${c.describe(rip)}${c.hint ?? ''}`,
    ...(c.mapping ? { mapping: where } : {}),
    ...(c.access ? { access: c.access } : {}),
    ...(c.kind ? { kind: c.kind } : {}),
  };
}

/** The stop of a process a signal's default action ended; `report` for a synchronous fault. */
export function killedStop(signo: number, instructions: number, report?: FaultReport): ProcessStop {
  return {
    reason: 'killed', signo, instructions,
    detail: report ? report.message : terminatedDetail(signo),
    ...(report ? { fault: report } : {}),
  };
}

/** Reads the instruction bytes at a fault, or none when the page cannot be read. */
export function faultBytes(read: () => Uint8Array): Uint8Array {
  try {
    return read();
  } catch {
    return new Uint8Array(0);
  }
}
