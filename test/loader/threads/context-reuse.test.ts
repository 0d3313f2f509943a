// A thread switch saves the running thread into the context it was switched in from (no
// allocation). A snapshot's saved threads must not be among those: restoring a snapshot taken
// mid-run and running on gives exactly the run that followed the snapshot, many switches later,
// on both engines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';
import { engineAvailability } from '../../engine/gen/engines.js';

const GUEST = new Uint8Array(readFileSync(new URL('./fixtures/interleave', import.meta.url)));
const unicorn = await engineAvailability('unicorn');

describe('thread contexts reused across switches', () => {
  for (const kind of ['wasm', 'unicorn'] as const) {
    it.skipIf(kind === 'unicorn' && unicorn.unavailable !== undefined)(`a snapshot taken mid-run replays the same schedule and output (${kind})`, async () => {
      const engine = await createEngine(kind);
      try {
        const p = SystemProcess.create(engine, { vfs: buildVfs('/', [{ guest: 'interleave', bytes: GUEST }]), executable: './interleave', cwd: GUEST_CWD, quantum: 1000 });
        // Into the threaded part: past start-up and every pthread_create.
        expect(p.run({ maxInstructions: 300_000 }).reason).toBe('budget');
        expect(p.threads.live.length).toBe(4);
        const snapshot = p.snapshot();
        const switchesAtSnapshot = p.threads.switches;
        const first = [p.run({ maxInstructions: 50_000_000 }).reason, p.instructions, p.threads.switches, p.stdoutText(1)];
        expect(first[0]).toBe('exited');
        expect(p.threads.switches - switchesAtSnapshot).toBeGreaterThan(50);
        p.restore(snapshot);
        const second = [p.run({ maxInstructions: 50_000_000 }).reason, p.instructions, p.threads.switches, p.stdoutText(1)];
        expect(second).toEqual(first);
      } finally {
        engine.close();
      }
    }, 120_000);
  }
});
