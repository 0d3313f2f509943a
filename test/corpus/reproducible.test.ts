// corpus/build.sh rebuilds the committed binaries byte for byte, when the
// compiler at hand is the one BUILDINFO records.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import { CORPUS_DIR, REAL_CORPUS_DIR, scenarioDirs } from './cases.js';

function recordedCompiler(): string {
  const line = readFileSync(join(CORPUS_DIR, 'BUILDINFO'), 'utf8')
    .split('\n')
    .find((text) => text.startsWith('gcc: '));
  return line ? line.slice('gcc: '.length) : '(none recorded)';
}

function installedCompiler(): string {
  const run = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.split('\n')[0] ?? '' : '(no gcc)';
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, join(prefix, name)) : [join(prefix, name)];
  });
}

const recorded = recordedCompiler();
const installed = installedCompiler();
const sameCompiler = recorded === installed;

describe('corpus build', () => {
  it.skipIf(!sameCompiler)(
    sameCompiler
      ? `build.sh --out reproduces the committed files (${recorded})`
      : `skipped: binaries were built with "${recorded}", this machine has "${installed}"`,
    () => {
      const out = mkdtempSync(join(tmpdir(), 'corpus-rebuild-'));
      try {
        // corpus/real compiles Lua and TinyXML2: minutes on a busy 2-core machine.
        execFileSync('bash', [join(CORPUS_DIR, 'build.sh'), '--out', out], { stdio: 'pipe', timeout: 600_000 });
        const rebuilt = filesUnder(out);
        // Every scenario produced something, and every produced file equals the committed one.
        for (const dir of [...scenarioDirs(), ...scenarioDirs(REAL_CORPUS_DIR)])
          expect(rebuilt.some((file) => file.startsWith(`${relative(CORPUS_DIR, dir)}/`))).toBe(true);
        expect(rebuilt).toContain('BUILDINFO');
        const differing = rebuilt.filter((file) => !readFileSync(join(out, file)).equals(readFileSync(join(CORPUS_DIR, file))));
        expect(differing).toEqual([]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    660_000,
  );
});
