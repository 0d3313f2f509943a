// What the program is doing at one boundary, read from the stopped process: whether the
// interrupted instruction or a word on the stack lies inside the patched bytes (the hazards of
// checkLiveAtPatchPoint, answered without building its evidence), and for reports, where it
// is and the chain of calls that led there.

import type { GuestProcess } from '../../loader/index.js';
import { SystemProcess, viewThreads } from '../../loader/system/index.js';
import { layout } from '../../loader/index.js';
import type { OverwrittenBytes } from '../checks/live-clobber.js';

/** As the patch point's stack scan (dynamic/patch-point.ts). */
const STACK_SCAN_BYTES = 64n * 1024n;
const MAX_CHAIN = 8;

/**
 * Where a frame would resume inside the bytes: 'rip' (the interrupted instruction), 'frame' (a
 * word on the stack: a pending call made from inside them), or 'none'. Inside means past the
 * entry: a frame resuming at the entry itself runs the trampoline as intended.
 */
export function liveInside(process: GuestProcess, range: OverwrittenBytes): LiveHazard {
  if (range.length <= 1) return 'none';
  const lo = range.site + 1n;
  const hi = range.site + BigInt(range.length) - 1n;
  if (threaded(process)) {
    // The world stopped: every thread's instruction and stack, as the patcher's check sees them.
    let hazard: LiveHazard = 'none';
    for (const t of viewThreads(process)) {
      if (t.rip >= lo && t.rip <= hi) return 'rip';
      if (t.stackWords.some((w) => w.value >= lo && w.value <= hi)) hazard = 'frame';
    }
    return hazard;
  }
  const rip = process.engine.readRegister('rip');
  if (rip >= lo && rip <= hi) return 'rip';
  return stackWordInside(process, lo, hi) ? 'frame' : 'none';
}

export type LiveHazard = 'rip' | 'frame' | 'none';

/** A system-model process with more than one live thread. */
export function threaded(process: GuestProcess): process is SystemProcess {
  return process instanceof SystemProcess && process.threads.threads.filter((t) => t.state !== 'exited').length > 1;
}

function stackWordInside(process: GuestProcess, lo: bigint, hi: bigint): boolean {
  const rsp = process.engine.readRegister('rsp');
  const top = layout.STACK_TOP;
  const end = rsp + STACK_SCAN_BYTES < top ? rsp + STACK_SCAN_BYTES : top;
  if (rsp >= end) return false;
  const bytes = process.engine.readMemory(rsp, Number(end - rsp));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const loHigh = Number(lo >> 32n);
  const hiHigh = Number(hi >> 32n);
  if (loHigh === hiHigh) {
    // Compare 32-bit halves: no BigInt per word.
    const loLow = Number(lo & 0xffffffffn);
    const hiLow = Number(hi & 0xffffffffn);
    for (let i = 0; i + 8 <= bytes.length; i += 8) {
      if (view.getUint32(i + 4, true) !== loHigh) continue;
      const low = view.getUint32(i, true);
      if (low >= loLow && low <= hiLow) return true;
    }
    return false;
  }
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const w = view.getBigUint64(i, true);
    if (w >= lo && w <= hi) return true;
  }
  return false;
}

/** Length of the call instruction that ends at `returnAddress` (in code mapped from `codeBegin`), or 0 when none does. */
function callEndingAt(process: GuestProcess, returnAddress: bigint, codeBegin: bigint): number {
  // The bytes before the mapping are not read (a failed read costs an exception): they read as 0.
  const b = new Uint8Array(7);
  const start = returnAddress - 7n < codeBegin ? codeBegin : returnAddress - 7n;
  if (returnAddress > start) b.set(process.engine.readMemory(start, Number(returnAddress - start)), 7 - Number(returnAddress - start));
  if (b[2] === 0xe8) return 5; // call rel32
  if (b[1] === 0xff && b[2] === 0x15) return 6; // call [rip+disp32]
  if (b[5] === 0xff && (b[6]! & 0xf8) === 0xd0) return 2; // call reg
  if (b[4] === 0x41 && b[5] === 0xff && (b[6]! & 0xf8) === 0xd0) return 3; // call r8-r15
  return 0;
}

export interface MomentContext {
  where: string;
  callChain: string[];
  doing: string;
}

/** What a report needs of one boundary, copied while the process stands there: rip and the stack words above rsp. */
export interface Moment {
  rip: bigint;
  rsp: bigint;
  stack: Uint8Array;
  /** With threads: which one (the one a patch here would hurt). */
  thread?: string;
}

export function captureMoment(process: GuestProcess, range?: OverwrittenBytes): Moment {
  if (range && range.length > 1 && threaded(process)) {
    // The thread a patch here would hurt (else the running one), with its stack.
    const lo = range.site + 1n;
    const hi = range.site + BigInt(range.length) - 1n;
    const views = viewThreads(process);
    const t = views.find((v) => v.rip >= lo && v.rip <= hi) ?? views.find((v) => v.stackWords.some((w) => w.value >= lo && w.value <= hi)) ?? views.find((v) => v.running)!;
    const stack = new Uint8Array(t.stackWords.length * 8);
    const view = new DataView(stack.buffer);
    t.stackWords.forEach((w, i) => view.setBigUint64(i * 8, w.value, true));
    return { rip: t.rip, rsp: t.rsp, stack, ...(views.length > 1 ? { thread: `thread ${t.tid}${t.name ? ` (${t.name})` : ''}` } : {}) };
  }
  const rip = process.engine.readRegister('rip');
  const rsp = process.engine.readRegister('rsp');
  const top = layout.STACK_TOP;
  const end = rsp + STACK_SCAN_BYTES < top ? rsp + STACK_SCAN_BYTES : top;
  return { rip, rsp, stack: rsp < end ? process.engine.readMemory(rsp, Number(end - rsp)) : new Uint8Array(0) };
}

/** The interrupted instruction and the calls on the stack (words just past a call instruction in mapped code), innermost first. */
export function momentContext(process: GuestProcess, range: OverwrittenBytes, moment: Moment = captureMoment(process, range)): MomentContext {
  const { rip } = moment;
  const chain: string[] = [];
  let pendingFromInside: bigint | null = null;
  {
    const bytes = moment.stack;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const code = process.engine.regions().filter((r) => (r.perms & 4) !== 0);
    // The high halves code addresses can have: most words (zeros, counters, stack addresses) fail
    // this without a BigInt.
    const highs = code.map((r) => [Number(r.begin >> 32n), Number((r.end - 1n) >> 32n)] as const);
    for (let i = 0; i + 8 <= bytes.length && chain.length < MAX_CHAIN; i += 8) {
      const high = view.getUint32(i + 4, true);
      if (!highs.some(([lo, hi]) => high >= lo && high <= hi)) continue;
      const w = view.getBigUint64(i, true);
      const region = code.find((r) => w >= r.begin && w < r.end);
      if (!region) continue;
      const length = callEndingAt(process, w, region.begin);
      if (length === 0) continue;
      chain.push(process.describe(w - BigInt(length)));
      if (pendingFromInside === null && w > range.site && w < range.site + BigInt(range.length)) pendingFromInside = w - BigInt(length);
    }
  }
  const where = process.describe(rip);
  const ripInside = rip > range.site && rip < range.site + BigInt(range.length);
  const doing = ripInside
    ? `executing ${where}, inside the overwritten bytes`
    : pendingFromInside !== null
      ? `the call from ${process.describe(pendingFromInside)} is in progress (at ${where})`
      : `at ${where}`;
  return { where, callChain: chain, doing: moment.thread ? `${moment.thread}: ${doing}` : doing };
}
