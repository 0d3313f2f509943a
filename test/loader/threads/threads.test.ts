// Emulated threads on the system model: real glibc pthread_create/mutex/condvar/join/TLS over
// clone, futex and the seeded one-CPU scheduler. Output equal to the native run's where the
// program's output does not depend on the interleaving; a seed replays byte for byte; other
// seeds interleave differently; a deadlock stops with every thread's wait named.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const ENV = ['LC_ALL=C'];

async function start(name: string, seed?: bigint) {
  const vfs = buildVfs('/', [{ guest: name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) }]);
  const engine = await createEngine('wasm');
  return SystemProcess.create(engine, { vfs, executable: `./${name}`, argv: [], envp: ENV, cwd: GUEST_CWD, ...(seed !== undefined ? { scheduleSeed: seed } : {}) });
}

function native(name: string): { stdout: string; status: number | null } {
  const r = spawnSync(`./${name}`, [], { cwd: FIXTURES, env: Object.fromEntries(ENV.map((e) => e.split('='))), encoding: 'utf8', timeout: 10_000 });
  return { stdout: r.stdout, status: r.status };
}

describe('threads on the system model', () => {
  it('runs a pthread worker pool (mutex, condvar, join, TLS, names, timed wait, tgkill to a thread, pthread_exit) with the native stdout', async () => {
    const p = await start('pool');
    const stop = p.run({ maxInstructions: 100_000_000 });
    const n = native('pool');
    expect(stop).toMatchObject({ reason: 'exited', status: n.status });
    expect(p.stdoutText(1)).toBe(n.stdout);
    const names = p.threads.threads.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['worker-0', 'worker-1', 'worker-2', 'worker-3']));
    expect(p.threads.threads.filter((t) => t.name.startsWith('worker')).every((t) => t.state === 'exited')).toBe(true);
    expect(p.threads.threads[0]!.tid).toBe(p.kernel.pid);
    expect(p.threads.switches).toBeGreaterThan(10);
  });

  it('replays a seed byte for byte: output with times, instruction counts, switches, per-thread counts', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const p = await start('pool', 7n);
      const stop = p.run({ maxInstructions: 100_000_000 });
      runs.push({ stop, out: p.output.map((c) => `${c.at}:${c.text}`), switches: p.threads.switches, per: p.threads.threads.map((t) => t.instructions) });
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  it('interleaves differently under different seeds where the program allows it', async () => {
    const logs = new Set<string>();
    for (const seed of [1n, 2n, 3n, 4n]) {
      const p = await start('interleave', seed);
      expect(p.run({ maxInstructions: 100_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
      const log = p.stdoutText(1).trim();
      expect([...log].sort().join('')).toBe('a'.repeat(8) + 'b'.repeat(8) + 'c'.repeat(8));
      logs.add(log);
    }
    expect(logs.size).toBeGreaterThan(1);
  });

  it('replays from a snapshot taken with threads running to the same end', async () => {
    const p = await start('pool', 3n);
    p.run({ maxInstructions: 600_000 });
    expect(p.threads.live.length).toBeGreaterThan(1);
    const snap = p.snapshot();
    const first = p.run({ maxInstructions: 100_000_000 });
    const out = p.stdoutText(1);
    p.restore(snap);
    const second = p.run({ maxInstructions: 100_000_000 });
    expect(second).toEqual(first);
    expect(p.stdoutText(1)).toBe(out);
    expect(out).toBe(native('pool').stdout);
  });

  it('stops on a deadlock naming every thread and its futex', async () => {
    const p = await start('deadlock');
    const stop = p.run({ maxInstructions: 100_000_000 });
    expect(p.stdoutText(1)).toBe('locked\n');
    expect(stop.reason).toBe('error');
    if (stop.reason !== 'error') return;
    expect(stop.error.message).toMatch(/every thread is blocked and nothing can wake them \(a deadlock in the program\): thread 4242 \(main\) waits on futex 0x[0-9a-f]+; thread 4243 \(main\) waits on futex 0x[0-9a-f]+/);
  });
});
