// The system calls the guest may execute itself with `syscall`, grouped by libc area as
// Linux numbers them. Anything else returns -ENOSYS and is recorded, so a guest reaches no
// host file, socket or process: there is no open, no socket, no execve.

import type { Engine } from '../../engine/engine.js';
import { EBADF, EFAULT, EINVAL, ENOSYS, ESRCH } from './errno.js';
import { MAP_ANONYMOUS } from './address-space.js';
import { SI_TKILL, SI_USER, SIGKILL, SIGSTOP, sigbit } from './signals.js';
import type { LibcServices } from '../stubs/stub.js';

export const SYSCALL_NAMES: Readonly<Record<number, string>> = {
  0: 'read', 1: 'write', 2: 'open', 3: 'close', 9: 'mmap', 10: 'mprotect', 11: 'munmap', 12: 'brk', 13: 'rt_sigaction',
  14: 'rt_sigprocmask', 15: 'rt_sigreturn', 35: 'nanosleep', 39: 'getpid', 41: 'socket', 57: 'fork', 59: 'execve',
  60: 'exit', 62: 'kill', 186: 'gettid', 200: 'tkill', 228: 'clock_gettime', 231: 'exit_group', 234: 'tgkill', 257: 'openat',
};

export type SyscallOutcome = { kind: 'result'; value: bigint } | { kind: 'exit'; status: number } | { kind: 'sigreturn' };

const result = (value: bigint | number): SyscallOutcome => ({ kind: 'result', value: BigInt(value) });

/** Services one `syscall`: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9. */
export function serviceSyscall(engine: Engine, libc: LibcServices): SyscallOutcome {
  const nr = Number(engine.readRegister('rax'));
  const a = (['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const).map((r) => engine.readRegister(r));
  const i32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
  switch (nr) {
    // unistd
    case 1: {
      const fd = i32(a[0]!);
      if (fd !== 1 && fd !== 2) return result(-EBADF);
      const n = Number(BigInt.asIntN(64, a[2]!));
      if (n < 0 || n > 0x7ffff000) return result(-EINVAL); // the kernel caps one write at MAX_RW_COUNT
      libc.outputFromGuest(fd, a[1]!, n);
      return result(n);
    }
    case 39:
    case 186:
      return result(libc.pid);
    case 60:
    case 231:
      return { kind: 'exit', status: i32(a[0]!) & 0xff };
    // mman
    case 9: {
      if ((i32(a[3]!) & MAP_ANONYMOUS) === 0) return result(-EBADF);
      return result(libc.space.mmap(a[0]!, a[1]!, i32(a[2]!), i32(a[3]!)));
    }
    case 10:
      return result(libc.mprotect(a[0]!, a[1]!, i32(a[2]!), 'syscall'));
    case 11:
      return result(libc.space.munmap(a[0]!, a[1]!));
    // signal
    case 13: {
      // Kernel struct sigaction: handler, flags, restorer, mask (8 bytes each).
      const signo = i32(a[0]!);
      if (signo < 1 || signo > 64 || ((signo === SIGKILL || signo === SIGSTOP) && a[1] !== 0n) || a[3] !== 8n) return result(-EINVAL);
      const old = libc.signals.action(signo);
      if (a[2] !== 0n) {
        libc.writeU64(a[2]!, old.handler);
        libc.writeU64(a[2]! + 8n, old.flags);
        libc.writeU64(a[2]! + 16n, old.restorer);
        libc.writeU64(a[2]! + 24n, old.mask);
      }
      if (a[1] !== 0n) {
        libc.signals.actions.set(signo, { handler: libc.u64(a[1]!), flags: libc.u64(a[1]! + 8n), restorer: libc.u64(a[1]! + 16n), mask: libc.u64(a[1]! + 24n) });
      }
      return result(0);
    }
    case 14: {
      const s = libc.signals;
      if (a[3] !== 8n) return result(-EINVAL);
      if (a[2] !== 0n) libc.writeU64(a[2]!, s.blocked);
      if (a[1] === 0n) return result(0);
      const m = libc.u64(a[1]!) & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
      const how = i32(a[0]!);
      if (how === 0) s.blocked |= m;
      else if (how === 1) s.blocked &= ~m;
      else if (how === 2) s.blocked = m;
      else return result(-EINVAL);
      return result(0);
    }
    case 15:
      return { kind: 'sigreturn' };
    case 62:
    case 200:
    case 234: {
      const pid = i32(a[0]!);
      const signo = i32(nr === 234 ? a[2]! : a[1]!);
      if (nr === 234 && (pid !== libc.pid || i32(a[1]!) !== libc.pid)) return result(-ESRCH);
      if (nr !== 234 && pid !== libc.pid && pid !== 0 && pid !== -1) return result(-ESRCH);
      if (signo < 0 || signo > 64) return result(-EINVAL);
      if (signo > 0) libc.signals.raise({ signo, code: nr === 62 ? SI_USER : SI_TKILL, pid: libc.pid, uid: 1000 });
      return result(0);
    }
    // time
    case 228: {
      const id = i32(a[0]!);
      if (id < 0 || id > 11) return result(-EINVAL);
      if (a[1] === 0n) return result(-EFAULT);
      const ns = libc.clock.now(id);
      libc.writeU64(a[1]!, ns / 1_000_000_000n);
      libc.writeU64(a[1]! + 8n, ns % 1_000_000_000n);
      return result(0);
    }
    case 35: {
      if (a[0] === 0n) return result(-EFAULT);
      const sec = BigInt.asIntN(64, libc.u64(a[0]!));
      const nsec = BigInt.asIntN(64, libc.u64(a[0]! + 8n));
      if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return result(-EINVAL);
      libc.clock.advance(sec * 1_000_000_000n + nsec);
      return result(0);
    }
    default:
      return result(-ENOSYS);
  }
}
