// Every way a run can end after the patch point, and the answer each gets. SAFE is given only
// when the patched run got where it had to: a crash only the patched run has is
// CRASH_AFTER_PATCH; a crash the baseline has too, an unemulatable stop, or a budget that ends
// before the patched function ran again is "could not verify" (exit 2) saying why.
import { describe, expect, it } from 'vitest';
import type { ProcessStop } from '../../src/loader/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { classifyStop } from '../../src/verify/pipeline/judge.js';
import { compileC, compileShared, hasGcc, readBytes, tempDir } from '../loader/native.js';

const MAIN = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static volatile int calls;
__attribute__((noinline)) int work(int x) { calls++; if (calls > 100000000) return -x; return x * 3 + calls; }
int main(void) {
  for (int i = 0; i < ITER; i++) {
    printf("work %d\\n", work(i));
    usleep(1000);
#ifdef CRASH_AT
    if (i == CRASH_AT) *(volatile int *)0 = i;
#endif
  }
#ifdef SPIN
  for (;;) usleep(1000);
#endif
#ifdef STATUS
  return STATUS;
#endif
  return 0;
}
`;

const PATCHES: Record<string, string> = {
  ok: 'int work(int x) { return x + 2; }',
  segv: 'int work(int x) { if (x >= 2) *(volatile int *)(long)(x - 2) = x; return x + 2; }',
  exit3: '#include <stdlib.h>\nint work(int x) { if (x >= 2) exit(3); return x + 2; }',
  abort: '#include <stdlib.h>\nint work(int x) { if (x >= 2) abort(); return x + 2; }',
  sscanf: '#include <stdio.h>\nint work(int x) { int y = 0; sscanf("5", "%d", &y); return x + y; }',
};

const dir = hasGcc ? tempDir('endings') : '';
const built = new Map<string, Uint8Array>();
function main(defines: string[]): Uint8Array {
  const name = `main${defines.join('').replace(/[^A-Za-z0-9]/g, '_')}`;
  if (!built.has(name)) built.set(name, readBytes(compileC(dir, name, MAIN, ['-O2', '-rdynamic', ...defines.map((d) => `-D${d}`)])));
  return built.get(name)!;
}
function patch(kind: string): Uint8Array {
  if (!built.has(kind)) built.set(kind, readBytes(compileShared(dir, kind, PATCHES[kind]!)));
  return built.get(kind)!;
}

async function verify(mainBytes: Uint8Array, patchBytes: Uint8Array, ...options: string[]): Promise<CommandOutcome> {
  const request = parseCommandLine(['main', 'patch.so', 'work', ...options]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, mainBytes, patchBytes, 'wasm');
}
const errors = (o: CommandOutcome): string[] => o.result.findings.filter((f) => f.severity === 'error').map((f) => f.code);

describe.skipIf(!hasGcc)('how the run after the patch point ends decides what the verdict may be', () => {
  it('normal exit, the replacement ran: safe, with the baseline reported', async () => {
    const o = await verify(main(['ITER=6']), patch('ok'));
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'safe', exit: 0 });
    expect(o.result.baseline!.ended).toBe('the program exited with status 0');
    expect(o.result.baseline!.output.map((l) => l.text).at(-1)).toMatch(/^work \d+$/);
    // A fix is expected to change the output: shown, not an error.
    expect(o.result.baseline!.firstDifference).toMatch(/patched: "work \d+"; baseline: "work \d+"/);
  });

  it('SIGSEGV only in the patched run: CRASH_AFTER_PATCH with the faulting instruction in patch.so and the call chain', async () => {
    const o = await verify(main(['ITER=6']), patch('segv'));
    expect(o.result.verdict).toBe('unsafe');
    expect(errors(o)).toEqual(['CRASH_AFTER_PATCH']);
    const f = o.result.findings.find((x) => x.code === 'CRASH_AFTER_PATCH')!;
    expect(f.message).toMatch(/dies of SIGSEGV .* at work\+0x[0-9a-f]+ \(\.\/patch\.so\), where the unpatched run from the same point exited with status 0/);
    expect(f.evidence.find((e) => e.label === 'faulting instruction')!.location).toMatch(/\.\/patch\.so\+0x[0-9a-f]+/);
    // Unwound by patch.so's .eh_frame rules: the replacement's caller is main's loop.
    expect(f.evidence.find((e) => e.label === 'call chain #1')!.location).toMatch(/^main\+0x[0-9a-f]+ \(\.\/main\), \.\/main\+0x[0-9a-f]+$/);
    expect(f.evidence.find((e) => e.label.startsWith('first output difference'))!.text).toMatch(/patched: "work \d+"; baseline: "work \d+"/);
  });

  it('a nonzero exit the baseline does not have: CRASH_AFTER_PATCH', async () => {
    const o = await verify(main(['ITER=6']), patch('exit3'));
    expect({ verdict: o.result.verdict, errors: errors(o) }).toEqual({ verdict: 'unsafe', errors: ['CRASH_AFTER_PATCH'] });
    expect(o.result.findings[0]!.message).toContain('exits with status 3');
  });

  it('a nonzero exit status both runs end with is the program\'s own: the verdict stands', async () => {
    const o = await verify(main(['ITER=6', 'STATUS=4']), patch('ok'));
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'safe', exit: 0 });
    expect(o.result.baseline!.ended).toBe('the program exited with status 4');
  });

  it('abort() in the replacement: CRASH_AFTER_PATCH naming SIGABRT', async () => {
    const o = await verify(main(['ITER=6']), patch('abort'));
    expect({ verdict: o.result.verdict, errors: errors(o) }).toEqual({ verdict: 'unsafe', errors: ['CRASH_AFTER_PATCH'] });
    expect(o.result.findings[0]!.message).toContain('SIGABRT');
  });

  it('both runs crash the same way: could not verify, "crashes without the patch too", with where', async () => {
    const o = await verify(main(['ITER=6', 'CRASH_AT=3']), patch('ok'));
    expect({ verdict: o.result.verdict, exit: o.exitCode, findings: o.result.findings }).toEqual({ verdict: 'error', exit: 2, findings: [] });
    expect(o.result.error).toMatch(/crashes without the patch too: .* SIGSEGV at main\+0x[0-9a-f]+ .*as the patched run does/);
  });

  it('the patched run stops on an import the sandbox has no stub for: could not verify, naming it and how far it got', async () => {
    const o = await verify(main(['ITER=6']), patch('sscanf'));
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'error', exit: 2 });
    expect(o.result.error).toMatch(/stopped \d+ instructions after the patch point .* cannot emulate: .*__isoc99_sscanf/);
  });

  it('the budget ends after the replacement ran (a server that never exits): the verdict stands', async () => {
    const o = await verify(main(['ITER=1000000']), patch('ok'), '--max-insns', '20000');
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'safe', exit: 0 });
    expect(o.result.run!.endReason).toBe('the instruction budget ran out');
  });

  it('the budget ends before the patched function is called again: could not verify, with --max-insns / --patch-at advice', async () => {
    const o = await verify(main(['ITER=1', 'SPIN']), patch('ok'), '--max-insns', '20000');
    expect({ verdict: o.result.verdict, exit: o.exitCode }).toEqual({ verdict: 'error', exit: 2 });
    expect(o.result.error).toMatch(/was not called again within the budget.*--max-insns.*--patch-at/);
  });
});

describe('what a SIGILL means', () => {
  const killed = (bytes: number[]): ProcessStop => ({
    reason: 'killed', signo: 4, instructions: 10, detail: 'SIGILL',
    fault: { signo: 4, signal: 'SIGILL', address: 0x1000n, rip: 0x1000n, instructionBytes: Uint8Array.from(bytes), location: 'f+0x0', backtrace: [], message: 'SIGILL' },
  });
  it('a valid instruction the emulator lacks is an unsupported stop, never a crash the program has', () => {
    // 0f c7 f0  rdrand eax
    const e = classifyStop(killed([0x0f, 0xc7, 0xf0]));
    expect(e.kind).toBe('unsupported');
    expect(e.unsupported).toContain('rdrand');
  });
  it('ud2 (and undecodable bytes) are the program\'s own SIGILL', () => {
    // 0f 0b  ud2
    expect(classifyStop(killed([0x0f, 0x0b])).kind).toBe('crashed');
    expect(classifyStop(killed([0x06])).kind).toBe('crashed'); // push es: invalid in 64-bit mode
  });
  it('a LoaderError stop (missing stub, unsupported syscall) is unsupported; the budget is its own ending', () => {
    expect(classifyStop({ reason: 'budget', instructions: 5 }).kind).toBe('budget');
    expect(classifyStop({ reason: 'exited', status: 0, instructions: 5 }).kind).toBe('exited');
  });
});
