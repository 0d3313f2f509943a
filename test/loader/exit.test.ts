// The end of a process as glibc does it, compared with native runs: exit runs the atexit
// handlers, then _dl_fini's DT_FINI_ARRAY/DT_FINI of the executable and of dlopened objects;
// dlclose runs an object's destructors, and through __cxa_finalize a C++ library's static
// destructors and atexit handlers; abort() raises SIGABRT so a handler runs first.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, compileShared, compileSharedCxx, hasGcc, hasGxx, runNativeFull, tempDir } from './native.js';

const DESTRUCTOR_LIBRARY = (tag: string): string => `
#include <string.h>
#include <unistd.h>
static void say(const char *s) { write(1, s, strlen(s)); }
__attribute__((constructor)) static void init(void) { say("${tag} init\\n"); }
__attribute__((destructor)) static void fini(void) { say("${tag} fini\\n"); }
__attribute__((destructor(200))) static void fini_early_priority(void) { say("${tag} fini2\\n"); }
`;

const EXIT_PROGRAM = `
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void say(const char *s) { write(1, s, strlen(s)); }
__attribute__((constructor)) static void init(void) { say("main init\\n"); }
__attribute__((destructor)) static void fini(void) { say("main fini\\n"); }
static void first_registered(void) { say("atexit 1\\n"); }
static void last_registered(void) { say("atexit 2\\n"); }
int main(int argc, char **argv) {
  atexit(first_registered);
  void *a = dlopen("./liba.so", RTLD_NOW);
  void *b = dlopen("./libb.so", RTLD_NOW);
  atexit(last_registered);
  say("main returns\\n");
  if (argc > 1) exit(3);
  return !(a && b);
}
`;

/** libu.so needs libd.so: _dl_fini runs a user's destructors before its dependency's. */
const DEPENDENCY_PROGRAM = `
#include <dlfcn.h>
int main(void) {
  void *d = dlopen("./libd.so", RTLD_NOW | RTLD_GLOBAL);
  void *a = dlopen("./liba.so", RTLD_NOW);
  void *u = dlopen("./libu.so", RTLD_NOW);
  return !(d && a && u);
}
`;

const ABORT_PROGRAM = `
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void on_abort(int sig, siginfo_t *info, void *ctx) {
  (void)ctx;
  printf("handler: sig=%d code=%d from self=%d\\n", sig, info->si_code, info->si_pid == getpid());
}
static void never(void) { printf("atexit handler ran\\n"); }
int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  atexit(never);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_abort;
  sa.sa_flags = SA_SIGINFO;
  const char *mode = argc > 1 ? argv[1] : "handler";
  if (strcmp(mode, "ignored") == 0) sa.sa_handler = SIG_IGN, sa.sa_flags = 0;
  sigaction(SIGABRT, &sa, 0);
  if (strcmp(mode, "blocked") == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_BLOCK, &set, 0);
  }
  printf("%s: before abort\\n", mode);
  abort();
  printf("after abort\\n");
  return 0;
}
`;

/** Static objects (one constructed at load, one on first use) and an atexit handler, all
 *  registered with the library's __dso_handle through __cxa_atexit. */
const CXX_STATICS_LIBRARY = String.raw`
#include <cstdlib>
#include <cstring>
#include <unistd.h>
static void say(const char *s) { write(1, s, strlen(s)); }
struct Noisy {
  const char *name;
  explicit Noisy(const char *n) : name(n) { say(name); say(" constructed\n"); }
  ~Noisy() { say(name); say(" destroyed\n"); }
};
static Noisy first("first"), second("second");
static void library_atexit(void) { say("library atexit\n"); }
extern "C" int touch(void) {
  static Noisy on_first_use("on-first-use");
  return atexit(library_atexit);
}
`;

/** dlopen/dlclose of the C++ library from main; "all" first calls __cxa_finalize(NULL). */
const CXX_STATICS_PROGRAM = `
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
extern void __cxa_finalize(void *dso);
static void say(const char *s) { write(1, s, strlen(s)); }
static void main_atexit(void) { say("main atexit\\n"); }
int main(int argc, char **argv) {
  atexit(main_atexit);
  void *h = dlopen("./libnoisy.so", RTLD_NOW);
  if (!h) return 1;
  int (*touch)(void) = (int (*)(void))dlsym(h, "touch");
  if (touch() != 0) return 2;
  if (argc > 1) { __cxa_finalize(NULL); say("finalized all\\n"); }
  say("closing\\n");
  int r = dlclose(h);
  say(r == 0 ? "closed\\n" : "dlclose failed\\n");
  say(dlclose(h) != 0 ? "second dlclose fails\\n" : "second dlclose succeeds\\n");
  return 0;
}
`;

async function emulate(exe: string, libraries: string[], argv: string[] = []): Promise<EmulatedProcess> {
  return EmulatedProcess.create(await createTestEngine(), {
    main: new Uint8Array(readFileSync(exe)), mainPath: './main', argv,
    libraries: libraries.map((l) => ({ path: `./${basename(l)}`, bytes: new Uint8Array(readFileSync(l)) })),
  });
}

