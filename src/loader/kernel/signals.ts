// Signal dispositions, masks and delivery, shaped like Linux x86-64: the handler runs on an
// rt_sigframe built below the red zone (pretcode, ucontext with uc_mcontext gregs in
// Linux order, siginfo, then an fxsave-format fpstate aligned to 64), and rt_sigreturn
// restores the interrupted registers and mask from it, so a handler that edits its ucontext
// changes where execution resumes, exactly as natively.

import type { Engine, Register } from '../../engine/engine.js';
import type { GuestMemory } from '../guest-memory.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGURG = 23, SIGWINCH = 28;

export const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

/** "USR1", "SIGUSR1" or "10" to a number; undefined when unknown. */
export function signalNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const hit = Object.entries(SIGNAL_NAMES).find(([, n]) => n === full);
  return hit ? Number(hit[0]) : undefined;
}

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
export const SA_SIGINFO = 0x4n;
export const SA_ONSTACK = 0x08000000n;
export const SA_RESTORER = 0x04000000n;
export const SA_RESTART = 0x10000000n;
export const SA_NODEFER = 0x40000000n;
export const SA_RESETHAND = 0x80000000n;

/** si_code values. */
export const SI_USER = 0;
export const SI_TKILL = -6;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const ILL_ILLOPN = 2;
export const FPE_INTDIV = 1;

export interface SignalAction {
  handler: bigint;
  flags: bigint;
  /** Bit n-1 for signal n, as the kernel's sigset_t. */
  mask: bigint;
  restorer: bigint;
}

/** What the kernel puts in siginfo and in the trap fields of the sigcontext. */
export interface SignalInfo {
  signo: number;
  code: number;
  pid?: number;
  uid?: number;
  /** si_addr for faults. */
  address?: bigint;
  /** Hardware trap number (14 page fault, 6 #UD, 0 #DE, 3 #BP) for sigcontext.trapno. */
  trapno?: number;
  /** Page-fault error code for sigcontext.err. */
  err?: number;
}

export function sigbit(signo: number): bigint {
  return 1n << BigInt(signo - 1);
}

/** Signals whose default action is to ignore them; all others terminate the process. */
const DEFAULT_IGNORED = new Set([SIGCHLD, SIGURG, SIGWINCH, SIGCONT]);

export function defaultIsIgnore(signo: number): boolean {
  return DEFAULT_IGNORED.has(signo);
}

/**
 * What the kernel does with a signal now (both process models): ignore it, end the process
 * with its default action, or run the handler. `forced` (a synchronous fault) overrides
 * SIG_IGN and the mask with the default action, as the kernel's force_sig does.
 */
export type Disposition = { kind: 'ignore' } | { kind: 'terminate' } | { kind: 'handle'; action: SignalAction };

export function dispositionOf(signals: SignalState, signo: number, forced: boolean): Disposition {
  let action = signals.action(signo);
  if (forced && (action.handler === SIG_IGN || (signals.blocked & sigbit(signo)) !== 0n)) action = { handler: SIG_DFL, flags: 0n, mask: 0n, restorer: 0n };
  if (action.handler === SIG_IGN || (action.handler === SIG_DFL && defaultIsIgnore(signo))) return { kind: 'ignore' };
  if (action.handler === SIG_DFL) return { kind: 'terminate' };
  return { kind: 'handle', action };
}

/** The detail of a process ended by a signal's default action (no fault report to quote). */
export function terminatedDetail(signo: number): string {
  return `${SIGNAL_NAMES[signo] ?? signo} with no handler (default action: terminate)`;
}

// Layout of the kernel's rt_sigframe on x86-64 (arch/x86/include/asm/sigframe.h).
export const UC_OFFSET = 8; // after pretcode
export const UC_MCONTEXT = 40; // uc_flags, uc_link, uc_stack(24)
export const UC_SIGMASK = 40 + 256;
export const UC_SIZE = 304;
export const SIGINFO_OFFSET = UC_OFFSET + UC_SIZE; // 312
export const SIGINFO_SIZE = 128;
export const RT_SIGFRAME_SIZE = SIGINFO_OFFSET + SIGINFO_SIZE; // 440
export const FXSAVE_SIZE = 512;
const RED_ZONE = 128n;

