// Symbol resolution rules against the real ld.so: the same executable and library run
// natively and in the sandbox must print the same dlsym results and bindings.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, runNative, tempDir } from './native.js';

const LIBRARY = `
int common_fn(void) { return 2; }                      /* also defined (and exported) by main */
int call_common(void) { return common_fn(); }          /* binds to main's: the executable is first */
__attribute__((visibility("protected"))) int prot_fn(void) { return 3; }
int call_prot(void) { return prot_fn(); }              /* protected: always its own */
__attribute__((visibility("hidden"))) int hidden_fn(void) { return 4; }
__attribute__((weak)) int weak_fn(void) { return 5; }
int lib_only(void) { return 6; }
`;

const PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
int common_fn(void) { return 1; }
static const char *names[] = { "common_fn", "prot_fn", "hidden_fn", "weak_fn", "lib_only", "missing_fn" };
int main(int argc, char **argv) {
  int global = argc > 1;
  void *h = dlopen("./liba.so", RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
    int (*viaHandle)(void) = (int (*)(void))dlsym(h, names[i]);
    int (*viaDefault)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, names[i]);
    printf("%s: handle=%d default=%d\\n", names[i], viaHandle ? viaHandle() : -1, viaDefault ? viaDefault() : -1);
  }
  dlsym(h, "missing_fn");
  printf("dlerror: %s\\n", dlerror());
  int (*cc)(void) = (int (*)(void))dlsym(h, "call_common");
  int (*cp)(void) = (int (*)(void))dlsym(h, "call_prot");
  printf("call_common=%d call_prot=%d\\n", cc(), cp());
  void *bad = dlopen("./nothere.so", RTLD_NOW);
  printf("missing lib: %p %s\\n", bad, dlerror());
  return 0;
}
`;

describe.skipIf(!hasGcc)('symbol resolution as ld.so does it', () => {
  const dir = tempDir('resolution');
  const build = (rdynamic: boolean): string => {
    writeFileSync(join(dir, 'liba.c'), LIBRARY);
    execFileSync('gcc', ['-shared', '-fpic', '-O1', 'liba.c', '-o', 'liba.so'], { cwd: dir });
    return compileC(dir, rdynamic ? 'main-rdynamic' : 'main-plain', PROGRAM, ['-O1', ...(rdynamic ? ['-rdynamic'] : []), '-ldl']);
  };
  for (const rdynamic of [true, false]) {
    for (const global of [false, true]) {
      it(`${rdynamic ? '-rdynamic' : 'no -rdynamic'}, ${global ? 'RTLD_GLOBAL' : 'RTLD_LOCAL'}: same results as native`, async () => {
        const exe = build(rdynamic);
        const args = global ? ['g'] : [];
        const native = runNative(exe, args, dir);
        expect(native.status).toBe(0);
        const p = EmulatedProcess.create(await createTestEngine(), {
          main: new Uint8Array(readFileSync(exe)), mainPath: './main',
          libraries: [{ path: './liba.so', bytes: new Uint8Array(readFileSync(join(dir, 'liba.so'))) }], argv: args,
        });
        expect(p.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
        // %p of NULL is "(nil)" in both; other addresses are not printed.
        expect(p.stdoutText()).toBe(native.stdout);
        const binding = p.relocationBindings.find((b) => b.object === './liba.so' && b.symbol === 'common_fn');
        expect(binding?.boundTo?.object).toBe(rdynamic ? './main' : './liba.so');
      });
    }
  }
});
