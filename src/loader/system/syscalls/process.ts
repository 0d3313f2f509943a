// Process system calls of a single-threaded process that is alone in its world: identity
// (pid, uid...), arch_prctl for the TLS base, set_tid_address/robust lists, rseq (ENOSYS, as
// glibc tolerates), limits, uname, CPU affinity, getrandom (seeded), futex without other
// threads, exit/exit_group. Creating threads or processes stops the run with a message.

import { EAGAIN, EINVAL, ENOSYS, EPERM, ESRCH } from '../../kernel/errno.js';
import { encodeUtf8 } from '../../guest-memory.js';
import { KernelErrno, type Kernel } from '../kernel.js';
import { i32, type SyscallTable } from './types.js';

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
const CLONE_THREAD = 0x10000;
const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_CMD_MASK = 0x7f & ~0x80;
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
const UID = 1000;

/** getrlimit/prlimit64 values: RLIMIT_STACK 8 MiB, RLIMIT_NOFILE 1024 (hard 4096), RLIMIT_CORE 0, the rest unlimited. */
function limit(resource: number): [bigint, bigint] {
  if (resource === 3) return [8n << 20n, RLIM_INFINITY];
  if (resource === 7) return [1024n, 4096n];
  if (resource === 4) return [0n, RLIM_INFINITY];
  if (resource < 0 || resource > 15) throw new KernelErrno(EINVAL);
  return [RLIM_INFINITY, RLIM_INFINITY];
}

function utsname(k: Kernel, address: bigint): number {
  const fields = ['Linux', 'sandbox', '6.1.0-patchsandbox', '#1 SMP PREEMPT_DYNAMIC', 'x86_64', '(none)'];
  const b = new Uint8Array(65 * 6);
  fields.forEach((f, i) => b.set(encodeUtf8(f), i * 65));
  k.write(address, b);
  return 0;
}

function futex(k: Kernel, a: readonly bigint[]): number | { kind: 'unsupported'; message: string } {
  const op = i32(a[1]) & FUTEX_CMD_MASK;
  if (op === FUTEX_WAKE) return 0;
  if (op === FUTEX_WAIT || op === 9 /* WAIT_BITSET */) {
    if (k.u32(a[0]!) !== (Number(a[2]! & 0xffffffffn))) return -EAGAIN;
    return { kind: 'unsupported', message: `futex(FUTEX_WAIT) on 0x${a[0]!.toString(16)} would wait forever: the process has one thread and nothing can wake it (a deadlock in the program)` };
  }
  return -ENOSYS;
}

function unsupported(what: string): { kind: 'unsupported'; message: string } {
  return { kind: 'unsupported', message: what };
}