/** gregs in the order of <sys/ucontext.h> REG_R8 .. REG_CR2 (what uc_mcontext holds). */
export const GREG_ORDER = [
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'rflags',
] as const satisfies readonly Register[];
const REG_CSGSFS = 18, REG_ERR = 19, REG_TRAPNO = 20, REG_OLDMASK = 21, REG_CR2 = 22, FPSTATE_SLOT = 23;

// rflags bits user code may change through sigreturn (FIX_EFLAGS in the kernel).
const FIX_EFLAGS = 0x00040dd5n | 0x00000100n | 0x00000200n;

export class SignalState {
  readonly actions = new Map<number, SignalAction>();
  blocked = 0n;
  /** Pending signals with their info, in arrival order (one instance per standard signal). */
  pending: SignalInfo[] = [];

  action(signo: number): SignalAction {
    return this.actions.get(signo) ?? { handler: SIG_DFL, flags: 0n, mask: 0n, restorer: 0n };
  }

  raise(info: SignalInfo): void {
    if (!this.pending.some((p) => p.signo === info.signo)) this.pending.push(info);
  }

  /** The first pending signal not blocked, removed from the pending set. */
  takeDeliverable(): SignalInfo | undefined {
    const i = this.pending.findIndex((p) => (this.blocked & sigbit(p.signo)) === 0n || p.signo === SIGKILL || p.signo === SIGSTOP);
    if (i < 0) return undefined;
    return this.pending.splice(i, 1)[0];
  }
}

/** Where the frame went, for events and tests. */
export interface SignalFrame {
  frame: bigint;
  ucontext: bigint;
  siginfo: bigint;
  fpstate: bigint;
  interruptedRip: bigint;
  interruptedRsp: bigint;
}

/**
 * Builds the rt_sigframe for `info` and points the CPU at the handler, as the kernel's
 * setup_rt_frame does. `restorer` is used as the return address (sa_restorer).
 */
