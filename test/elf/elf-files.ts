// The ELF files the differential and fuzz tests run on: every ELF under corpus/ (found at
// test time, so new scenarios are covered automatically) plus a few system libraries.
import { existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

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

/**
 * Shapes the corpus does not have, built with gcc at test time: a shared object with packed
 * relative relocations (DT_RELR) and a C++ object with symbol versions defined by a script.
 */
export function buildExtraElfFiles(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'elf-extra-'));
  writeFileSync(join(dir, 'relr.c'), 'int a = 1, b = 2; int *table[] = {&a, &b, &a}; int *get(int i) { return table[i]; }\n');
  writeFileSync(
    join(dir, 'versioned.cc'),
    'namespace ns { struct Foo { int bar(int); virtual ~Foo(); }; int Foo::bar(int x) { return x + 1; } Foo::~Foo() {} }\n' +
      'extern "C" int old_api(void) { return 1; } extern "C" int new_api(void) { return 2; }\n' +
      '__asm__(".symver old_api,api@V1"); __asm__(".symver new_api,api@@V2");\n',
  );
  writeFileSync(join(dir, 'versions.map'), 'V1 { global: api; extern "C++" { ns::*; }; local: *; }; V2 { global: api; } V1;\n');
  const built: string[] = [];
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-Wl,-z,pack-relative-relocs', join(dir, 'relr.c'), '-o', join(dir, 'relr.so')]);
    built.push(join(dir, 'relr.so'));
    execFileSync('g++', ['-shared', '-fPIC', '-O2', `-Wl,--version-script=${join(dir, 'versions.map')}`, join(dir, 'versioned.cc'), '-o', join(dir, 'versioned.so')]);
    built.push(join(dir, 'versioned.so'));
  } catch {
    // No compiler: the corpus and system libraries still cover the reader.
  }
  return built;
}
