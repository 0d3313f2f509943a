// The kernel's generated files for the system model: /dev/null, /dev/zero, /dev/urandom
// (seeded), and /proc/self/{exe,maps,status,cmdline} made from the emulated state at each
// open. There is no /proc/self/root, no /proc/<pid>: nothing that leads back to the host.

import { encodeUtf8 } from '../guest-memory.js';
import { permText } from '../kernel/address-space.js';
import { SIG_DFL, SIG_IGN, sigbit } from '../kernel/signals.js';
import type { Kernel } from './kernel.js';

/** `threads`: how many threads the process has now (the scheduler's live ones). */
export function addProcFiles(k: Kernel, exePath: string, argv: readonly string[], threads: () => number = () => 1): void {
  const vfs = k.vfs;
  vfs.addDevice('/dev/null', 'null');
  vfs.addDevice('/dev/zero', 'zero');
  vfs.addDevice('/dev/urandom', 'urandom');
  vfs.addDevice('/dev/random', 'urandom');
  vfs.addSymlink('/proc/self/exe', exePath);
  vfs.addGenerated('/proc/self/maps', () => encodeUtf8(procMaps(k)));
  vfs.addGenerated('/proc/self/status', () => encodeUtf8(procStatus(k, exePath, threads())));
  vfs.addGenerated('/proc/self/cmdline', () => encodeUtf8(argv.map((a) => `${a}\0`).join('')));
}

function inodeOf(k: Kernel, path: string): number {
  try {
    return k.vfs.resolve(path, '/').node.ino;
  } catch {
    return 0;
  }
}

/** The format of fs/proc/task_mmu.c's show_map_vma, from the AddressSpace's mappings. */
function procMaps(k: Kernel): string {
  return k.space.list().map((m) => {
    const perms = `${permText(m.perms)}p`;
    const file = m.name.startsWith('/');
    const ino = file ? inodeOf(k, m.name) : 0;
    const name = m.name === '[anon]' ? '' : m.name;
    return `${m.begin.toString(16).padStart(8, '0')}-${m.end.toString(16).padStart(8, '0')} ${perms} 00000000 ${file ? '08:01' : '00:00'} ${ino}${name ? ' '.repeat(Math.max(1, 26 - String(ino).length)) + name : ''}\n`;
  }).join('');
}

/** fs/proc/array.c's fields a program reads: identity, memory (kB, from the mappings), threads, signal masks. */
function procStatus(k: Kernel, exePath: string, threads: number): string {
  const name = exePath.slice(exePath.lastIndexOf('/') + 1).slice(0, 15);
  const maps = k.space.list();
  const kb = (bytes: bigint): string => `${(bytes / 1024n).toString().padStart(8)} kB`;
  const size = maps.reduce((n, m) => n + (m.end - m.begin), 0n);
  const stack = maps.filter((m) => m.name === '[stack]').reduce((n, m) => n + (m.end - m.begin), 0n);
  const heap = maps.filter((m) => m.name === '[heap]').reduce((n, m) => n + (m.end - m.begin), 0n);
  let ignored = 0n;
  let caught = 0n;
  for (const [signo, action] of k.signals.actions) {
    if (action.handler === SIG_IGN) ignored |= sigbit(signo);
    else if (action.handler !== SIG_DFL) caught |= sigbit(signo);
  }
  const pending = k.signals.pending.reduce((m, p) => m | sigbit(p.signo), 0n);
  const mask = (m: bigint): string => m.toString(16).padStart(16, '0');
  return [
    `Name:\t${name}`, 'State:\tR (running)', `Tgid:\t${k.pid}`, `Pid:\t${k.pid}`, 'PPid:\t1',
    'Uid:\t1000\t1000\t1000\t1000', 'Gid:\t1000\t1000\t1000\t1000',
    `VmSize:\t${kb(size)}`, `VmData:\t${kb(heap)}`, `VmStk:\t${kb(stack)}`,
    `Threads:\t${threads}`,
    `SigPnd:\t${mask(0n)}`, `ShdPnd:\t${mask(pending)}`, `SigBlk:\t${mask(k.signals.blocked)}`, `SigIgn:\t${mask(ignored)}`, `SigCgt:\t${mask(caught)}`,
    '',
  ].join('\n');
}
