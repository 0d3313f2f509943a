// Thread system calls: clone/clone3 with pthread_create's flags, futex (wait, wake, bitsets,
// requeue, wake-op; timeouts on the virtual clock), exit of one thread vs exit_group,
// set_tid_address / CLONE_CHILD_CLEARTID, set_robust_list, gettid, tkill/tgkill/kill to a
// thread or the process, sched_yield, nanosleep and clock_nanosleep as blocking sleeps, and
// prctl's thread name. They act on the Scheduler (../threads.ts) and take precedence over the
// single-threaded versions in the other areas' tables.

import { EAGAIN, EINVAL, ENOSYS, ESRCH } from '../../kernel/errno.js';
import { SI_TKILL, SI_USER } from '../../kernel/signals.js';
import { decodeUtf8, encodeUtf8 } from '../../guest-memory.js';
import type { Kernel } from '../kernel.js';
import type { Scheduler } from '../threads.js';
import { i32, i64, type SyscallResult } from './types.js';

const CLONE_VM = 0x100, CLONE_SIGHAND = 0x800, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000, CLONE_THREAD = 0x10000;
const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_CLOCK_REALTIME = 256;
const ETIMEDOUT = 110;
const NS = 1_000_000_000n;
const PR_SET_NAME = 15, PR_GET_NAME = 16;

/** A thread call's outcome: a value for rax, or the running thread blocked / yielded (the run loop switches). */
export type ThreadSyscallResult = SyscallResult | { kind: 'blocked' } | { kind: 'yield' };

export interface ThreadSyscallDefinition {
  name: string;
  run(k: Kernel, s: Scheduler, a: readonly bigint[]): ThreadSyscallResult;
}

function timespec(k: Kernel, address: bigint): bigint {
  const sec = i64(k.u64(address));
  const nsec = i64(k.u64(address + 8n));
  if (sec < 0n || nsec < 0n || nsec >= NS) return -1n;
  return sec * NS + nsec;
}

function createThread(k: Kernel, s: Scheduler, flags: number, stack: bigint, ptid: bigint, ctid: bigint, tls: bigint): ThreadSyscallResult {
  const need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
  if ((flags & CLONE_THREAD) === 0) return { kind: 'unsupported', message: 'clone: the program starts another process; the sandbox emulates one process' };
  if ((flags & need) !== need) return -EINVAL;
  const engine = k.engine;
  const parent = engine.saveContext();
  engine.writeRegister('rax', 0n);
  if (stack !== 0n) engine.writeRegister('rsp', stack);
  if (flags & CLONE_SETTLS) engine.writeRegister('fs_base', tls);
  const child = s.spawn(engine.saveContext(), k.now());
  engine.restoreContext(parent);
  if (flags & CLONE_PARENT_SETTID) k.writeU32(ptid, child.tid);
  if (flags & CLONE_CHILD_SETTID) k.writeU32(ctid, child.tid);
  if (flags & CLONE_CHILD_CLEARTID) child.clearChildTid = ctid;
  return child.tid;
}

function clone3(k: Kernel, s: Scheduler, a: readonly bigint[]): ThreadSyscallResult {
  const size = Number(a[1]!);
  if (size < 64) return -EINVAL;
  const args = k.read(a[0]!, 64);
  const v = new DataView(args.buffer, args.byteOffset, 64);
  const flags = Number(v.getBigUint64(0, true) & 0xffffffffn);
  const stack = v.getBigUint64(40, true);
  const stackSize = v.getBigUint64(48, true);
  return createThread(k, s, flags, stack === 0n ? 0n : stack + stackSize, v.getBigUint64(24, true), v.getBigUint64(16, true), v.getBigUint64(56, true));
}

/** futex(2): the word's key is its address (one process: private and shared futexes coincide). */
function futex(k: Kernel, s: Scheduler, a: readonly bigint[]): ThreadSyscallResult {
  const op = i32(a[1]);
  const cmd = op & 0x7f;
  const address = a[0]!;
  const val = Number(a[2]! & 0xffffffffn);
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? 0xffffffff : Number(a[5]! & 0xffffffffn);
      if (bitset === 0) return -EINVAL;
      let deadline: bigint | undefined;
      if (a[3] !== 0n) {
        const ns = timespec(k, a[3]!);
        if (ns < 0n) return -EINVAL;
        const mono = k.clock.now(1);
        if (cmd === FUTEX_WAIT) deadline = mono + ns;
        else deadline = mono + (ns - k.clock.now(op & FUTEX_CLOCK_REALTIME ? 0 : 1));
      }
      if (k.u32(address) !== val) return -EAGAIN;
      if (deadline !== undefined && deadline <= k.clock.now(1)) return -ETIMEDOUT;
      s.stampWait();
      s.block('futex', { address, bitset }, deadline === undefined ? undefined : { ns: deadline, value: -BigInt(ETIMEDOUT) });
      return { kind: 'blocked' };
    }
    case FUTEX_WAKE:
      return s.futexWake(address, val);
    case FUTEX_WAKE_BITSET: {
      const bitset = Number(a[5]! & 0xffffffffn);
      if (bitset === 0) return -EINVAL;
      return s.futexWake(address, val, bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
      if (cmd === FUTEX_CMP_REQUEUE && k.u32(address) !== Number(a[5]! & 0xffffffffn)) return -EAGAIN;
      return s.futexRequeue(address, val, Number(a[3]! & 0x7fffffffn), a[4]!);
    case FUTEX_WAKE_OP:
      return wakeOp(k, s, address, val, Number(a[3]! & 0x7fffffffn), a[4]!, Number(a[5]! & 0xffffffffn));
    default:
      return -ENOSYS; // the PI and robust-lock operations: glibc uses them only for PI mutexes
  }
}

