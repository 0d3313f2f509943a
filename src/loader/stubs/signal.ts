// Signal dispositions and masks, with glibc's user-space struct sigaction (handler,
// 128-byte mask, int flags, restorer). glibc always installs its own restorer
// (__restore_rt) with SA_RESTORER; here it is the libc image's `mov eax, 15; syscall`.

import { EINVAL, ESRCH } from '../kernel/errno.js';
import { SA_RESTART, SA_RESTORER, SIGKILL, SIGSTOP, SI_TKILL, SI_USER, sigbit, type SignalAction } from '../kernel/signals.js';
import { fail, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'signal', summary, run };
}

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SIGSET_BYTES = 128;

function validSignal(signo: number): boolean {
  return signo >= 1 && signo <= 64;
}

function setMask(c: StubCall, set: bigint, mask: bigint): StubOutcome {
  c.libc.writeU64(set, mask);
  return ret(0);
}

function sigsetOp(c: StubCall, op: (mask: bigint, bit: bigint) => bigint): StubOutcome {
  const signo = i32(c.arg(1));
  if (!validSignal(signo)) return fail(c, EINVAL);
  return setMask(c, c.arg(0), op(c.libc.u64(c.arg(0)), sigbit(signo)));
}

function procmask(c: StubCall, how: number, set: bigint, old: bigint): StubOutcome {
  const s = c.libc.signals;
  if (old !== 0n) c.libc.writeU64(old, s.blocked);
  if (set === 0n) return ret(0);
  const m = c.libc.u64(set) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
  if (how === SIG_BLOCK) s.blocked |= m;
  else if (how === SIG_UNBLOCK) s.blocked &= ~m;
  else if (how === SIG_SETMASK) s.blocked = m;
  else return fail(c, EINVAL);
  return ret(0);
}

function raiseSignal(c: StubCall, signo: number, code: number): StubOutcome {
  if (signo === 0) return ret(0);
  if (!validSignal(signo)) return fail(c, EINVAL);
  c.libc.signals.raise({ signo, code, pid: c.libc.pid, uid: 1000 });
  return ret(0);
}

export const SIGNAL_STUBS: StubDefinition[] = [
  def('signal', 'signal(sig, handler): BSD semantics (SA_RESTART, sig blocked in its handler)', (c) => {
    const signo = i32(c.arg(0));
    if (!validSignal(signo) || signo === SIGKILL || signo === SIGSTOP) return (c.libc.setErrno(EINVAL), ret(-1n));
    const old = c.libc.signals.action(signo);
    const action: SignalAction = { handler: c.arg(1), flags: SA_RESTART | SA_RESTORER, mask: sigbit(signo), restorer: c.libc.restorer };
    c.libc.signals.actions.set(signo, action);
    return ret(old.handler);
  }),
  def('sigaction', 'sigaction(sig, act, oldact) with glibc\'s struct layout', (c) => {
    const signo = i32(c.arg(0));
    if (!validSignal(signo) || ((signo === SIGKILL || signo === SIGSTOP) && c.arg(1) !== 0n)) return fail(c, EINVAL);
    const old = c.libc.signals.action(signo);
    if (c.arg(2) !== 0n) {
      const out = new Uint8Array(152);
      const v = new DataView(out.buffer);
      v.setBigUint64(0, old.handler, true);
      v.setBigUint64(8, old.mask, true);
      v.setInt32(136, Number(old.flags & 0xffffffffn) | 0, true);
      v.setBigUint64(144, old.restorer, true);
      c.libc.write(c.arg(2), out);
    }
    if (c.arg(1) !== 0n) {
      const act = c.libc.read(c.arg(1), 152);
      const v = new DataView(act.buffer, act.byteOffset, act.byteLength);
      c.libc.signals.actions.set(signo, {
        handler: v.getBigUint64(0, true),
        mask: v.getBigUint64(8, true),
        flags: BigInt(v.getUint32(136, true)) | SA_RESTORER,
        restorer: c.libc.restorer,
      });
    }
    return ret(0);
  }),
  def('sigemptyset', 'sigemptyset(set)', (c) => {
    c.libc.write(c.arg(0), new Uint8Array(SIGSET_BYTES));
    return ret(0);
  }),
  def('sigfillset', 'sigfillset(set)', (c) => {
    c.libc.write(c.arg(0), new Uint8Array(SIGSET_BYTES).fill(0xff));
    return ret(0);
  }),
  def('sigaddset', 'sigaddset(set, sig)', (c) => sigsetOp(c, (m, b) => m | b)),
  def('sigdelset', 'sigdelset(set, sig)', (c) => sigsetOp(c, (m, b) => m & ~b)),
  def('sigismember', 'sigismember(set, sig)', (c) => {
    const signo = i32(c.arg(1));
    if (!validSignal(signo)) return fail(c, EINVAL);
    return ret((c.libc.u64(c.arg(0)) & sigbit(signo)) !== 0n ? 1 : 0);
  }),
  def('sigprocmask', 'sigprocmask(how, set, old)', (c) => procmask(c, i32(c.arg(0)), c.arg(1), c.arg(2))),
  def('pthread_sigmask', 'pthread_sigmask(how, set, old): returns the error number', (c) => {
    const r = procmask(c, i32(c.arg(0)), c.arg(1), c.arg(2));
    return r.kind === 'return' && r.value < 0n ? ret(EINVAL) : r;
  }),
  def('raise', 'raise(sig): delivered before raise returns, as tgkill does', (c) => raiseSignal(c, i32(c.arg(0)), SI_TKILL)),
  def('kill', 'kill(pid, sig): only to this process (others: ESRCH)', (c) => {
    const pid = i32(c.arg(0));
    if (pid !== c.libc.pid && pid !== 0 && pid !== -1) return fail(c, ESRCH);
    return raiseSignal(c, i32(c.arg(1)), SI_USER);
  }),
];

