// A variadic target end to end (test/verify/fixtures/variadic): the trampoline must leave al,
// the caller's count of vector registers, for the replacement's va_start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';

const DIR = join(import.meta.dirname, 'fixtures/variadic');
const main = new Uint8Array(readFileSync(join(DIR, 'main')));
const patch = new Uint8Array(readFileSync(join(DIR, 'patch.so')));

async function verifyWith(trampoline: string): Promise<CommandOutcome> {
  const request = parseCommandLine(['main', 'patch.so', 'sum_doubles', '--with', 'sum_doubles_fixed', '--trampoline', trampoline]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, main, patch, 'wasm');
}

describe('variadic target', () => {
  it('abs-rax overwrites al: REGISTER_CLOBBERED from the bytes and from the run (al 2 at the old entry)', async () => {
    const o = await verifyWith('abs-rax');
    expect(o.result.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual(['REGISTER_CLOBBERED']);
    const [finding] = o.result.findings;
    expect(finding!.message).toContain('rax holds al');
    expect(finding!.evidence.find((e) => e.label.startsWith('al '))!.text).toMatch(/^2 at sum_doubles's entry, \d+ at sum_doubles_fixed's entry$/);
  });
  for (const trampoline of ['movabs r11, {target}; jmp r11', 'abs-indirect']) {
    it(`${trampoline} leaves al alone: safe, and the replacement's sums are printed`, async () => {
      const o = await verifyWith(trampoline);
      expect(o.result.verdict).toBe('safe');
      expect(o.result.run!.output.map((l) => l.text)).toContain('sum 104');
    });
  }
});
