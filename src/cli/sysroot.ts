// The system model's file system from the host (Node only): the sysroot's library
// directories that ld.so searches and /etc/ld.so.cache, read-only and read lazily; the
// directory of main as the working directory holding ./main and ./patch.so; and files the
// user maps with --file HOST[:GUEST]. Nothing else of the host is visible to the guest.

import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_CWD, Vfs } from '../loader/system/index.js';

/** Where ld.so looks on x86-64 Debian/Ubuntu/Fedora (plus the multiarch and lib64 links). */
export const LIBRARY_DIRECTORIES = ['lib', 'lib64', 'usr/lib', 'usr/lib64', 'lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'usr/local/lib'];
export { GUEST_CWD };

export interface GuestFile {
  /** Absolute guest path, or relative to the working directory. */
  guest: string;
  bytes: Uint8Array | (() => Uint8Array);
  mode?: number;
}

export class SysrootError extends Error {}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Mirrors the library directories of `sysroot` into `vfs`: regular files (not
 * subdirectories, except the multiarch ones listed) and symlinks as links, resolved later
 * inside the VFS only. Each entry is read from the host when the guest first names it.
 */
export function addSysroot(vfs: Vfs, sysroot: string): void {
  if (!isDir(sysroot)) throw new SysrootError(`--sysroot ${sysroot}: not a directory`);
  for (const rel of LIBRARY_DIRECTORIES) {
    const host = join(sysroot, rel);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      vfs.addSymlink(`/${rel}`, readlinkSync(host));
      continue;
    }
    if (!st.isDirectory()) continue;
    // Under a directory link already mirrored (lib -> usr/lib): the link's target covers it.
    if (LIBRARY_DIRECTORIES.some((other) => rel.startsWith(`${other}/`) && lstatSync(join(sysroot, other), { throwIfNoEntry: false })?.isSymbolicLink())) continue;
    // Entries are read when ld.so names them (or the guest lists the directory), not up front.
    vfs.addMirroredDirectory(`/${rel}`, {
      entry(name) {
        if (name === '.' || name === '..' || name.includes('/')) return undefined;
        const path = `${host}/${name}`;
        const entry = lstatSync(path, { throwIfNoEntry: false });
        if (entry?.isSymbolicLink()) return { kind: 'symlink', target: readlinkSync(path) };
        if (entry?.isFile()) return { kind: 'file', source: () => new Uint8Array(readFileSync(path)), mode: 0o755 };
        return undefined;
      },
      names: () => readdirSync(host),
    });
  }
  const cache = join(sysroot, 'etc/ld.so.cache');
  try {
    if (statSync(cache).isFile()) vfs.addFile('/etc/ld.so.cache', () => new Uint8Array(readFileSync(cache)), 0);
  } catch {
    // no cache: ld.so searches the default directories
  }
}

/** Whether `sysroot` has an x86-64 dynamic loader where main's PT_INTERP usually points. */
export function hasDynamicLoader(sysroot: string): boolean {
  for (const p of ['lib64/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2']) {
    try {
      if (statSync(join(sysroot, p)).isFile()) return true;
    } catch {
      // try the next
    }
  }
  return false;
}

/**
 * The regular files of main's directory (not its subdirectories), read on first use: what the
 * program finds next to itself (./patch.so, a library found through RUNPATH $ORIGIN, data).
 */
export function directoryFiles(dir: string): GuestFile[] {
  const out: GuestFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        isFile = statSync(path).isFile();
      } catch {
        isFile = false;
      }
    }
    if (isFile) out.push({ guest: entry.name, bytes: () => new Uint8Array(readFileSync(path)) });
  }
  return out;
}

/** The VFS for one run: sysroot libraries, the working directory with main and patch.so, mapped files. */
export function buildVfs(sysroot: string | undefined, files: readonly GuestFile[]): Vfs {
  const vfs = new Vfs();
  if (sysroot !== undefined) addSysroot(vfs, sysroot);
  vfs.mkdirs(GUEST_CWD);
  vfs.mkdirs('/tmp');
  for (const f of files) {
    const guest = f.guest.startsWith('/') ? f.guest : `${GUEST_CWD}/${f.guest.replace(/^\.\//, '')}`;
    const bytes = f.bytes;
    vfs.addFile(guest, bytes, typeof bytes === 'function' ? 0 : bytes.length, f.mode ?? 0o755);
  }
  return vfs;
}
