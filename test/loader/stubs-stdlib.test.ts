// stdlib stubs whose result is a struct: div_t comes back packed in rax, ldiv_t/lldiv_t/
// imaxdiv_t in rax:rdx. Compared with glibc on a grid of signs and extremes; division by
// zero dies of SIGFPE in both.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, runNativeFull, tempDir } from './native.js';

const DIVISION_PROGRAM = `
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  long values[] = { 0, 1, -1, 7, -7, 100, -100, 2147483647, -2147483647 - 1, LONG_MAX, LONG_MIN };
  int n = sizeof values / sizeof values[0];
  for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
    long a = values[i], b = values[j];
    if (b == 0 || (b == -1 && (a == LONG_MIN))) continue;
    ldiv_t l = ldiv(a, b);
    lldiv_t ll = lldiv(a, b);
    imaxdiv_t m = imaxdiv(a, b);
    printf("%ld/%ld: %ld %ld, %lld %lld, %jd %jd", a, b, l.quot, l.rem, ll.quot, ll.rem, m.quot, m.rem);
    int ia = (int)a, ib = (int)b;
    if (ib != 0 && !(ib == -1 && ia == INT_MIN)) { div_t d = div(ia, ib); printf(", %d %d", d.quot, d.rem); }
    printf("\\n");
  }
  if (argc > 1) { volatile long zero = 0; printf("by zero\\n"); ldiv_t l = ldiv(5, zero); printf("%ld\\n", l.quot); }
  return 0;
}
`;

describe.skipIf(!hasGcc)('div/ldiv/lldiv/imaxdiv against glibc', () => {
  const dir = tempDir('stubs-stdlib');
  const run = async (argv: string[]): Promise<{ native: ReturnType<typeof runNativeFull>; sandbox: EmulatedProcess; stop: ReturnType<EmulatedProcess['run']> }> => {
    const exe = compileC(dir, 'division', DIVISION_PROGRAM, ['-O1']);
    const native = runNativeFull(exe, argv, dir);
    const sandbox = await EmulatedProcess.create(await createTestEngine(), { main: new Uint8Array(readFileSync(exe)), mainPath: './division', argv });
    return { native, sandbox, stop: sandbox.run({ maxInstructions: 20_000_000 }) };
  };

  it('quotients and remainders match, including the 16-byte results returned in rax:rdx', async () => {
    const { native, sandbox, stop } = await run([]);
    expect(native.status).toBe(0);
    expect(native.stdout).toContain('-7/2147483647: 0 -7, 0 -7, 0 -7, 0 -7\n');
    expect(native.stdout).toContain('9223372036854775807/-7: -1317624576693539401 0, ');
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(sandbox.stdoutText()).toBe(native.stdout);
  });

  it('division by zero dies of SIGFPE in both', async () => {
    const { native, sandbox, stop } = await run(['zero']);
    expect(native.signal).toBe('SIGFPE');
    expect(stop).toMatchObject({ reason: 'killed', signo: 8 });
    expect(sandbox.stdoutText()).toBe(native.stdout);
  });
});
