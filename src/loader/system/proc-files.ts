// The kernel's generated files for the system model: /dev/null, /dev/zero, /dev/urandom
// (seeded), and /proc/self/{exe,maps,status,cmdline} made from the emulated state at each
// open. There is no /proc/self/root, no /proc/<pid>: nothing that leads back to the host.

import { encodeUtf8 } from '../guest-memory.js';
import { permText } from '../kernel/address-space.js';
import type { Kernel } from './kernel.js';

export function addProcFiles(k: Kernel, exePath: string, argv: readonly string[]): void {
  const vfs = k.vfs;
  vfs.addDevice('/dev/null', 'null');
  vfs.addDevice('/dev/zero', 'zero');
  vfs.addDevice('/dev/urandom', 'urandom');
  vfs.addDevice('/dev/random', 'urandom');
  vfs.addSymlink('/proc/self/exe', exePath);
  vfs.addGenerated('/proc/self/maps', () => encodeUtf8(procMaps(k)));
  vfs.addGenerated('/proc/self/status', () => encodeUtf8(procStatus(k, exePath)));
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

function procStatus(k: Kernel, exePath: string): string {
  const name = exePath.slice(exePath.lastIndexOf('/') + 1).slice(0, 15);
  return `Name:\t${name}\nState:\tR (running)\nTgid:\t${k.pid}\nPid:\t${k.pid}\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nThreads:\t1\nSigBlk:\t${k.signals.blocked.toString(16).padStart(16, '0')}\n`;
}
