// Blocking calls in threads (system model): read on an empty pipe, accept on a loopback
// listener, poll with and without a timeout block the calling thread only, and wake it when
// another thread writes or connects; a timeout passes on the virtual clock. Output equal to
// the native run's. With threads, time passes while they compute (a sleeper wakes).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

async function start(name: string, seed?: bigint) {
  const vfs = buildVfs('/', [{ guest: name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) }]);
  const engine = await createEngine('wasm');
  return SystemProcess.create(engine, { vfs, executable: `./${name}`, argv: [], envp: ['LC_ALL=C'], cwd: GUEST_CWD, ...(seed !== undefined ? { scheduleSeed: seed } : {}) });
}

describe('blocking calls in threads', () => {
  for (const seed of [1n, 7n]) {
    it(`read, accept and poll block the caller until another thread makes them ready (seed ${seed})`, async () => {
      const p = await start('blocking', seed);
      const stop = p.run({ maxInstructions: 50_000_000 });
      const native = spawnSync('./blocking', [], { cwd: FIXTURES, encoding: 'utf8', timeout: 10_000 });
      expect(stop).toMatchObject({ reason: 'exited', status: 0 });
      expect(p.stdoutText(1)).toBe(native.stdout);
      expect(p.stdoutText(1)).toContain('poll timed out 1');
    }, 120_000);
  }

  it('time passes with the instructions of the threads that run: a sleeper wakes while main spins', async () => {
    const p = await start('spin');
    const before = p.kernel.clock.now(1);
    const stop = p.run({ maxInstructions: 50_000_000 });
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText(1)).toBe('woke after spinning: 1\n');
    // usleep(1000): at least 1 ms of virtual time, spent by main's spinning (100 ns an instruction).
    expect(p.kernel.clock.now(1) - before).toBeGreaterThanOrEqual(1_000_000n);
    expect(p.instructions).toBeGreaterThan(10_000);
  }, 120_000);
});
