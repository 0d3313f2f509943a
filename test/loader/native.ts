// Helpers for tests that compare the sandbox with the real machine: compile C with gcc
// into a temporary directory and run it. Tests skip themselves where gcc is missing.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasGcc = spawnSync('gcc', ['--version']).status === 0;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `psb-${prefix}-`));
}

/** Compiles `source` (C) with gcc and the given flags; returns the output path. */
export function compileC(dir: string, name: string, source: string, flags: string[]): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const out = join(dir, name);
  execFileSync('gcc', [src, '-o', out, ...flags], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

export function runNative(exe: string, args: string[], cwd: string): { stdout: string; status: number | null } {
  const r = spawnSync(exe, args, { cwd, encoding: 'utf8' });
  return { stdout: r.stdout, status: r.status };
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Compiles `source` (C) into the shared object `<name>.so` in `dir`; returns its path. */
export function compileShared(dir: string, name: string, source: string, flags: string[] = []): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const out = join(dir, `${name}.so`);
  execFileSync('gcc', ['-shared', '-fpic', '-O1', src, '-o', out, ...flags], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

/** Runs `exe` natively; `signal` names the signal that killed it ("SIGABRT"), if one did. */
export function runNativeFull(exe: string, args: string[], cwd: string): { stdout: string; stderr: string; status: number | null; signal: string | null } {
  const r = spawnSync(exe, args, { cwd, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

/** Compiles `source` (C++) with g++ into the shared object `<name>.so` in `dir`; returns its path. */
export function compileSharedCxx(dir: string, name: string, source: string, flags: string[] = []): string {
  const src = join(dir, `${name}.cpp`);
  writeFileSync(src, source);
  const out = join(dir, `${name}.so`);
  execFileSync('g++', ['-shared', '-fpic', '-O1', src, '-o', out, ...flags], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

export const hasGxx = spawnSync('g++', ['--version']).status === 0;
