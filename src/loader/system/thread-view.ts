// Every thread as a ptrace patcher sees it with the world stopped: each one is at an
// instruction boundary (only the running thread has live registers; the others' are in their
// saved contexts, read by switching the engine to them and back). For each: rip, rsp, the
// words on its stack (candidate return addresses) and a call chain from a conservative scan:
// the stack words that point just after a call instruction in executable memory.

import { Perm } from '../../engine/engine.js';
import type { SystemProcess } from './process.js';
import type { ThreadState } from './threads.js';

export interface ThreadView {
  tid: number;
  name: string;
  state: ThreadState;
  /** The thread the run stopped in (its registers were live). */
  running: boolean;
  rip: bigint;
  rsp: bigint;
  rbp: bigint;
  /** 8-byte words from rsp to the end of its stack mapping (at most `scanBytes`). */
  stackWords: { slot: bigint; value: bigint }[];
  /** Return addresses found on the stack (innermost first), each just after a call instruction. */
  callChain: { address: bigint; location: string }[];
  /**
   * The frames' return addresses as an unwinder walks them (set by the verifier from .eh_frame,
   * which the loader does not read): innermost first, each with how it was found.
   */
  frames?: { address: bigint; location: string; how: 'cfi' | 'frame pointer' | 'stack scan' | 'frame pointer or stack scan' }[];
}

/** Whether the bytes before `ret` end with a call instruction (e8 rel32, ff /2 forms). */
function afterCall(p: SystemProcess, ret: bigint): boolean {
  let b: Uint8Array;
  try {
    b = p.mem.read(ret - 7n, 7);
  } catch {
    return false;
  }
  if (b[2] === 0xe8) return true; // call rel32
  const ff = (at: number, mods: number[]): boolean => b[at] === 0xff && ((b[at + 1]! >> 3) & 7) === 2 && mods.includes(b[at + 1]! >> 6);
  return ff(5, [3]) || ff(5, [0]) || ff(4, [1]) || ff(4, [0]) || ff(1, [0, 2]) || ff(3, [1]) || ff(0, [2]);
}

export function viewThreads(p: SystemProcess, scanBytes = 64 * 1024): ThreadView[] {
  const engine = p.engine;
  const s = p.threads;
  const live = engine.saveContext();
  const out: ThreadView[] = [];
  try {
    for (const t of s.threads) {
      if (t.state === 'exited') continue;
      const running = t === s.current;
      // The running thread's registers are `live` (an earlier turn of the loop loaded another's).
      engine.restoreContext(running ? live : s.contextOf(t));
      const rip = engine.readRegister('rip');
      const rsp = engine.readRegister('rsp');
      const rbp = engine.readRegister('rbp');
      const m = p.space.find(rsp);
      const end = m ? (m.end < rsp + BigInt(scanBytes) ? m.end : rsp + BigInt(scanBytes)) : rsp;
      const stackWords: { slot: bigint; value: bigint }[] = [];
      const callChain: { address: bigint; location: string }[] = [];
      if (end > rsp) {
        const bytes = p.mem.read(rsp, Number(end - rsp));
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i + 8 <= bytes.length; i += 8) {
          const value = view.getBigUint64(i, true);
          stackWords.push({ slot: rsp + BigInt(i), value });
          if (callChain.length < 32 && ((p.space.find(value)?.perms ?? 0) & Perm.Exec) !== 0 && afterCall(p, value)) callChain.push({ address: value, location: p.describe(value) });
        }
      }
      out.push({ tid: t.tid, name: t.name, state: t.state, running, rip, rsp, rbp, stackWords, callChain });
    }
  } finally {
    engine.restoreContext(live);
  }
  return out;
}
