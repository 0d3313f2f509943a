// Verifying a patch of a threaded program (system model): with the world stopped at the patch
// point every thread is checked, and the finding names each thread inside the bytes with its
// id, name and call chain; a --seed replays the same report byte for byte and the report names it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildVfs } from '../../src/cli/sysroot.js';
import { parseCommandLine, runCommand } from '../../src/verify/command.js';

const DIR = join(import.meta.dirname, '../../corpus/thread-pool');
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

async function verify(args: string[]) {
  const request = parseCommandLine([...args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, bytes(request.command.mainPath), bytes(request.command.patchPath), 'wasm', undefined, { process: { model: 'system', vfs: () => buildVfs('/', []) } });
}

describe('verify on threads', () => {
  it('names every worker blocked in a call from the first bytes, with its name and call chain', async () => {
    const out = await verify(['main-blocking', 'patch.so', 'serve', '--with', 'fix_serve']);
    expect(out.exitCode).toBe(1);
    const live = out.result.findings.find((f) => f.code === 'LIVE_INSTRUCTION_CLOBBERED')!;
    expect(live.message).toMatch(/every thread stopped\) threads 4243, 4244, 4245 were inside the overwritten bytes/);
    const labels = (live.evidence ?? []).map((e) => e.label);
    for (const name of ['pool-0', 'pool-1', 'pool-2']) expect(labels.some((l) => l.includes(`(${name}): return address on`))).toBe(true);
    const chain = (live.evidence ?? []).find((e) => e.label.endsWith('call chain'))!;
    expect(chain.text).toMatch(/^nanosleep\+0x[0-9a-f]+ .* <- usleep\+0x[0-9a-f]+ .* <- wait_job\+0x12 .* <- serve\+0xa .* <- worker\+0x[0-9a-f]+/);
    expect(out.result.run?.process?.threads).toMatchObject({ seed: '1', threads: 4 });
  }, 120_000);

  it('replays a seed byte for byte and names it; --seed must be a number', async () => {
    const a = await verify(['main-parked', 'patch.so', 'score', '--signal', 'USR1', '--seed', '5']);
    const b = await verify(['main-parked', 'patch.so', 'score', '--signal', 'USR1', '--seed', '5']);
    expect(a.exitCode).toBe(0);
    expect(b.report).toBe(a.report);
    expect(a.report).toContain('schedule seed 5 (--seed 5 replays it)');
    expect(() => parseCommandLine(['m', 'p', 's', '--seed', 'x'])).toThrow("--seed wants a whole number below 2^64, not 'x'");
  }, 120_000);
});
