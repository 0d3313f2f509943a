// A sysroot from a tar archive's bytes (ustar, with GNU long names and pax path records), so a
// browser page can run the system model on a tar of a production image's library directories:
// regular files become read-only VFS files over slices of the archive (no copy), symlinks stay
// links resolved inside the VFS, hard links share their target's bytes.

import { Vfs, VfsError } from './vfs.js';

export class TarError extends Error {}

/** Where ld.so looks on x86-64 Debian/Ubuntu/Fedora (plus the multiarch and lib64 links). */
export const LIBRARY_DIRECTORIES = ['lib', 'lib64', 'usr/lib', 'usr/lib64', 'lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'usr/local/lib'];

/**
 * Whether a sysroot's member is one the guest may see, as the command line's --sysroot shows a
 * directory: a library directory itself (or the link it is), a file or link directly in one,
 * and /etc/ld.so.cache. The rest of an image (its /etc/passwd, /home, /root...) stays out.
 */
export function isSysrootPath(path: string): boolean {
  const relative = path.replace(/^\/+/, '');
  if (relative === 'etc/ld.so.cache' || LIBRARY_DIRECTORIES.includes(relative)) return true;
  const slash = relative.lastIndexOf('/');
  return slash > 0 && LIBRARY_DIRECTORIES.includes(relative.slice(0, slash));
}

export interface TarOptions {
  /** Keep only the members whose guest path passes (e.g. isSysrootPath); default: all. */
  only?: (path: string) => boolean;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const nul = bytes.indexOf(0);
  return decoder.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function octal(header: Uint8Array, offset: number, length: number, what: string): number {
  const text = field(header, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`tar: bad ${what} field '${text}' at offset ${offset}`);
  return parseInt(text, 8);
}

/** "./usr/lib/x/" -> "/usr/lib/x"; refuses names that climb out with "..". */
function guestPath(name: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new TarError(`tar: member '${name}' climbs out of the archive with '..'`);
  return parts.length === 0 ? undefined : `/${parts.join('/')}`;
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) throw new TarError('tar: bad pax record length');
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}

/** Adds the archive's members (all, or those `options.only` keeps) to `vfs` (a new one by default) and returns it. */
export function vfsFromTar(archive: Uint8Array, vfs = new Vfs(), options: TarOptions = {}): Vfs {
  let at = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  while (at + BLOCK <= archive.length) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12, 'size');
    const type = String.fromCharCode(header[156]!);
    const dataAt = at + BLOCK;
    if (dataAt + size > archive.length) throw new TarError(`tar: member at offset ${at} runs past the end of the archive (truncated?)`);
    const data = archive.subarray(dataAt, dataAt + size);
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === 'K') {
      longLink = field(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (type === 'g') continue;
    const prefix = decoder.decode(header.subarray(257, 262)) === 'ustar' ? field(header, 345, 155) : '';
    const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const link = pax.get('linkpath') ?? longLink ?? field(header, 157, 100);
    longName = longLink = undefined;
    pax = new Map();
    const path = guestPath(name);
    if (path === undefined || (options.only && !options.only(path))) continue;
    const mode = octal(header, 100, 8, 'mode') & 0o7777;
    try {
      if (type === '0' || type === '\0' || type === '7') vfs.addFile(path, data, data.length, mode);
      else if (type === '5') vfs.mkdirs(path);
      else if (type === '2') vfs.addSymlink(path, link);
      else if (type === '1') {
        const target = vfs.resolve(guestPath(link) ?? '/', '/', false).node;
        if (target.kind !== 'file') throw new TarError(`tar: hard link ${name} -> ${link} does not name a file`);
        vfs.addFile(path, vfs.contents(target), target.size, mode);
      }
      // devices, FIFOs: not part of a sysroot
    } catch (e) {
      if (e instanceof VfsError) throw new TarError(`tar: member ${name}: ${e.message}`);
      throw e;
    }
  }
  return vfs;
}
