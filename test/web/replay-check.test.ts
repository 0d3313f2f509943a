// The page's replay (web/src/worker/replay.ts) run in Node against the verifier's result: it
// reproduces the run, and its check notices a run that is not the verifier's (so a diverging
// replay would show a note instead of a trace, not pass silently).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initDemangler } from '../../src/elf/index.js';
import type { VerifyResult } from '../../src/verify/result.js';
import { verifyPatch } from '../../src/verify/verify.js';
import type { VerifyRequest } from '../../web/src/protocol.js';
import { replay } from '../../web/src/worker/replay.js';

const dir = join(new URL('../../', import.meta.url).pathname, 'corpus/seed-classic');

async function seedClassic(signal?: string): Promise<{ request: VerifyRequest; result: VerifyResult }> {
  const request: VerifyRequest = {
    main: readFileSync(join(dir, 'main')), mainName: 'main', patch: readFileSync(join(dir, 'patch.so')), patchName: 'patch.so',
    symbol: 'need_fix_func', trampoline: 'abs-rax', ...(signal ? { signal } : { replacement: 'fix_func' }),
  };
  await initDemangler();
  const result = await verifyPatch({
    main: request.main, mainName: request.mainName, patch: request.patch, patchName: request.patchName, symbol: request.symbol,
    ...(request.replacement ? { with: request.replacement } : {}), ...(signal ? { signal } : {}), engine: 'wasm',
  });
  return { request, result };
}

describe('replay check', () => {
  it('finds no difference when the replay is the verifier\'s run (tool- and program-driven)', async () => {
    for (const signal of [undefined, 'USR1']) {
      const { request, result } = await seedClassic(signal);
      expect(result.verdict).toBe('safe');
      const replayed = await replay(request, result, () => {});
      expect(replayed.check).toEqual({ compared: true, differences: [], outputLines: result.run!.output.length, instructions: result.run!.instructions });
      expect(replayed.trace?.steps.length).toBeGreaterThan(0);
    }
  });

  it('reports each way a run can differ', async () => {
    const { request, result } = await seedClassic();
    const run = result.run!;
    const differing = (change: (r: VerifyResult) => void): Promise<string[]> => {
      const copy: VerifyResult = { ...result, run: { ...run, output: run.output.map((l) => ({ ...l })) } };
      change(copy);
      return replay(request, copy, () => {}).then((r) => r.check.differences);
    };
    expect(await differing((r) => { r.run!.output[1]!.text += '!'; })).toEqual([expect.stringMatching(/^output line 2: /)]);
    expect(await differing((r) => { r.run!.instructions += 1; })).toEqual([expect.stringMatching(/ran 248 instructions, the verifier's run 249$/)]);
    expect(await differing((r) => { r.run!.endReason = 'the instruction budget ran out'; })).toEqual([expect.stringContaining('ended as "the program exited with status 0"')]);
    expect(await differing((r) => { r.programWrites = [{ address: r.trampoline!.site + 0x100n, length: 12, location: 'elsewhere', atTarget: false }]; }))
      .toEqual([expect.stringMatching(/^code written from the patch point on: /)]);
  });
});
