// The system model's snapshot/restore brings back the whole kernel state, not only memory and
// registers: a guest stopped at a checkpoint, run on (reading its files, socket and pipe, then
// changing them), restored and run on again sees exactly what it saw the first time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** checkpoint's offset in the fixture (nm: the oracle for the symbol table). */
function checkpointOffset(): bigint {
  const line = execFileSync('nm', [join(FIXTURES, 'state')], { encoding: 'utf8' }).split('\n').find((l) => / T checkpoint$/.test(l));
  if (!line) throw new Error('no checkpoint symbol in the state fixture');
  return BigInt(`0x${line.split(' ')[0]}`);
}

describe('system model: snapshot and restore of the kernel state', () => {
  it('a restore undoes overlay writes, renames, unlinks, mkdir, socket and pipe bytes, offsets and the clock', async () => {
    const vfs = buildVfs('/', [{ guest: 'state', bytes: new Uint8Array(readFileSync(join(FIXTURES, 'state'))) }]);
    const process = SystemProcess.create(await createEngine('wasm'), { vfs, executable: './state', argv: [], envp: ['LC_ALL=C'], cwd: GUEST_CWD });
    const checkpoint = process.executable.base + checkpointOffset();
    const atCheckpoint = process.run({ maxInstructions: 50_000_000, stopAtCallOf: [checkpoint] });
    expect(atCheckpoint.reason).toBe('call');
    const before = process.stdoutText(1);
    const snapshot = process.snapshot();

    const first = process.run({ maxInstructions: 50_000_000 });
    expect(first).toMatchObject({ reason: 'exited', status: 0 });
    const firstOut = process.stdoutText(1).slice(before.length);
    expect(firstOut).toContain('log: first;\n');
    expect(firstOut).toContain('socket: ping;pong;\n');
    expect(firstOut).toContain('pipe: pipe;more;\n');
    expect(firstOut).toContain('renamed exists: 0, doomed exists: 1\n');
    expect(firstOut).toContain('mkdir: 0\n');
    // The run changed the overlay: /tmp/log became /tmp/renamed with both writes, /tmp/doomed is gone, /tmp/made exists.
    const renamed = vfs.resolve('/tmp/renamed', '/').node;
    expect(renamed.kind === 'file' && new TextDecoder().decode(vfs.contents(renamed))).toBe('first;second;');
    expect(() => vfs.resolve('/tmp/doomed', '/')).toThrow(/no such file/);

    process.restore(snapshot);
    expect(process.stdoutText(1)).toBe(before);
    expect(() => vfs.resolve('/tmp/renamed', '/')).toThrow(/no such file/);
    const log = vfs.resolve('/tmp/log', '/').node;
    expect(log.kind === 'file' && new TextDecoder().decode(vfs.contents(log))).toBe('first;');
    expect(vfs.resolve('/tmp/doomed', '/').node.kind).toBe('file');
    expect(() => vfs.resolve('/tmp/made', '/')).toThrow(/no such file/);

    const second = process.run({ maxInstructions: 50_000_000 });
    expect(second).toMatchObject({ reason: 'exited', status: 0 });
    expect(process.stdoutText(1).slice(before.length)).toBe(firstOut);

    // Restored twice: the snapshot is not consumed by a restore, nor changed by the runs after it.
    process.restore(snapshot);
    process.run({ maxInstructions: 50_000_000 });
    expect(process.stdoutText(1).slice(before.length)).toBe(firstOut);
  }, 120_000);
});
