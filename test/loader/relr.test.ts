// Packed relative relocations (DT_RELR, -z pack-relative-relocs): ld.so adds the load base
// to every listed word. Without it, a dlopen'd table of pointers would hold link-time
// addresses. Compared with the same program run natively.
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, readBytes, runNative, tempDir } from './native.js';

const LIBRARY = `
int a = 11, b = 22, c = 33;
int *table[] = { &a, &b, &c, &b };
int value_at(int i) { return *table[i]; }
`;

const PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  void *h = dlopen("./librelr.so", RTLD_NOW);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  int (*value_at)(int) = (int (*)(int))dlsym(h, "value_at");
  for (int i = 0; i < 4; i++) printf("%d ", value_at(i));
  printf("\\n");
  return 0;
}
`;

describe.skipIf(!hasGcc)('DT_RELR', () => {
  it('applies packed relative relocations of a dlopened object as ld.so does', async () => {
    const dir = tempDir('relr');
    const lib = compileC(dir, 'librelr.so', LIBRARY, ['-shared', '-fPIC', '-O2', '-Wl,-z,pack-relative-relocs']);
    const exe = compileC(dir, 'prog', PROGRAM, ['-O2']);
    const native = runNative(exe, [], dir);
    expect(native.stdout).toBe('11 22 33 22 \n');

    const proc = EmulatedProcess.create(await createTestEngine(), {
      main: readBytes(exe),
      mainPath: './prog',
      libraries: [{ path: './librelr.so', bytes: readBytes(lib) }],
    });
    const stop = proc.run({ maxInstructions: 1_000_000 });
    expect(stop.reason).toBe('exited');
    expect(proc.stdoutText()).toBe(native.stdout);
  });
});