export const PROCESS_SYSCALLS: SyscallTable = {
  24: { name: 'sched_yield', run: () => 0 },
  39: { name: 'getpid', run: (k) => k.pid },
  56: {
    name: 'clone',
    run: (_k, a) => unsupported((i32(a[0]) & CLONE_THREAD)
      ? 'clone(CLONE_THREAD): the program starts a thread; threads are not emulated yet by the system model (planned), so the run stops here'
      : 'clone: the program starts another process; the sandbox emulates one process'),
  },
  57: { name: 'fork', run: () => unsupported('fork: the program starts another process; the sandbox emulates one process') },
  58: { name: 'vfork', run: () => unsupported('vfork: the program starts another process; the sandbox emulates one process') },
  59: { name: 'execve', run: (k, a) => unsupported(`execve("${safeString(k, a[0]!)}"): the program replaces itself with another executable; the sandbox emulates one program`) },
  60: { name: 'exit', run: (_k, a) => ({ kind: 'exit', status: i32(a[0]) & 0xff }) },
  61: { name: 'wait4', run: () => -10 }, // ECHILD: there are no children
  63: { name: 'uname', run: (k, a) => utsname(k, a[0]!) },
  97: { name: 'getrlimit', run: (k, a) => {
    const [cur, max] = limit(i32(a[0]));
    k.writeU64(a[1]!, cur);
    k.writeU64(a[1]! + 8n, max);
    return 0;
  } },
  98: { name: 'getrusage', run: (k, a) => {
    k.write(a[1]!, new Uint8Array(144));
    return 0;
  } },
  99: { name: 'sysinfo', run: (k, a) => {
    const b = new Uint8Array(112);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, k.clock.now(1) / 1_000_000_000n, true); // uptime
    v.setBigUint64(32, 8n << 30n, true); // totalram
    v.setBigUint64(40, 4n << 30n, true); // freeram
    v.setUint16(80, 1, true); // procs
    v.setUint32(104, 1, true); // mem_unit
    k.write(a[0]!, b);
    return 0;
  } },
  102: { name: 'getuid', run: () => UID },
  104: { name: 'getgid', run: () => UID },
  105: { name: 'setuid', run: () => -EPERM },
  106: { name: 'setgid', run: () => -EPERM },
  107: { name: 'geteuid', run: () => UID },
  108: { name: 'getegid', run: () => UID },
  109: { name: 'setpgid', run: () => 0 },
  110: { name: 'getppid', run: () => 1 },
  111: { name: 'getpgrp', run: (k) => k.pid },
  112: { name: 'setsid', run: (k) => k.pid },
  115: { name: 'getgroups', run: () => 0 },
  118: { name: 'getresuid', run: (k, a) => {
    for (const p of a.slice(0, 3)) k.writeU32(p, UID);
    return 0;
  } },
  120: { name: 'getresgid', run: (k, a) => {
    for (const p of a.slice(0, 3)) k.writeU32(p, UID);
    return 0;
  } },
  121: { name: 'getpgid', run: (k) => k.pid },
  124: { name: 'getsid', run: (k) => k.pid },
  157: { name: 'prctl', run: (_k, a) => (i32(a[0]) === 15 /* PR_SET_NAME */ || i32(a[0]) === 16 ? 0 : -EINVAL) },
  158: {
    name: 'arch_prctl',
    run: (k, a) => {
      const code = i32(a[0]);
      if (code === ARCH_SET_FS) k.engine.writeRegister('fs_base', a[1]!);
      else if (code === ARCH_SET_GS) k.engine.writeRegister('gs_base', a[1]!);
      else if (code === ARCH_GET_FS) k.writeU64(a[1]!, k.engine.readRegister('fs_base'));
      else if (code === ARCH_GET_GS) k.writeU64(a[1]!, k.engine.readRegister('gs_base'));
      else return -EINVAL; // ARCH_CET_STATUS and the rest: not this CPU's
      return 0;
    },
  },
  186: { name: 'gettid', run: (k) => k.pid },
  202: { name: 'futex', run: (k, a) => futex(k, a) },
  203: { name: 'sched_setaffinity', run: () => 0 },
  204: {
    name: 'sched_getaffinity',
    run: (k, a) => {
      const size = Number(a[1]!);
      if (size < 8 || size % 8 !== 0) return -EINVAL;
      const mask = new Uint8Array(8);
      mask[0] = 1; // one CPU
      k.write(a[2]!, mask);
      return 8;
    },
  },
  218: { name: 'set_tid_address', run: (k, a) => {
    k.tidAddress = a[0]!;
    return k.pid;
  } },
  231: { name: 'exit_group', run: (_k, a) => ({ kind: 'exit', status: i32(a[0]) & 0xff }) },
  273: { name: 'set_robust_list', run: (_k, a) => (a[1] === 24n ? 0 : -EINVAL) },
  302: {
    name: 'prlimit64',
    run: (k, a) => {
      const pid = i32(a[0]);
      if (pid !== 0 && pid !== k.pid) return -ESRCH;
      const [cur, max] = limit(i32(a[1]));
      if (a[3] !== 0n) {
        k.writeU64(a[3]!, cur);
        k.writeU64(a[3]! + 8n, max);
      }
      return 0;
    },
  },
  318: {
    name: 'getrandom',
    run: (k, a) => {
      const n = Math.min(Number(a[1]!), 1 << 25);
      k.write(a[0]!, k.random.bytes(n));
      return n;
    },
  },
  334: { name: 'rseq', run: () => -ENOSYS }, // glibc runs without restartable sequences when the kernel has none
  435: { name: 'clone3', run: () => -ENOSYS }, // glibc falls back to clone, which names what it starts
};

function safeString(k: Kernel, address: bigint): string {
  try {
    return k.cstring(address, 256);
  } catch {
    return '?';
  }
}
