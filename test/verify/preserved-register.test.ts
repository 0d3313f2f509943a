// CALLER_ASSUMES_PRESERVED_REGISTER end to end on the ipa-ra corpus main (gcc -O2 keeps
// rcx, r8-r11 live across next_state): a replacement that calls printf or writes one of them
// is an error with the evidence; one that leaves them intact is safe here as it is natively.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { compileShared, hasGcc, readBytes, tempDir } from '../loader/native.js';

const DIR = join(import.meta.dirname, '../../corpus/ipa-ra');
const main = new Uint8Array(readFileSync(join(DIR, 'main')));

async function verify(patch: Uint8Array, replacement: string): Promise<CommandOutcome> {
  const request = parseCommandLine(['main', 'patch.so', 'next_state', '--with', replacement]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, main, patch, 'wasm');
}
const errors = (o: CommandOutcome): string[] => o.result.findings.filter((f) => f.severity === 'error').map((f) => f.code);

describe('CALLER_ASSUMES_PRESERVED_REGISTER', () => {
  it('names the register, the call site, the later read, the clobbering instruction and the fix', async () => {
    const o = await verify(new Uint8Array(readFileSync(join(DIR, 'patch.so'))), 'fix_next_state');
    const f = o.result.findings.find((x) => x.code === 'CALLER_ASSUMES_PRESERVED_REGISTER')!;
    expect(f.message).toMatch(/run_machine keeps rcx, r8, r9, r10, r11 live across its call of next_state/);
    expect(f.evidence[0]).toMatchObject({ label: 'call site', location: 'run_machine+0x24' });
    expect(f.evidence.find((e) => e.label.startsWith('later read of r8'))!.text).toBe('mov dword ptr [r8], eax');
    expect(f.evidence.find((e) => /calls a function/.test(e.label))!.text).toMatch(/^call (__)?printf(_chk)?@plt$/);
    expect(f.hint).toContain('-fno-ipa-ra');
  });

  const dir = hasGcc ? tempDir('preserved') : '';
  it.skipIf(!hasGcc)('a replacement that writes only rax (and rdx, as the old one) and calls nothing is safe', async () => {
    const so = compileShared(dir, 'quiet', 'int quiet_next_state(int s, int in) { return (s * 7 + in) & 15; }', ['-O2']);
    const o = await verify(readBytes(so), 'quiet_next_state');
    expect({ verdict: o.result.verdict, errors: errors(o) }).toEqual({ verdict: 'safe', errors: [] });
  });

  it.skipIf(!hasGcc)('a replacement that uses r8 as a scratch register, without any call, is flagged statically', async () => {
    const so = compileShared(dir, 'scratch', `
      int scratch_next_state(int s, int in) {
        long r;
        __asm__("lea (%%rdi,%%rsi), %%r8\\n\\tmov %%r8, %0" : "=r"(r) : : "r8");
        return (int)(r & 15);
      }`, ['-O2']);
    const o = await verify(readBytes(so), 'scratch_next_state');
    expect(errors(o)).toContain('CALLER_ASSUMES_PRESERVED_REGISTER');
    const f = o.result.findings.find((x) => x.code === 'CALLER_ASSUMES_PRESERVED_REGISTER')!;
    expect(f.message).toMatch(/keeps r8 live .* writes r8/);
  });
});
