// The main thread's stack as Linux gives it: 8 MiB (the default `ulimit -s`), mapped as it is
// touched, with an unmapped guard page below the limit. A program with a 2 MiB local array
// runs (1 MiB is mapped at start) (gcc's -fstack-clash-protection probes it page by page, each probe growing the stack);
// one with a 9 MiB array dies of SIGSEGV at the guard, as it does natively.
import { describe, expect, it } from 'vitest';
import { EmulatedProcess, layout } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, readBytes, runNativeFull, tempDir } from './native.js';

const PROGRAM = (kib: number): string => `
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) long fill(unsigned n) {
  volatile char big[${kib} * 1024];
  memset((char *)big, 7, sizeof big);
  long sum = 0;
  for (unsigned i = 0; i < sizeof big; i += 4096) sum += big[i];
  return sum + big[n % sizeof big];
}
int main(void) { printf("sum %ld\\n", fill(12345)); return 0; }
`;

describe.skipIf(!hasGcc)('the emulated stack', () => {
  const dir = hasGcc ? tempDir('stack') : '';
  const run = async (kib: number) => {
    const exe = compileC(dir, `stack${kib}`, PROGRAM(kib), ['-O2', '-fstack-clash-protection']);
    const engine = await createTestEngine();
    try {
      const process = EmulatedProcess.create(engine, { main: readBytes(exe), mainPath: './main' });
      const stop = process.run({ maxInstructions: 50_000_000 });
      const stack = process.regions().filter((m) => m.name === '[stack]');
      const lowest = stack.reduce((a, m) => (m.begin < a ? m.begin : a), layout.STACK_TOP);
      return { stop, output: process.stdoutText(), lowest, native: runNativeFull(exe, [], dir) };
    } finally {
      engine.close();
    }
  };

  it('grows on demand past the 1 MiB mapped at start: a 2 MiB local array runs as natively', async () => {
    const r = await run(2048);
    expect(r.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(r.output).toBe(r.native.stdout);
    expect(r.output).toBe(`sum ${7 * 512 + 7}\n`);
    // Grown past the initial mapping, not past the 8 MiB limit.
    expect(layout.STACK_TOP - r.lowest).toBeGreaterThan(2048n * 1024n);
    expect(layout.STACK_TOP - r.lowest).toBeLessThanOrEqual(BigInt(layout.STACK_LIMIT));
  });

  it('stops at 8 MiB: a 9 MiB array hits the guard page and dies of SIGSEGV, as natively', async () => {
    const r = await run(9 * 1024);
    expect(r.native.signal).toBe('SIGSEGV');
    expect(r.stop).toMatchObject({ reason: 'killed', signo: 11 });
    const fault = r.stop.reason === 'killed' ? r.stop.fault : undefined;
    expect(fault!.address).toBeLessThan(layout.STACK_TOP - BigInt(layout.STACK_LIMIT));
    expect(layout.STACK_TOP - r.lowest).toBe(BigInt(layout.STACK_LIMIT));
  });
});
