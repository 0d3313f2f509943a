// The default patch point: at main's sleep call, whether main calls usleep through
// its PLT entry or (-fno-plt) through `call [rip+GOT]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeImageFromElf } from '../../src/analysis/from-elf.js';
import { CodeMap } from '../../src/analysis/index.js';
import { ElfFile } from '../../src/elf/index.js';
import { sleepCalls } from '../../src/verify/dynamic/patch-point.js';
import { parseCommandLine, runCommand } from '../../src/verify/command.js';

const ROOT = join(import.meta.dirname, '../..');
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, path)));
const NO_PLT = 'test/verify/fixtures/no-plt';

function entriesOf(path: string): ReturnType<typeof sleepCalls> {
  const elf = ElfFile.parse(bytes(path));
  return sleepCalls(elf, CodeMap.build(codeImageFromElf(elf)), 0n);
}

describe('sleep entries', () => {
  it('PLT build: the call of usleep@plt (seed-classic: call 0x1100 at 0x1167)', () => {
    expect(entriesOf('corpus/seed-classic/main')).toEqual([{ address: 0x1167n, symbol: 'usleep', via: 'plt' }]);
  });
  it('-fno-plt build: the call [rip+GOT] to usleep itself (ff 15 at 0x1090), not the other libc calls', () => {
    expect(entriesOf(`${NO_PLT}/main`)).toEqual([{ address: 0x1090n, symbol: 'usleep', via: 'got' }]);
  });
});

describe('the default patch point of a -fno-plt build', () => {
  for (const args of [[], ['--signal', 'USR1']]) {
    it(`is at the usleep call and verifies safe (${args.length ? 'program' : 'tool'}-driven)`, async () => {
      const request = parseCommandLine(['main', 'patch.so', 'need_fix_func', ...args]);
      if (request.kind !== 'verify') throw new Error('not a verify command');
      const outcome = await runCommand(request.command, bytes(`${NO_PLT}/main`), bytes(`${NO_PLT}/patch.so`), 'wasm');
      expect(outcome.result.verdict).toBe('safe');
      expect(outcome.result.run!.ended).toContain('patch point: at the usleep call at main+0x');
      expect(outcome.result.run!.output.map((l) => l.text)).toContain('after fix cur times 1');
    });
  }
});
