// Signal system calls: dispositions, the mask, rt_sigreturn (the frame itself is
// kernel/signals.ts's Linux rt_sigframe), sigaltstack, and kill/tkill/tgkill to the process
// itself (the only process there is).

import { EINVAL, ESRCH } from '../../kernel/errno.js';
import { SIGKILL, SIGSTOP, SI_TKILL, SI_USER, sigbit } from '../../kernel/signals.js';
import type { Kernel } from '../kernel.js';
import { i32, type SyscallTable } from './types.js';

function rtSigaction(k: Kernel, a: readonly bigint[]): number {
  const signo = i32(a[0]);
  if (signo < 1 || signo > 64 || ((signo === SIGKILL || signo === SIGSTOP) && a[1] !== 0n) || a[3] !== 8n) return -EINVAL;
  const old = k.signals.action(signo);
  let next;
  if (a[1] !== 0n) next = { handler: k.u64(a[1]!), flags: k.u64(a[1]! + 8n), restorer: k.u64(a[1]! + 16n), mask: k.u64(a[1]! + 24n) };
  if (a[2] !== 0n) {
    k.writeU64(a[2]!, old.handler);
    k.writeU64(a[2]! + 8n, old.flags);
    k.writeU64(a[2]! + 16n, old.restorer);
    k.writeU64(a[2]! + 24n, old.mask);
  }
  if (next) k.signals.actions.set(signo, next);
  return 0;
}

function rtSigprocmask(k: Kernel, a: readonly bigint[]): number {
  const s = k.signals;
  if (a[3] !== 8n) return -EINVAL;
  const how = i32(a[0]);
  const next = a[1] !== 0n ? k.u64(a[1]!) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP)) : undefined;
  if (next !== undefined && (how < 0 || how > 2)) return -EINVAL;
  if (a[2] !== 0n) k.writeU64(a[2]!, s.blocked);
  if (next === undefined) return 0;
  if (how === 0) s.blocked |= next;
  else if (how === 1) s.blocked &= ~next;
  else s.blocked = next;
  return 0;
}

/** sigaltstack: where SA_ONSTACK handlers run (the frame is built at its top). */
function sigaltstack(k: Kernel, a: readonly bigint[]): number {
  const old = k.altStack;
  if (a[0] !== 0n) k.altStack = { sp: k.u64(a[0]!), flags: i32(k.u64(a[0]! + 8n)), size: k.u64(a[0]! + 16n) };
  if (a[1] !== 0n) {
    k.writeU64(a[1]!, old.sp);
    k.writeU64(a[1]! + 8n, BigInt(old.flags));
    k.writeU64(a[1]! + 16n, old.size);
  }
  return 0;
}

function sendToSelf(k: Kernel, signo: number, code: number): number {
  if (signo < 0 || signo > 64) return -EINVAL;
  if (signo > 0) k.signals.raise({ signo, code, pid: k.pid, uid: 1000 });
  return 0;
}

export const SIGNAL_SYSCALLS: SyscallTable = {
  13: { name: 'rt_sigaction', run: rtSigaction },
  14: { name: 'rt_sigprocmask', run: rtSigprocmask },
  15: { name: 'rt_sigreturn', run: () => ({ kind: 'sigreturn' }) },
  62: {
    name: 'kill',
    run: (k, a) => {
      const pid = i32(a[0]);
      if (pid !== k.pid && pid !== 0 && pid !== -1) return -ESRCH;
      return sendToSelf(k, i32(a[1]), SI_USER);
    },
  },
  131: { name: 'sigaltstack', run: sigaltstack },
  200: { name: 'tkill', run: (k, a) => (i32(a[0]) === k.pid ? sendToSelf(k, i32(a[1]), SI_TKILL) : -ESRCH) },
  234: {
    name: 'tgkill',
    run: (k, a) => (i32(a[0]) === k.pid && i32(a[1]) === k.pid ? sendToSelf(k, i32(a[2]), SI_TKILL) : -ESRCH),
  },
};
