// The system model's syscall table: every implemented Linux x86-64 system call by number,
// merged from one module per area. A number not in it stops the run naming it.

import { FILE_SYSCALLS } from './files.js';
import { MEMORY_SYSCALLS } from './memory.js';
import { NET_SYSCALLS } from './net.js';
import { PROCESS_SYSCALLS } from './process.js';
import { SIGNAL_SYSCALLS } from './signals.js';
import { TIME_SYSCALLS } from './time.js';
import type { SyscallTable } from './types.js';

export const SYSCALL_AREAS = { memory: MEMORY_SYSCALLS, files: FILE_SYSCALLS, process: PROCESS_SYSCALLS, time: TIME_SYSCALLS, signals: SIGNAL_SYSCALLS, net: NET_SYSCALLS } as const;

function merge(): SyscallTable {
  const table: Record<number, SyscallTable[number]> = {};
  for (const [area, part] of Object.entries(SYSCALL_AREAS)) {
    for (const [nr, def] of Object.entries(part)) {
      if (table[Number(nr)]) throw new Error(`syscall ${nr} defined twice (${area})`);
      table[Number(nr)] = def;
    }
  }
  return table;
}

export const SYSCALLS: SyscallTable = merge();

/** Names of Linux x86-64 system calls the table does not implement, for the stop message. */
export const UNIMPLEMENTED_NAMES: Readonly<Record<number, string>> = {
  29: 'shmget', 30: 'shmat', 34: 'pause', 37: 'alarm', 38: 'setitimer', 40: 'sendfile', 73: 'flock', 76: 'truncate',
  90: 'chmod', 91: 'fchmod', 92: 'chown', 93: 'fchown', 127: 'rt_sigpending', 128: 'rt_sigtimedwait', 130: 'rt_sigsuspend',
  137: 'statfs', 138: 'fstatfs', 283: 'timerfd_create', 286: 'timerfd_settime', 299: 'recvmmsg', 307: 'sendmmsg',
  319: 'memfd_create', 425: 'io_uring_setup', 434: 'pidfd_open', 441: 'epoll_pwait2',
};

export function syscallName(nr: number): string {
  return SYSCALLS[nr]?.name ?? UNIMPLEMENTED_NAMES[nr] ?? `syscall ${nr}`;
}