function wakeOp(k: Kernel, s: Scheduler, address: bigint, wake: number, wake2: number, address2: bigint, encoded: number): number {
  const op = (encoded >>> 28) & 7;
  const shift = (encoded >>> 28) & 8;
  const cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20;
  const cmparg = (encoded << 20) >> 20;
  if (shift) oparg = 1 << (oparg & 31);
  const old = k.u32(address2) | 0;
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op];
  if (next === undefined) return -ENOSYS;
  k.writeU32(address2, next >>> 0);
  let woken = s.futexWake(address, wake);
  const hit = [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmp];
  if (hit === undefined) return -ENOSYS;
  if (hit) woken += s.futexWake(address2, wake2);
  return woken;
}

function exitThread(k: Kernel, s: Scheduler, status: number): ThreadSyscallResult {
  if (s.live.length === 1) return { kind: 'exit', status };
  const t = s.current;
  t.state = 'exited';
  t.exitStatus = status;
  if (t.clearChildTid !== 0n) {
    try {
      k.writeU32(t.clearChildTid, 0);
      s.futexWake(t.clearChildTid, 1);
    } catch {
      // a bad clear_child_tid pointer is ignored, as the kernel does
    }
  }
  return { kind: 'blocked' };
}

function sleep(k: Kernel, s: Scheduler, ns: bigint): ThreadSyscallResult {
  if (ns < 0n) return -EINVAL;
  if (ns === 0n) return { kind: 'yield' };
  s.block('sleep', undefined, { ns: k.clock.now(1) + ns, value: 0n });
  return { kind: 'blocked' };
}

function signal(k: Kernel, s: Scheduler, tid: number, signo: number, code: number): number {
  if (signo < 0 || signo > 64) return -EINVAL;
  const t = s.byTid(tid);
  if (!t) return -ESRCH;
  if (signo > 0) s.queueSignal(t, { signo, code, pid: k.pid, uid: 1000 });
  return 0;
}

export const THREAD_SYSCALLS: Readonly<Record<number, ThreadSyscallDefinition>> = {
  24: { name: 'sched_yield', run: () => ({ kind: 'yield' }) },
  35: { name: 'nanosleep', run: (k, s, a) => sleep(k, s, timespec(k, a[0]!)) },
  56: { name: 'clone', run: (k, s, a) => createThread(k, s, i32(a[0]), a[1]!, a[2]!, a[3]!, a[4]!) },
  60: { name: 'exit', run: (k, s, a) => exitThread(k, s, i32(a[0]) & 0xff) },
  62: {
    name: 'kill',
    run: (k, s, a) => {
      const pid = i32(a[0]);
      const signo = i32(a[1]);
      if (pid !== k.pid && pid !== 0 && pid !== -1) return -ESRCH;
      if (signo < 0 || signo > 64) return -EINVAL;
      if (signo > 0) s.queueSignal(s.targetFor(signo), { signo, code: SI_USER, pid: k.pid, uid: 1000 });
      return 0;
    },
  },
  157: {
    name: 'prctl',
    run: (k, s, a) => {
      const option = i32(a[0]);
      if (option === PR_SET_NAME) {
        const bytes = k.read(a[1]!, 16);
        const end = bytes.indexOf(0);
        s.current.name = decodeUtf8(bytes.subarray(0, Math.min(end < 0 ? 16 : end, 15)));
        return 0;
      }
      if (option === PR_GET_NAME) {
        const out = new Uint8Array(16);
        out.set(encodeUtf8(s.current.name).subarray(0, 15));
        k.write(a[1]!, out);
        return 0;
      }
      return -EINVAL;
    },
  },
  186: { name: 'gettid', run: (_k, s) => s.current.tid },
  200: { name: 'tkill', run: (k, s, a) => signal(k, s, i32(a[0]), i32(a[1]), SI_TKILL) },
  202: { name: 'futex', run: futex },
  218: {
    name: 'set_tid_address',
    run: (k, s, a) => {
      s.current.clearChildTid = a[0]!;
      k.tidAddress = a[0]!;
      return s.current.tid;
    },
  },
  230: {
    name: 'clock_nanosleep',
    run: (k, s, a) => {
      const id = i32(a[0]);
      if (id < 0 || id > 11 || id === 10) return -EINVAL;
      const ns = timespec(k, a[2]!);
      if (ns < 0n) return -EINVAL;
      const rel = i32(a[1]) & 1 ? ns - k.clock.now(id) : ns;
      return rel <= 0n ? 0 : sleep(k, s, rel);
    },
  },
  231: { name: 'exit_group', run: (_k, _s, a) => ({ kind: 'exit', status: i32(a[0]) & 0xff }) },
  234: { name: 'tgkill', run: (k, s, a) => (i32(a[0]) === k.pid ? signal(k, s, i32(a[1]), i32(a[2]), SI_TKILL) : -ESRCH) },
  273: {
    name: 'set_robust_list',
    run: (_k, s, a) => {
      if (a[1] !== 24n) return -EINVAL;
      s.current.robustList = a[0]!;
      return 0;
    },
  },
  435: { name: 'clone3', run: clone3 },
};
