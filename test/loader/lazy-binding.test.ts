// RTLD_LAZY as glibc's ld.so behaves: a library whose undefined function is never called
// loads and works; calling it prints ld.so's "symbol lookup error" and exits with 127; an
// undefined data reference fails dlopen even with RTLD_LAZY, as does RTLD_NOW for either.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import type { RelocationBinding } from '../../src/loader/dynamic/bindings.js';
import { createTestEngine } from './engine.js';
import { compileC, compileShared, hasGcc, runNativeFull, tempDir } from './native.js';

const LAZY_LIBRARY = `
int missing_fn(int);
int fine(void) { return 7; }
int calls_missing(void) { return missing_fn(1) + 1; }
`;
const DATA_LIBRARY = `
extern int missing_var;
int read_var(void) { return missing_var; }
`;
const PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  void *now = dlopen("./liblazy.so", RTLD_NOW);
  printf("RTLD_NOW: %s\\n", now ? "loaded" : dlerror());
  void *data = dlopen("./liblazydata.so", RTLD_LAZY);
  printf("RTLD_LAZY data: %s\\n", data ? "loaded" : dlerror());
  void *h = dlopen("./liblazy.so", RTLD_LAZY);
  if (!h) { printf("RTLD_LAZY: %s\\n", dlerror()); return 1; }
  int (*fine)(void) = (int (*)(void))dlsym(h, "fine");
  int (*bad)(void) = (int (*)(void))dlsym(h, "calls_missing");
  printf("fine=%d\\n", fine());
  printf("bad=%d\\n", bad());
  return 0;
}
`;

/** late_fn is defined only by a library dlopened RTLD_GLOBAL after liblate.so. */
const LATE_LIBRARY = 'int late_fn(int);\nint calls_late(void) { return late_fn(20) + 1; }\n';
const PROVIDER_LIBRARY = 'int late_fn(int x) { return x * 2; }\n';
const LATE_PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  void *h = dlopen("./liblate.so", RTLD_LAZY);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  void *p = dlopen("./libprovider.so", RTLD_NOW | RTLD_GLOBAL);
  if (!p) { printf("provider: %s\\n", dlerror()); return 1; }
  int (*f)(void) = (int (*)(void))dlsym(h, "calls_late");
  printf("calls_late=%d\\n", f());
  printf("again=%d\\n", f());
  return 0;
}
`;

describe.skipIf(!hasGcc)('lazy binding of undefined symbols', () => {
  it('RTLD_LAZY: a function defined by a library loaded later (RTLD_GLOBAL) binds at its first call', async () => {
    const dir = tempDir('lazy-late');
    const libs = [compileShared(dir, 'liblate', LATE_LIBRARY), compileShared(dir, 'libprovider', PROVIDER_LIBRARY)];
    const exe = compileC(dir, 'main', LATE_PROGRAM, ['-O1', '-ldl']);
    const native = runNativeFull(exe, [], dir);
    expect(native.status).toBe(0);
    const p = EmulatedProcess.create(await createTestEngine(), {
      main: new Uint8Array(readFileSync(exe)), mainPath: exe,
      libraries: libs.map((l) => ({ path: `./${basename(l)}`, bytes: new Uint8Array(readFileSync(l)) })),
    });
    expect(p.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe(native.stdout);
    const binding = p.relocationBindings.find((b) => b.object === './liblate.so' && b.symbol === 'late_fn');
    expect(binding?.boundTo?.object).toBe('./libprovider.so');
    expect(binding?.unstubbedImport).toBeUndefined();

    // A snapshot taken after liblate.so is loaded, before late_fn's first call: restoring it
    // brings the unbound binding back (saved states share binding objects; binding replaces them).
    const opened = p.events.find((e) => e.kind === 'dlopen' && e.path === './liblate.so')!;
    const q = EmulatedProcess.create(await createTestEngine(), {
      main: new Uint8Array(readFileSync(exe)), mainPath: exe,
      libraries: libs.map((l) => ({ path: `./${basename(l)}`, bytes: new Uint8Array(readFileSync(l)) })),
    });
    expect(q.run({ maxInstructions: opened.at + 1 })).toMatchObject({ reason: 'budget' });
    const late = (): RelocationBinding | undefined => q.relocationBindings.find((b) => b.object === './liblate.so' && b.symbol === 'late_fn');
    expect(late()?.unstubbedImport).toBe(true);
    const before = q.snapshot();
    expect(q.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(late()?.boundTo?.object).toBe('./libprovider.so');
    q.restore(before);
    expect(late()?.unstubbedImport).toBe(true);
    expect(late()?.boundTo).toBeUndefined();
    expect(q.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(late()?.boundTo?.object).toBe('./libprovider.so');
    expect(q.stdoutText()).toBe(native.stdout);
  });

  it('RTLD_LAZY: the undefined function fails when called, with ld.so\'s message and status 127; undefined data fails dlopen', async () => {
    const dir = tempDir('lazy');
    const libs = [compileShared(dir, 'liblazy', LAZY_LIBRARY), compileShared(dir, 'liblazydata', DATA_LIBRARY)];
    const exe = compileC(dir, 'main', PROGRAM, ['-O1', '-ldl']);
    const native = runNativeFull(exe, [], dir);
    expect(native.status).toBe(127);
    const p = EmulatedProcess.create(await createTestEngine(), {
      main: new Uint8Array(readFileSync(exe)), mainPath: exe,
      libraries: libs.map((l) => ({ path: `./${basename(l)}`, bytes: new Uint8Array(readFileSync(l)) })),
    });
    const stop = p.run({ maxInstructions: 2_000_000 });
    expect(p.stdoutText()).toBe(native.stdout);
    expect(p.stdoutText(2)).toBe(native.stderr);
    expect(stop).toMatchObject({ reason: 'exited', status: 127 });
    expect(p.events.some((e) => e.kind === 'import-called' && e.symbol === 'missing_fn')).toBe(true);
  });
});
