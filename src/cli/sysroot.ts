// The system model's file system from the host (Node only): the sysroot's library
// directories that ld.so searches and /etc/ld.so.cache, read-only and read lazily; the
// directory of main as the working directory holding ./main and ./patch.so; and files the
// user maps with --file HOST[:GUEST]. Nothing else of the host is visible to the guest: host
// symlinks become VFS symlinks, resolved inside the VFS, never followed on the host.

import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { GUEST_CWD, LIBRARY_DIRECTORIES, TarError, Vfs, isSysrootPath, vfsFromTar } from '../loader/system/index.js';

export { GUEST_CWD, LIBRARY_DIRECTORIES };

/** One file of the guest's file system: its bytes, or a symbolic link (resolved inside the VFS). */
export type GuestFile =
  | {
    /** Absolute guest path, or relative to the working directory. */
    guest: string;
    bytes: Uint8Array | (() => Uint8Array);
    mode?: number;
  }
  | { guest: string; symlink: string };

export class SysrootError extends Error {}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Sysroot archives read once per process (a verification builds a fresh VFS per run). */
const archives = new Map<string, Uint8Array>();

/** A sysroot given as a file: a tar (or a gzip-compressed one) of a root, e.g. `docker export` or the page's. */
function sysrootArchive(path: string): Uint8Array {
  let bytes = archives.get(path);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(path));
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        // Loaded here, not imported: node:zlib costs every cold start a few ms, and only a .tar.gz needs it.
        const { gunzipSync } = createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
        bytes = new Uint8Array(gunzipSync(bytes));
      } catch (e) {
        throw new SysrootError(`--sysroot ${path}: not a readable gzip file (${(e as Error).message})`);
      }
    }
    archives.set(path, bytes);
  }
  return bytes;
}

/**
 * Mirrors the library directories of `sysroot` into `vfs`: regular files (not
 * subdirectories, except the multiarch ones listed) and symlinks as links, resolved later
 * inside the VFS only. Each entry is read from the host when the guest first names it. A file
 * is read as a tar of a root, keeping the same members.
 */
export function addSysroot(vfs: Vfs, sysroot: string): void {
  if (isFile(sysroot)) {
    try {
      vfsFromTar(sysrootArchive(sysroot), vfs, { only: isSysrootPath });
    } catch (e) {
      if (e instanceof TarError) throw new SysrootError(`--sysroot ${sysroot}: ${e.message}`);
      throw e;
    }
    return;
  }
  if (!isDir(sysroot)) throw new SysrootError(`--sysroot ${sysroot}: not a directory or a tar file`);
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
  if (isFile(sysroot)) {
    const vfs = new Vfs();
    addSysroot(vfs, sysroot);
    try {
      return vfs.resolve('/lib64/ld-linux-x86-64.so.2', '/').node.kind === 'file';
    } catch {
      return false;
    }
  }
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
 * Its symlinks stay links: `liblz4.so.1 -> liblz4.so.1.9.4` works, a link out of the directory
 * (`secret -> /etc/passwd`, `up -> ../..`) names nothing unless that place is in the VFS.
 */
export function directoryFiles(dir: string): GuestFile[] {
  const out: GuestFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) out.push({ guest: entry.name, symlink: readlinkSync(path) });
    else if (entry.isFile()) out.push({ guest: entry.name, bytes: () => new Uint8Array(readFileSync(path)) });
  }
  return out;
}

/** A guest path for a file given to the guest: absolute, or below the working directory; never with '.' or '..' parts. */
export function guestPathOf(guest: string): string {
  const relative = guest.replace(/^(\.\/)+/, '');
  const parts = relative.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) {
    throw new SysrootError(`guest path '${guest}': give an absolute path or one below the working directory, without '.' or '..' parts`);
  }
  return guest.startsWith('/') ? `/${parts.join('/')}` : `${GUEST_CWD}/${parts.join('/')}`;
}

/** The VFS for one run: sysroot libraries, the working directory with main and patch.so, mapped files. */
export function buildVfs(sysroot: string | undefined, files: readonly GuestFile[]): Vfs {
  const vfs = new Vfs();
  if (sysroot !== undefined) addSysroot(vfs, sysroot);
  vfs.mkdirs(GUEST_CWD);
  vfs.mkdirs('/tmp');
  for (const f of files) {
    const guest = guestPathOf(f.guest);
    if ('symlink' in f) {
      vfs.addSymlink(guest, f.symlink);
      continue;
    }
    const bytes = f.bytes;
    vfs.addFile(guest, bytes, typeof bytes === 'function' ? 0 : bytes.length, f.mode ?? 0o755);
  }
  return vfs;
}
