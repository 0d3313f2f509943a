// --lookup: how the tool, as the patcher, finds the old function. dynsym (default) models
// dlsym(RTLD_DEFAULT): main must export it. symtab models an external ptrace-based patcher
// reading the symbol table: no export needed; a stripped main without the symbol is exit 2.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { tempDir } from '../loader/native.js';

const DIR = join(import.meta.dirname, '../../corpus/dlsym-default');
const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
const hasStrip = spawnSync('strip', ['--version']).status === 0;

async function verify(main: Uint8Array, ...options: string[]): Promise<CommandOutcome> {
  const request = parseCommandLine(['main-unexported', 'patch.so', 'need_fix_func', '--with', 'fix_func', ...options]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, main, bytes(join(DIR, 'patch.so')), 'wasm');
}
const codes = (o: CommandOutcome): string[] => o.result.findings.filter((f) => f.severity === 'error').map((f) => f.code);

describe('--lookup', () => {
  const unexported = bytes(join(DIR, 'main-unexported'));

  it('dynsym (the default): a main without -rdynamic is SYMBOL_NOT_EXPORTED', async () => {
    for (const o of [await verify(unexported), await verify(unexported, '--lookup', 'dynsym')]) {
      expect({ verdict: o.result.verdict, errors: codes(o) }).toEqual({ verdict: 'unsafe', errors: ['SYMBOL_NOT_EXPORTED'] });
    }
  });

  it('symtab: the same main is fine for a patcher that reads the symbol table', async () => {
    const o = await verify(unexported, '--lookup', 'symtab');
    expect({ verdict: o.result.verdict, errors: codes(o) }).toEqual({ verdict: 'safe', errors: [] });
  });

  it.skipIf(!hasStrip)('symtab on a stripped main without the symbol: exit 2 naming it', async () => {
    const dir = tempDir('lookup');
    const stripped = join(dir, 'main-stripped');
    copyFileSync(join(DIR, 'main-unexported'), stripped);
    execFileSync('strip', ['--strip-all', stripped]);
    const o = await verify(bytes(stripped), '--lookup', 'symtab');
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'error', exit: 2 });
    expect(o.result.error).toMatch(/function 'need_fix_func' not found .* stripped \(no \.symtab\) .*--lookup symtab/);
  });

  it('rejects other values, and --lookup with --signal (the program looks up for itself)', async () => {
    expect(() => parseCommandLine(['m', 'p', 's', '--lookup', 'plt'])).toThrow(/--lookup must be dynsym or symtab/);
    const o = await verify(unexported, '--lookup', 'symtab', '--signal', 'USR1');
    expect(o.result.error).toMatch(/--lookup models the tool as the patcher/);
  });
});