describe.skipIf(!hasGcc)('process exit as glibc does it', () => {
  const dir = tempDir('exit');
  const libs = hasGcc ? [compileShared(dir, 'liba', DESTRUCTOR_LIBRARY('A')), compileShared(dir, 'libb', DESTRUCTOR_LIBRARY('B'))] : [];

  for (const argv of [[], ['exit']]) {
    it(`${argv.length ? 'exit(3)' : 'return from main'}: atexit handlers, then fini arrays and DT_FINI of the executable and dlopened objects, in glibc's order`, async () => {
      const exe = compileC(dir, 'main', EXIT_PROGRAM, ['-O1', '-ldl']);
      const native = runNativeFull(exe, argv, dir);
      expect(native.stdout).toContain('atexit 1\nmain fini\nA fini\n');
      const p = await emulate(exe, libs, argv);
      const stop = p.run({ maxInstructions: 2_000_000 });
      expect(p.stdoutText()).toBe(native.stdout);
      expect(stop).toMatchObject({ reason: 'exited', status: native.status });
    });
  }

  it('destructors of a library run before those of the library it needs, whatever the load order', async () => {
    const dep = compileShared(dir, 'libd', `${DESTRUCTOR_LIBRARY('D')}int dep_fn(void) { return 1; }\n`, ['-Wl,-soname,libd.so']);
    const user = compileShared(dir, 'libu', `${DESTRUCTOR_LIBRARY('U')}int dep_fn(void);\nint use_dep(void) { return dep_fn(); }\n`, ['libd.so']);
    const exe = compileC(dir, 'deps', DEPENDENCY_PROGRAM, ['-O1', '-ldl']);
    const native = runNativeFull(exe, [], dir);
    expect(native.stdout).toContain('U fini2\nD fini\n');
    const p = await emulate(exe, [...libs, dep, user]);
    expect(p.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe(native.stdout);
  });

  it('dlclose (host-driven) runs the destructors when the count reaches 0; a later dlopen loads the object afresh', async () => {
    const exe = compileC(dir, 'main', EXIT_PROGRAM, ['-O1', '-ldl']);
    const p = await emulate(exe, libs);
    const opened = p.dlopen('./libb.so', 2);
    if (!('handle' in opened)) throw new Error(opened.error);
    const again = p.dlopen('./libb.so', 2);
    expect(again).toEqual(opened);
    expect(p.stdoutText()).toBe('B init\n');
    expect(p.dlclose(opened.handle)).toEqual({ result: 0 });
    expect(p.stdoutText()).toBe('B init\n');
    expect(p.dlclose(opened.handle)).toEqual({ result: 0 });
    expect(p.stdoutText()).toBe('B init\nB fini\nB fini2\n');
    expect(p.dlclose(opened.handle)).toMatchObject({ result: -1, error: 'shared object not open' });
    // The program's own dlopen of libb.so loads it afresh (init again); exit finalises only that copy.
    expect(p.run({ maxInstructions: 2_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe('B init\nB fini\nB fini2\nmain init\nA init\nB init\nmain returns\natexit 2\natexit 1\nmain fini\nA fini\nA fini2\nB fini\nB fini2\n');
  });

  for (const argv of [[], ['all']]) {
    it(`guest dlclose of a C++ library runs its static destructors and atexit handlers (__cxa_finalize(dso))${argv.length ? ', none left after __cxa_finalize(NULL) ran every handler' : ''}`, async () => {
      if (!hasGxx) return;
      const lib = compileSharedCxx(dir, 'libnoisy', CXX_STATICS_LIBRARY);
      const exe = compileC(dir, 'statics', CXX_STATICS_PROGRAM, ['-O1', '-ldl']);
      const native = runNativeFull(exe, argv, dir);
      expect(native.status).toBe(0);
      expect(native.stdout).toContain(argv.length ? 'main atexit\nfinalized all\nclosing\nclosed\n' : 'closing\nlibrary atexit\non-first-use destroyed\nsecond destroyed\nfirst destroyed\nclosed\n');
      const p = await emulate(exe, [lib], argv);
      const stop = p.run({ maxInstructions: 5_000_000 });
      expect(p.stdoutText()).toBe(native.stdout);
      expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    });
  }

  it('host dlclose of a C++ library runs its static destructors in the emulator', async () => {
    if (!hasGxx) return;
    const lib = compileSharedCxx(dir, 'libnoisy', CXX_STATICS_LIBRARY);
    const exe = compileC(dir, 'statics', CXX_STATICS_PROGRAM, ['-O1', '-ldl']);
    const p = await emulate(exe, [lib]);
    const opened = p.dlopen('./libnoisy.so', 2);
    if (!('handle' in opened)) throw new Error(opened.error);
    expect(p.stdoutText()).toBe('first constructed\nsecond constructed\n');
    expect(p.dlclose(opened.handle)).toEqual({ result: 0 });
    expect(p.stdoutText()).toBe('first constructed\nsecond constructed\nsecond destroyed\nfirst destroyed\n');
  });

  for (const mode of ['handler', 'blocked', 'ignored']) {
    it(`abort() with SIGABRT ${mode === 'handler' ? 'caught' : mode}: ${mode === 'ignored' ? 'dies at once' : 'the handler runs, then the process dies of SIGABRT'}, no atexit handler`, async () => {
      const exe = compileC(dir, 'abort', ABORT_PROGRAM, ['-O1']);
      const native = runNativeFull(exe, [mode], dir);
      expect(native.signal).toBe('SIGABRT');
      const p = await emulate(exe, [], [mode]);
      const stop = p.run({ maxInstructions: 2_000_000 });
      expect(p.stdoutText()).toBe(native.stdout);
      expect(stop).toMatchObject({ reason: 'killed', signo: 6 });
    });
  }
});
