// Program-driven patching: deliver the signal at the patch point and let main's own handler
// do what it does in production. Everything it maps, protects and writes is recorded by the
// emulated process; this collects what matters for the verdict.

import type { GuestProcess, ProcessEvent, ProcessStop } from '../../loader/index.js';
import { VerifyError } from '../error.js';
import { setPhase } from './progress.js';

type EventOf<K extends ProcessEvent['kind']> = Extract<ProcessEvent, { kind: K }>;

export interface HandlerRun {
  signal: number;
  /** How the handler phase ended: returned (sigreturn pending) or the process stopped. */
  stop: ProcessStop | null;
  codeWrites: EventOf<'code-write'>[];
  mprotects: EventOf<'mprotect'>[];
  dlopens: EventOf<'dlopen'>[];
  dlsyms: EventOf<'dlsym'>[];
  /** Signals delivered while the handler ran (a SIGSEGV from its write, to a handler of its own). */
  nestedSignals: EventOf<'signal-delivered'>[];
}

function ofKind<K extends ProcessEvent['kind']>(events: readonly ProcessEvent[], kind: K): EventOf<K>[] {
  return events.filter((e): e is EventOf<K> => e.kind === kind);
}

/** Called when the run paused for a watcher (write-race.ts: the handler's first store into the target): the world is as it was then. */
export interface HandlerPause {
  pending(): boolean;
  paused(): void;
}

export function runSignalHandler(process: GuestProcess, signo: number, signalName: string, budget: number, pause?: HandlerPause): HandlerRun {
  const first = process.events.length;
  setPhase(process.engine, 'running the signal handler');
  process.deliverSignal(signo);
  const delivered = process.events.slice(first).find((e): e is EventOf<'signal-delivered'> => e.kind === 'signal-delivered' && e.signo === signo);
  if (!delivered) {
    const ended = process.exited;
    const what = ended ? 'its default action ended the process' : 'it is ignored';
    throw new VerifyError('no-patch-point', `main has no handler for ${signalName} at the patch point (${what}): program-driven mode needs main to install one before that point; try a later --patch-at, or verify tool-driven (without --signal)`);
  }
  // The handler returns to the restorer (sa_restorer, glibc's __restore_rt): stop there,
  // before its rt_sigreturn, so the patch is complete and the interrupted code not resumed.
  const restorer = process.mem.u64(process.engine.readRegister('rsp'));
  let stop: ProcessStop;
  for (;;) {
    const left = budget - process.instructions;
    stop = left > 0 ? process.run({ maxInstructions: left, stopAtCallOf: [restorer] }) : { reason: 'budget', instructions: process.instructions };
    if (stop.reason !== 'budget' || !pause?.pending()) break;
    pause.paused();
  }
  const returned = stop.reason === 'call' && stop.address === restorer;
  const events = process.events.slice(first);
  return {
    signal: signo,
    stop: returned ? null : stop,
    codeWrites: ofKind(events, 'code-write'),
    mprotects: ofKind(events, 'mprotect'),
    dlopens: ofKind(events, 'dlopen'),
    dlsyms: ofKind(events, 'dlsym'),
    nestedSignals: ofKind(events, 'signal-delivered').filter((e) => e !== delivered),
  };
}

/** The bytes written at [site, ...): the contiguous run of written bytes that starts at site. */
export function bytesWrittenAt(writes: readonly EventOf<'code-write'>[], site: bigint): Uint8Array {
  const byAddress = new Map<bigint, number>();
  for (const w of writes) w.bytes.forEach((b, i) => byAddress.set(w.address + BigInt(i), b));
  const out: number[] = [];
  for (let a = site; byAddress.has(a); a++) out.push(byAddress.get(a)!);
  return Uint8Array.from(out);
}

/** Written byte ranges, merged, in address order. */
export function writtenRanges(writes: readonly EventOf<'code-write'>[]): { start: bigint; end: bigint }[] {
  const ranges = writes.map((w) => ({ start: w.address, end: w.address + BigInt(w.bytes.length) })).sort((a, b) => (a.start < b.start ? -1 : 1));
  const merged: { start: bigint; end: bigint }[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = r.end > last.end ? r.end : last.end;
    else merged.push({ ...r });
  }
  return merged;
}
