// The corpus on the system process model: every case of every scenario's expect.json,
// verified with the real ld.so, glibc and libstdc++ of this machine's root (--process system),
// must give the expected verdict, exit code and error/warning codes, as on the stubs model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVfs } from '../../src/cli/sysroot.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { corpusCases, type ResolvedCase } from './cases.js';

const cases = corpusCases();
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

async function verifyOnSystem(c: ResolvedCase): Promise<CommandOutcome> {
  const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error(`case ${c.name}: not a verify command`);
  return runCommand(request.command, bytes(c.mainPath), bytes(c.patchPath), 'wasm', { process: { model: 'system', vfs: () => buildVfs('/', []) } });
}

function pinnedCodes(outcome: CommandOutcome): string[] {
  return outcome.result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}:${f.severity}`).sort();
}

describe('corpus on the system model (real ld.so and glibc from /)', () => {
  for (const c of cases) {
    it(`${c.scenario}/${c.name}`, async () => {
      const outcome = await verifyOnSystem(c);
      expect(outcome.result.error ?? '', 'error message').toContain(c.messageContains ?? '');
      expect({ verdict: outcome.result.verdict, exitCode: outcome.exitCode, findings: pinnedCodes(outcome) }).toEqual({
        verdict: c.verdict,
        exitCode: c.exitCode,
        findings: c.findings.map((f) => `${f.code}:${f.severity}`).sort(),
      });
      if (c.exitCode !== 2) {
        expect(outcome.result.run?.process?.model).toBe('system');
        expect(outcome.result.run?.process?.libc).toMatch(/^glibc \d+\.\d+/);
      }
    }, 60_000);
  }
});
