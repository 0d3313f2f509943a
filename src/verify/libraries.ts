// The libraries main needs beyond the ones the sandbox emulates: which files, relative to
// main's directory, ld.so would open for them (DT_RUNPATH, else DT_RPATH, with $ORIGIN).
// The CLI reads them (src/ has no file system) and passes their bytes in VerifyInput.

import { ElfError, ElfFile } from '../elf/index.js';
import { EMULATED_LIBRARIES } from '../loader/index.js';

/** A file next to main, by its path relative to main's directory. */
export interface LibraryFile {
  path: string;
  bytes: Uint8Array;
}

/**
 * Candidate paths (relative to main's directory) for the non-emulated DT_NEEDED entries of
 * `elf` (itself at `dir`, relative to main's directory): one per $ORIGIN-based search
 * directory, in ld.so's order. Absolute search directories are not the sandbox's to read.
 */
export function neededLibraryCandidates(bytes: Uint8Array, dir = '.'): { needed: string; candidates: string[] }[] {
  let elf: ElfFile;
  try {
    elf = ElfFile.parse(bytes, { reuse: true });
  } catch (e) {
    if (e instanceof ElfError) return [];
    throw e;
  }
  const dyn = elf.dynamic;
  const list = dyn?.runpath ?? dyn?.rpath ?? '';
  const dirs = list.split(':').filter((d) => d.startsWith('$ORIGIN') || d.startsWith('${ORIGIN}'));
  return (dyn?.needed ?? [])
    .filter((n) => !EMULATED_LIBRARIES.includes(n))
    .map((needed) => ({
      needed,
      candidates: dirs.map((d) => joinPath(d.replace(/^\$\{?ORIGIN\}?/, dir), needed)),
    }));
}

function joinPath(dir: string, name: string): string {
  const parts: string[] = [];
  for (const part of `${dir}/${name}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/**
 * The needed-library closure of main, reading files through `read` (relative path -> bytes,
 * or undefined when absent). Missing files are left for the loader to report.
 */
export function collectNeededLibraries(main: Uint8Array, read: (relativePath: string) => Uint8Array | undefined): LibraryFile[] {
  const found: LibraryFile[] = [];
  const queue: { bytes: Uint8Array; dir: string }[] = [{ bytes: main, dir: '.' }];
  const seen = new Set<string>();
  while (queue.length > 0 && found.length < 64) {
    const { bytes, dir } = queue.shift()!;
    for (const { needed, candidates } of neededLibraryCandidates(bytes, dir)) {
      if (seen.has(needed)) continue;
      for (const path of candidates) {
        const file = read(path);
        if (!file) continue;
        seen.add(needed);
        found.push({ path, bytes: file });
        queue.push({ bytes: file, dir: path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.' });
        break;
      }
    }
  }
  return found;
}
