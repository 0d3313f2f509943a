// The corpus on the system process model: every case of every scenario's expect.json,
// verified with the real ld.so, glibc and libstdc++ of this machine's root (--process system),
// must give the expected verdict, exit code and error/warning codes, as on the stubs model.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { collectNeededLibraries } from '../../src/verify/libraries.js';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import { createEngine } from '../../src/engine/index.js';
import { SystemProcess } from '../../src/loader/system/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { REAL_CORPUS_DIR, corpusCases, type ResolvedCase } from './cases.js';

const cases = [...corpusCases(), ...corpusCases(REAL_CORPUS_DIR)];
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

async function verifyOnSystem(c: ResolvedCase): Promise<CommandOutcome> {
  const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error(`case ${c.name}: not a verify command`);
  // As the CLI builds it: main's directory is the working directory.
  // The libraries next to main, as the CLI collects them (the guest's ld.so also finds them through RUNPATH $ORIGIN).
  const main = bytes(c.mainPath);
  const libraries = collectNeededLibraries(main, (relative) => {
    const path = join(c.dir, relative);
    return statSync(path, { throwIfNoEntry: false })?.isFile() ? bytes(path) : undefined;
  });
  return runCommand(request.command, main, bytes(c.patchPath), 'wasm', libraries, { process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(c.dir)) } });
}

/**
 * Where the system model rightly differs from expect.json (written for the stubs model): with
 * `call rax` the replacement returns into the old function's bytes; natively (expect.json's
 * native block: no signal, "after fix cur times 2" twice) the program survives, and so it does
 * on the real glibc. The stubs model's CRASH_AFTER_PATCH comes from its libc stubs poisoning
 * caller-saved registers, which the real libc does not do here.
 */
const SYSTEM_MODEL_DROPS: Record<string, string[]> = {
  'call-trampoline/signal-handler-writes-call-rax': ['CRASH_AFTER_PATCH:error'],
  'call-trampoline/tool-writes-call-template': ['CRASH_AFTER_PATCH:error'],
};

function pinnedCodes(outcome: CommandOutcome): string[] {
  return outcome.result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}:${f.severity}`).sort();
}

describe('corpus (old and corpus/real) on the system model (real ld.so and glibc from /)', () => {
  for (const c of cases) {
    it(`${c.scenario}/${c.name}`, async () => {
      if (c.args.includes('--explore')) {
        // The windows of expect.json count the stubs model's instructions (the real ld.so and glibc
        // run far more): here the default point's verdict; test/verify/explore-system.test.ts explores.
        const explore = c.args.indexOf('--explore');
        const plain = { ...c, args: c.args.filter((a, i) => i !== explore && !(i === explore + 1 && /^\d/.test(a))) };
        const outcome = await verifyOnSystem(plain);
        expect(outcome.result.verdict).toBe(c.exploration!.defaultPointVerdict);
        return;
      }
      const outcome = await verifyOnSystem(c);
      expect(outcome.result.error ?? '', 'error message').toContain(c.messageContains ?? '');
      expect({ verdict: outcome.result.verdict, exitCode: outcome.exitCode, findings: pinnedCodes(outcome) }).toEqual({
        verdict: c.verdict,
        exitCode: c.exitCode,
        findings: c.findings.map((f) => `${f.code}:${f.severity}`).filter((f) => !(SYSTEM_MODEL_DROPS[`${c.scenario}/${c.name}`] ?? []).includes(f)).sort(),
      });
      if (SYSTEM_MODEL_DROPS[`${c.scenario}/${c.name}`]) expect(outcome.result.run?.endReason).toMatch(/exited with status 0/);
      // Every strategy runs on the model asked for (no silent switch to the stubs model).
      if (c.exitCode !== 2) {
        expect(outcome.result.run?.process?.model).toBe('system');
        expect(outcome.result.run?.process?.libc).toMatch(/^glibc \d+\.\d+/);
      }
    }, 60_000);
  }
});

describe('corpus/real on the system model prints what the program prints natively', () => {
  for (const c of corpusCases(REAL_CORPUS_DIR)) {
    if (!c.native) continue;
    const native = c.native;
    it(`${c.scenario}/${c.name}: ./main ${native.argv.join(' ')}`, async () => {
      const engine = await createEngine('wasm');
      try {
        const vfs = buildVfs('/', directoryFiles(c.dir));
        const process = SystemProcess.create(engine, { vfs, executable: `./${c.main}`, argv: native.argv, cwd: GUEST_CWD });
        const stop = process.run({ maxInstructions: 500_000_000 });
        const real = spawnSync(`./${c.main}`, native.argv, { cwd: c.dir, encoding: 'utf8', env: {}, timeout: 30_000 });
        expect(stop).toMatchObject({ reason: 'exited', status: real.status });
        expect(process.stdoutText(1)).toBe(real.stdout);
      } finally {
        engine.close();
      }
    }, 120_000);
  }
});
