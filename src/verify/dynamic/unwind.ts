// The call chain at a crash: a stack walk by the .eh_frame rules of each object (CFA and the
// saved return address and rbp), as a debugger unwinds; where an object has no usable rule
// (the libc stub image, a PLT entry) the loader's frame-pointer/stack-scan backtrace fills in.

import type { FaultReport, GuestProcess } from '../../loader/index.js';

export interface Frame {
  address: bigint;
  location: string;
  how: 'cfi' | 'frame pointer' | 'stack scan' | 'frame pointer or stack scan';
}

const RSP = 7;
const RBP = 6;
const RETURN_ADDRESS = 16;
const MAX_FRAMES = 32;

/** Registers a walk starts from. */
export interface UnwindStart {
  rip: bigint;
  rsp: bigint;
  rbp: bigint;
}

/**
 * The frames above `start` by the .eh_frame rules of each object; stops where an object has no
 * usable rule (the caller falls back to frame pointers or a stack scan) or a frame looks wrong.
 */
export function unwindFrames(process: GuestProcess, start: UnwindStart): Frame[] {
  return unwindWithRules(process, start).frames;
}

/**
 * The .eh_frame walk, and where it stopped: `noRule` when the code at `at.rip` has no usable
 * rule (generated code, a stripped object), with the registers there for another walk to go on.
 */
export function unwindWithRules(process: GuestProcess, start: UnwindStart): { frames: Frame[]; noRule: boolean; at: UnwindStart } {
  const frames: Frame[] = [];
  let { rip, rsp, rbp } = start;
  let noRule = false;
  // Read once per walk: on the system model each read walks the guest's link map.
  const objects = process.objects;
  for (let depth = 0; depth < MAX_FRAMES; depth++) {
    const owner = objects.find((o) => o.contains(rip));
    // A caller's pc is its call's return address: look the rule up inside the call.
    const pc = (depth === 0 ? rip : rip - 1n) - (owner?.base ?? 0n);
    const rule = owner?.elf?.unwindRule(pc) ?? null;
    if (!rule || (rule.cfaRegister !== RSP && rule.cfaRegister !== RBP)) {
      noRule = true;
      break;
    }
    const cfa = (rule.cfaRegister === RSP ? rsp : rbp) + rule.cfaOffset;
    const raOffset = rule.saved.get(RETURN_ADDRESS) ?? -8n;
    let ra: bigint;
    try {
      ra = process.mem.u64(cfa + raOffset);
      const savedRbp = rule.saved.get(RBP);
      if (savedRbp !== undefined) rbp = process.mem.u64(cfa + savedRbp);
    } catch {
      break;
    }
    if (ra === 0n || !objects.some((o) => o.contains(ra)) || cfa <= rsp) break;
    frames.push({ address: ra, location: process.describe(ra), how: 'cfi' });
    rsp = cfa;
    rip = ra;
  }
  return { frames, noRule, at: { rip, rsp, rbp } };
}

/** Where the rules end: the rbp chain ([rbp] the caller's rbp, [rbp+8] the return address) while it climbs the stack. */
export function framePointerWalk(process: GuestProcess, at: UnwindStart, stackEnd: bigint): Frame[] {
  const frames: Frame[] = [];
  const objects = process.objects;
  let rbp = at.rbp;
  while (rbp >= at.rsp && rbp + 16n <= stackEnd && frames.length < MAX_FRAMES) {
    let ra: bigint;
    let next: bigint;
    try {
      ra = process.mem.u64(rbp + 8n);
      next = process.mem.u64(rbp);
    } catch {
      break;
    }
    if (!objects.some((o) => o.contains(ra))) break;
    frames.push({ address: ra, location: process.describe(ra), how: 'frame pointer' });
    if (next <= rbp) break;
    rbp = next;
  }
  return frames;
}

export function callChain(process: GuestProcess, fault: FaultReport): Frame[] {
  const regs = fault.registers;
  const frames: Frame[] = regs && fault.instructionBytes.length > 0 ? unwindFrames(process, { rip: fault.rip, rsp: regs['rsp']!, rbp: regs['rbp']! }) : [];
  // Where the rules end, the loader's walk (frame pointers, else a conservative scan) goes on.
  const seen = new Set(frames.map((f) => f.address));
  const fallback = frames.length === 0 ? fault.backtrace : [];
  for (const f of fallback) if (!seen.has(f.address)) frames.push({ address: f.address, location: f.location, how: 'frame pointer or stack scan' });
  return frames;
}
