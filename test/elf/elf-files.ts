// The ELF files the differential and fuzz tests run on: every ELF under corpus/ (found at
// test time, so new scenarios are covered automatically) plus a few system libraries.
import { existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && statSync(path).size > 0 && isElf(path)) out.push(path);
  }
}

/** Every ELF file under corpus/, sorted. */
export function corpusElfFiles(): string[] {
  const dir = join(REPO_ROOT, 'corpus');
  const out: string[] = [];
  if (existsSync(dir)) walk(dir, out);
  return out.sort();
}

export const SYSTEM_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
].filter((p) => existsSync(p));

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** A copy with the section header table dropped (e_shoff = e_shnum = e_shstrndx = 0), as sstrip does. */
export function withoutSectionHeaders(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  view.setBigUint64(40, 0n, true);
  view.setUint16(60, 0, true);
  view.setUint16(62, 0, true);
  return copy;
}
