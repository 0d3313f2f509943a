// The whole-pipeline fuzzer (scripts/fuzz/fuzzer.ts) with a fixed seed: mutated corpus ELF
// files and options through the command core, in process. No case may throw anything but a
// layer error, print a multi-line error or outlive twice its --timeout. More cases:
// FUZZ_COUNT=100000 npx vitest run test/fuzz, or `npm run fuzz` (README).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initDemangler } from '../../src/elf/index.js';
import { runFuzz } from '../../scripts/fuzz/fuzzer.js';
import { REPO_ROOT } from '../elf/elf-files.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const COUNT = Number(process.env.FUZZ_COUNT ?? 1000);

describe('verify-patch fuzzer', () => {
  beforeAll(async () => {
    await initDemangler();
  });

  it(`seed ${SEED}: ${COUNT} mutated cases end safe, unsafe or in one line of a layer error`, async () => {
    const report = await runFuzz({ seed: SEED, count: COUNT, root: join(REPO_ROOT), caseTimeoutSeconds: 10 });
    const bugs = report.bugs.map((b) => `${b.outcome} (replay: npm run fuzz -- --replay ${b.seed}): ${b.description}: ${b.message ?? ''}`);
    expect(bugs).toEqual([]);
    expect(report.cases).toBe(COUNT);
    // The mutations reach every stage: parse errors, run outcomes and verdicts all occur.
    const kinds = Object.keys(report.outcomes);
    expect(kinds.some((k) => k === 'safe' || k === 'unsafe')).toBe(true);
    expect(kinds.filter((k) => k.startsWith('error')).length).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
