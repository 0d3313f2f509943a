// Verifying a patch of a threaded program (system model): with the world stopped at the patch
// point every thread is checked, and the findings name each thread inside the bytes with its
// id, name and call chain (its stack walked with the .eh_frame rules); program-driven, a worker
// fetching the bytes while the handler stores them one by one is TORN_WRITE with the bytes it
// saw; --schedules replays the run from the patch point with seeds S..S+N-1 and names the first
// failing one with the command that replays it alone; a seed replays byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildVfs } from '../../src/cli/sysroot.js';
import { parseCommandLine, runCommand } from '../../src/verify/command.js';
import { validate } from '../helpers/json-schema.js';

const DIR = join(import.meta.dirname, '../../corpus/thread-pool');
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

async function verify(args: string[]) {
  const request = parseCommandLine([...args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, bytes(request.command.mainPath), bytes(request.command.patchPath), 'wasm', undefined, { process: { model: 'system', vfs: () => buildVfs('/', []) } });
}

describe('verify on threads', () => {
  it('names the worker stopped in a call from the first bytes, with its name and its unwound call chain', async () => {
    const out = await verify(['main-blocking', 'patch.so', 'serve', '--with', 'fix_serve', '--schedules', '1']);
    expect(out.exitCode).toBe(1);
    const live = out.result.findings.find((f) => f.code === 'LIVE_INSTRUCTION_CLOBBERED')!;
    expect(live.message).toMatch(/every thread stopped\) thread 4243 was inside the overwritten bytes/);
    const ret = out.result.findings.filter((f) => f.code === 'RETURN_ADDRESS_IN_PATCHED_BYTES');
    expect(ret).toHaveLength(1); // the static call and the thread stopped in it: one finding
    const evidence = ret[0]!.evidence;
    const frame = evidence.find((e) => e.label === 'thread 4243 (pool-0): frame 1 returns to')!;
    expect(frame.location).toMatch(/^serve\+0xa/);
    expect(frame.text).toContain('found by the .eh_frame unwind');
    const chain = evidence.find((e) => e.label === 'thread 4243 (pool-0): call chain')!;
    expect(chain.text).toMatch(/^wait_job\+0xd .* <- serve\+0xa .* <- worker\+0x[0-9a-f]+/);
    expect(out.result.run?.process?.threads).toMatchObject({ seed: '1', threads: 4 });
  }, 120_000);

  it('TORN_WRITE: a busy worker fetched score half written by the byte-loop handler', async () => {
    const out = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--schedules', '1']);
    expect(out.exitCode).toBe(1);
    const torn = out.result.findings.find((f) => f.code === 'TORN_WRITE')!;
    expect(torn.message).toMatch(/^thread 424[3-5] \(pool-[0-2]\).* fetched .* at score\+0x0 .* while thread 4242 \(main\) was writing the 12 bytes there \(12 stores\)/);
    const labels = torn.evidence.map((e) => e.label);
    expect(labels).toEqual(expect.arrayContaining([expect.stringMatching(/^thread 424[3-5] \(pool-[0-2]\) fetched$/), 'thread 4242 (main) was writing', 'the bytes it saw ([old])', 'which decode as']));
    const seen = torn.evidence.find((e) => e.label === 'the bytes it saw ([old])')!.text!;
    // Some bytes new (the trampoline's 48 b8 first), some old (in brackets).
    expect(seen).toMatch(/^48 b8 .*\[[0-9a-f]{2}\]$/);
    const writer = torn.evidence.find((e) => e.label === 'thread 4242 (main) was writing')!;
    expect(writer.location).toMatch(/^hotfix_apply\+0x/);
    expect(torn.evidence.find((e) => e.label === 'which decode as')!.text).toMatch(/^mov rax, 0x/);
  }, 120_000);

  it('--schedules replays from the patch point, counts the failing ones and names the first with its replay command', async () => {
    const out = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--seed', '3', '--schedules', '4', '--format', 'json']);
    const schedules = out.result.run?.schedules;
    expect(schedules).toMatchObject({ tried: 4, seeds: '3..6' });
    expect(schedules!.failed).toBeGreaterThan(0);
    expect(schedules!.replay).toBe(`verify-patch main-torn patch.so score --signal USR1 --process system --seed ${schedules!.firstFailingSeed} --schedules 1`);
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../schema/report.schema.json'), 'utf8')) as Record<string, unknown>;
    expect(validate(schema, JSON.parse(out.report))).toEqual([]);
    // The same seed gives a byte-identical report.
    const again = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--seed', '3', '--schedules', '4', '--format', 'json']);
    expect(again.report).toBe(out.report);
    // The failing seed alone fails again.
    const alone = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--seed', schedules!.firstFailingSeed!, '--schedules', '1']);
    expect(alone.exitCode).toBe(1);
    expect(() => parseCommandLine(['m', 'p', 's', '--schedules', '0'])).toThrow("--schedules wants a number of schedules from 1 to 1024, not '0'");
  }, 300_000);

  it('a schedule that did not switch during the write is safe; the next seeds tear it and make the verdict unsafe', async () => {
    const alone = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--seed', '30', '--schedules', '1']);
    expect(alone.exitCode).toBe(0);
    const out = await verify(['main-torn', 'patch.so', 'score', '--signal', 'USR1', '--seed', '30', '--schedules', '3']);
    expect(out.exitCode).toBe(1);
    expect(out.result.run?.schedules).toMatchObject({ tried: 3, failed: 2, seeds: '30..32', firstFailingSeed: '31' });
    expect(out.result.run?.process?.threads?.seed).toBe('30'); // the report's run is the first schedule's
    const torn = out.result.findings.find((f) => f.code === 'TORN_WRITE')!;
    expect(torn.message).toMatch(/^in schedule 31 \(--seed 31 --schedules 1 replays it\): thread 424[3-5]/);
  }, 300_000);

  it('parked workers: every schedule safe; a seed replays byte for byte and names it; --seed must be a number', async () => {
    const a = await verify(['main-parked', 'patch.so', 'score', '--signal', 'USR1', '--seed', '5', '--schedules', '3']);
    const b = await verify(['main-parked', 'patch.so', 'score', '--signal', 'USR1', '--seed', '5', '--schedules', '3']);
    expect(a.exitCode).toBe(0);
    expect(b.report).toBe(a.report);
    expect(a.report).toContain('schedule seed 5 (--seed 5 replays it)');
    expect(a.report).toContain('schedules    3 replayed from the patch point (seeds 5..7), none failed');
    expect(() => parseCommandLine(['m', 'p', 's', '--seed', 'x'])).toThrow("--seed wants a whole number below 2^64, not 'x'");
  }, 300_000);
});