export function setupRtFrame(engine: Engine, mem: GuestMemory, state: SignalState, info: SignalInfo, action: SignalAction, restorer: bigint, altStackTop?: bigint): SignalFrame {
  const interruptedRsp = engine.readRegister('rsp');
  const interruptedRip = engine.readRegister('rip');
  // SA_ONSTACK with an alternate stack set (sigaltstack): the frame goes at its top instead.
  let sp = altStackTop ?? interruptedRsp - RED_ZONE;
  sp = (sp - BigInt(FXSAVE_SIZE)) & ~63n;
  const fpstate = sp;
  const frame = ((sp - BigInt(RT_SIGFRAME_SIZE)) & ~15n) - 8n;
  const uc = frame + BigInt(UC_OFFSET);
  const si = frame + BigInt(SIGINFO_OFFSET);

  const image = new Uint8Array(RT_SIGFRAME_SIZE);
  const v = new DataView(image.buffer);
  const put64 = (off: number, value: bigint): void => v.setBigUint64(off, BigInt.asUintN(64, value), true);
  put64(0, restorer);
  put64(UC_OFFSET + 0, 0x6n); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS (legacy fpstate, no xsave)
  put64(UC_OFFSET + 8, 0n); // uc_link
  put64(UC_OFFSET + 16, 0n); // uc_stack.ss_sp
  v.setInt32(UC_OFFSET + 24, 2, true); // ss_flags = SS_DISABLE
  put64(UC_OFFSET + 32, 0n); // ss_size
  const greg = (n: number): number => UC_OFFSET + UC_MCONTEXT + n * 8;
  GREG_ORDER.forEach((reg, n) => put64(greg(n), engine.readRegister(reg)));
  // cs=0x33, gs=0, fs=0, ss=0x2b packed as the kernel stores them.
  put64(greg(REG_CSGSFS), 0x33n | (0x2bn << 48n));
  put64(greg(REG_ERR), BigInt(info.err ?? 0));
  put64(greg(REG_TRAPNO), BigInt(info.trapno ?? 0));
  put64(greg(REG_OLDMASK), state.blocked & 0xffffffffn);
  put64(greg(REG_CR2), info.address ?? 0n);
  put64(greg(FPSTATE_SLOT), fpstate);
  put64(UC_OFFSET + UC_SIGMASK, state.blocked);
  v.setInt32(SIGINFO_OFFSET + 0, info.signo, true);
  v.setInt32(SIGINFO_OFFSET + 4, 0, true);
  v.setInt32(SIGINFO_OFFSET + 8, info.code, true);
  if (info.address !== undefined) put64(SIGINFO_OFFSET + 16, info.address);
  else {
    v.setInt32(SIGINFO_OFFSET + 16, info.pid ?? 0, true);
    v.setInt32(SIGINFO_OFFSET + 20, info.uid ?? 0, true);
  }
  mem.write(frame, image);
  mem.write(fpstate, saveFxState(engine));

  state.blocked |= action.mask;
  if ((action.flags & SA_NODEFER) === 0n) state.blocked |= sigbit(info.signo);
  if (action.flags & SA_RESETHAND) state.actions.set(info.signo, { handler: SIG_DFL, flags: 0n, mask: 0n, restorer: 0n });

  engine.writeRegister('rsp', frame);
  engine.writeRegister('rip', action.handler);
  engine.writeRegister('rdi', BigInt(info.signo));
  engine.writeRegister('rsi', si);
  engine.writeRegister('rdx', uc);
  engine.writeRegister('rax', 0n);
  // The kernel clears DF and TF for the handler.
  engine.writeRegister('rflags', engine.readRegister('rflags') & ~0x500n);
  return { frame, ucontext: uc, siginfo: si, fpstate, interruptedRip, interruptedRsp };
}

/** rt_sigreturn: the handler's `ret` popped pretcode, so the ucontext sits at rsp. Returns the restored rip. */
export function restoreRtFrame(engine: Engine, mem: GuestMemory, state: SignalState): bigint {
  const uc = engine.readRegister('rsp');
  const ctx = mem.read(uc, UC_SIZE);
  const v = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  const greg = (n: number): bigint => v.getBigUint64(UC_MCONTEXT + n * 8, true);
  const oldFlags = engine.readRegister('rflags');
  GREG_ORDER.forEach((reg, n) => {
    if (reg === 'rflags') engine.writeRegister('rflags', (oldFlags & ~FIX_EFLAGS) | (greg(n) & FIX_EFLAGS));
    else engine.writeRegister(reg, greg(n));
  });
  const fpstate = greg(FPSTATE_SLOT);
  if (fpstate !== 0n) restoreFxState(engine, mem.read(fpstate, FXSAVE_SIZE));
  state.blocked = v.getBigUint64(UC_SIGMASK, true) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
  return engine.readRegister('rip');
}

/** fxsave layout: fcw 0x37f, mxcsr 0x1f80 at 24, xmm0..15 at 160. */
function saveFxState(engine: Engine): Uint8Array {
  const area = new Uint8Array(FXSAVE_SIZE);
  const v = new DataView(area.buffer);
  v.setUint16(0, 0x37f, true);
  v.setUint32(24, 0x1f80, true);
  v.setUint32(28, 0xffff, true);
  for (let i = 0; i < 16; i++) area.set(engine.readXmm(i), 160 + i * 16);
  return area;
}

function restoreFxState(engine: Engine, area: Uint8Array): void {
  for (let i = 0; i < 16; i++) engine.writeXmm(i, area.slice(160 + i * 16, 176 + i * 16));
}
