// ld.so's rules the sandbox reimplements, each on purpose-built shared objects compiled here
// and run natively first: symbol versions (default @@ vs hidden @, versioned and unversioned
// references, dlvsym), DT_SYMBOLIC, TLS (TPOFF64, DTPMOD64/DTPOFF64 + __tls_get_addr) and
// GNU ifuncs (IRELATIVE, and relocations against an exported IFUNC symbol).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/elf/index.js';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, compileShared, hasGcc, runNative, tempDir } from './native.js';

async function emulate(exe: string, libraries: string[], argv: string[] = []): Promise<EmulatedProcess> {
  return EmulatedProcess.create(await createTestEngine(), {
    main: new Uint8Array(readFileSync(exe)),
    mainPath: './main',
    argv,
    libraries: libraries.map((l) => ({ path: `./${basename(l)}`, bytes: new Uint8Array(readFileSync(l)) })),
  });
}

/** Runs `exe` natively and in the sandbox; both must exit 0 with the same stdout. */
async function sameAsNative(dir: string, exe: string, libraries: string[]): Promise<EmulatedProcess> {
  const native = runNative(exe, [], dir);
  expect(native.status).toBe(0);
  const p = await emulate(exe, libraries);
  const stop = p.run({ maxInstructions: 5_000_000 });
  expect(p.stdoutText()).toBe(native.stdout);
  expect(stop).toMatchObject({ reason: 'exited', status: 0 });
  return p;
}

const VERSIONED_LIBRARY = `
int vfn_v1(void) { return 1; }
int vfn_v2(void) { return 2; }
__asm__(".symver vfn_v1, vfn@VERS_1");   /* hidden: only a reference to vfn@VERS_1 binds */
__asm__(".symver vfn_v2, vfn@@VERS_2");  /* the default */
int only_v1(void) { return 10; }
`;
const VERSION_SCRIPT = 'VERS_1 { global: vfn; only_v1; local: *; };\nVERS_2 { global: vfn; } VERS_1;\n';
/** The same library before VERS_2 existed: clients linked against it ask for vfn@VERS_1. */
const OLD_VERSIONED_LIBRARY = 'int vfn(void) { return 1; }\nint only_v1(void) { return 10; }\n';
const OLD_VERSION_SCRIPT = 'VERS_1 { global: vfn; only_v1; local: *; };\n';
const CLIENT = 'int vfn(void);\nint client(void) { return vfn(); }\n';

const VERSIONS_PROGRAM = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
typedef int (*fn_t)(void);
static int call(void *p) { return p ? ((fn_t)p)() : -1; }
int main(int argc, char **argv) {
  void *v = dlopen("./libver.so", RTLD_NOW | RTLD_GLOBAL);
  if (!v) { printf("dlopen libver: %s\\n", dlerror()); return 1; }
  const char *clients[] = { "./libold.so", "./libnew.so", "./libnover.so" };
  for (int i = 0; i < 3; i++) {
    void *h = dlopen(clients[i], RTLD_NOW);
    if (!h) { printf("%s: %s\\n", clients[i], dlerror()); continue; }
    printf("%s client=%d\\n", clients[i], call(dlsym(h, "client")));
  }
  printf("dlsym vfn=%d default=%d only_v1=%d vfn_v1=%d\\n", call(dlsym(v, "vfn")), call(dlsym(RTLD_DEFAULT, "vfn")),
         call(dlsym(v, "only_v1")), call(dlsym(v, "vfn_v1")));
  if (argc > 1) {
    printf("dlvsym VERS_1=%d VERS_2=%d only_v1@VERS_1=%d only_v1@VERS_2=%d\\n", call(dlvsym(v, "vfn", "VERS_1")),
           call(dlvsym(v, "vfn", "VERS_2")), call(dlvsym(v, "only_v1", "VERS_1")), call(dlvsym(v, "only_v1", "VERS_2")));
    void *none = dlvsym(v, "vfn", "VERS_3");
    printf("VERS_3: %p %s\\n", none, dlerror());
  }
  return 0;
}
`;

const SYMBOLIC_LIBRARY = `
int common_fn(void) { return 2; }                 /* main exports one too (-rdynamic) */
int common_var = 20;
int (*common_ptr)(void) = common_fn;
int call_common(void) { return common_fn() * 100 + common_var + (common_ptr == common_fn); }
`;
const SYMBOLIC_PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
int common_fn(void) { return 1; }
int common_var = 10;
int main(void) {
  const char *libs[] = { "./libplain.so", "./libsymbolic.so" };
  for (int i = 0; i < 2; i++) {
    void *h = dlopen(libs[i], RTLD_NOW);
    if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
    int (*cc)(void) = (int (*)(void))dlsym(h, "call_common");
    printf("%s: call_common=%d\\n", libs[i], cc());
  }
  return 0;
}
`;

const SYMBOLIC_FLAG_PROGRAM = SYMBOLIC_PROGRAM.replace('"./libplain.so", "./libsymbolic.so"', '"./libplain.so", "./libflagged.so"');

/**
 * Sets DF_SYMBOLIC in DT_FLAGS of a library linked without -Bsymbolic: ld resolved nothing
 * at link time, so only the run-time rule (search the object itself first) can bind its
 * GLOB_DAT/JUMP_SLOT/64 relocations to its own definitions.
 */
function setSymbolicFlag(path: string): void {
  const bytes = new Uint8Array(readFileSync(path));
  const dynamic = ElfFile.parse(bytes).sections.find((s) => s.name === '.dynamic')!;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let patched = false;
  for (let at = dynamic.offset; at < dynamic.offset + Number(dynamic.size); at += 16) {
    if (view.getBigInt64(at, true) !== 30n) continue; // DT_FLAGS
    view.setBigUint64(at + 8, view.getBigUint64(at + 8, true) | 2n, true); // DF_SYMBOLIC
    patched = true;
  }
  if (!patched) throw new Error(`${path}: no DT_FLAGS entry to patch`);
  writeFileSync(path, bytes);
}

const TLS_LIBRARY = `
extern __thread int main_tls;                 /* the executable's, exported with -rdynamic */
__thread int lib_tls = 7;
static __thread long lib_local[4] = { 1, 2, 3, 4 };   /* local-dynamic: DTPMOD64 without symbol */
__thread int lib_bss;
int *lib_tls_addr(void) { return &lib_tls; }
int read_main_tls(void) { return main_tls; }
void bump_main_tls(void) { main_tls += 100; }
long sum_local(void) { lib_bss += 1; return lib_local[0] + lib_local[3] + lib_bss; }
`;
/** Built with -ftls-model=initial-exec: TPOFF64 for its own variable and for the executable's. */
const TLS_IE_LIBRARY = `
extern __thread int main_tls;
__thread int ie_var = 33;
int ie_read_main(void) { return main_tls; }
int ie_read_own(void) { return ie_var++; }
`;
const TLS_PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
__thread int main_tls = 5;
__thread char main_tbss[64];
int main(void) {
  main_tbss[3] = 9;
  void *h = dlopen("./libtls.so", RTLD_NOW);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  int *(*addr)(void) = (int *(*)(void))dlsym(h, "lib_tls_addr");
  int (*rd)(void) = (int (*)(void))dlsym(h, "read_main_tls");
  void (*bump)(void) = (void (*)(void))dlsym(h, "bump_main_tls");
  long (*sum)(void) = (long (*)(void))dlsym(h, "sum_local");
  int *p = addr();
  printf("lib_tls=%d same=%d main_tls=%d\\n", *p, p == (int *)dlsym(h, "lib_tls"), rd());
  bump();
  printf("after bump main_tls=%d read=%d tbss=%d\\n", main_tls, rd(), main_tbss[3]);
  long a = sum(), b = sum();
  printf("sum=%ld %ld\\n", a, b);
  void *ie = dlopen("./libtlsie.so", RTLD_NOW);
  if (!ie) { printf("dlopen ie: %s\\n", dlerror()); return 1; }
  int (*iem)(void) = (int (*)(void))dlsym(ie, "ie_read_main");
  int (*ieo)(void) = (int (*)(void))dlsym(ie, "ie_read_own");
  int o1 = ieo(), o2 = ieo();
  printf("ie main=%d own=%d %d\\n", iem(), o1, o2);
  return 0;
}
`;

const IFUNC_LIBRARY = `
static int impl_generic(int x) { return x + 1; }
static int impl_fast(int x) { return x * 2; }
static int use_fast;
static int (*resolve_scale(void))(int) { __builtin_cpu_init(); return __builtin_cpu_supports("sse2") ? impl_fast : impl_generic; }
int scale(int) __attribute__((ifunc("resolve_scale")));   /* exported: GLOB_DAT/JUMP_SLOT/64 against an IFUNC symbol */
static int (*resolve_hidden(void))(int) { return use_fast ? impl_fast : impl_generic; }
__attribute__((visibility("hidden"))) int hidden_op(int) __attribute__((ifunc("resolve_hidden")));   /* IRELATIVE */
int (*scale_ptr)(int) = scale;
int run_all(int x) { return scale(x) * 1000 + hidden_op(x) * 10 + (scale_ptr == scale); }
`;
const IFUNC_PROGRAM = `
#include <dlfcn.h>
#include <stdio.h>
static int local_a(void) { return 11; }
static int (*resolve_local(void))(void) { return local_a; }
int local_ifunc(void) __attribute__((ifunc("resolve_local")));   /* IRELATIVE in the executable */
int main(void) {
  printf("exe ifunc=%d\\n", local_ifunc());
  void *h = dlopen("./libifunc.so", RTLD_NOW);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  int (*run)(int) = (int (*)(int))dlsym(h, "run_all");
  int (*sc)(int) = (int (*)(int))dlsym(h, "scale");
  int (**ptr)(int) = (int (**)(int))dlsym(h, "scale_ptr");
  printf("run_all=%d scale=%d ptr=%d same=%d\\n", run(21), sc(5), (*ptr)(6), *ptr == sc);
  return 0;
}
`;

describe.skipIf(!hasGcc)('dynamic linking as ld.so does it', () => {
  it('symbol versions: hidden and default definitions, versioned and unversioned references, dlsym', async () => {
    const dir = tempDir('versions');
    writeFileSync(join(dir, 'ver.map'), VERSION_SCRIPT);
    writeFileSync(join(dir, 'old.map'), OLD_VERSION_SCRIPT);
    const libver = compileShared(dir, 'libver', VERSIONED_LIBRARY, ['-Wl,--version-script=ver.map', '-Wl,-soname,libver.so']);
    compileShared(dir, 'old-libver', OLD_VERSIONED_LIBRARY, ['-Wl,--version-script=old.map', '-Wl,-soname,libver.so']);
    const libold = compileShared(dir, 'libold', CLIENT, ['old-libver.so']);
    const libnew = compileShared(dir, 'libnew', CLIENT, ['libver.so']);
    const libnover = compileShared(dir, 'libnover', CLIENT);
    const exe = compileC(dir, 'main', VERSIONS_PROGRAM, ['-O1', '-ldl']);
    const p = await sameAsNative(dir, exe, [libver, libold, libnew, libnover]);
    // The reference each client's relocation carried, and where it bound.
    const boundTo = (object: string): string | undefined => {
      const b = p.relocationBindings.find((r) => r.object === object && r.symbol === 'vfn');
      return b ? `${b.version ?? '-'}:${b.boundTo?.address === p.symbolAddress('vfn_v1') ? 'v1' : 'v2'}` : undefined;
    };
    expect([boundTo('./libold.so'), boundTo('./libnew.so'), boundTo('./libnover.so')]).toEqual(['VERS_1:v1', 'VERS_2:v2', '-:v1']);
  });

  it('dlvsym: a version picks the hidden definition, a wrong one fails with ld.so\'s message', async () => {
    const dir = tempDir('dlvsym');
    writeFileSync(join(dir, 'ver.map'), VERSION_SCRIPT);
    const libver = compileShared(dir, 'libver', VERSIONED_LIBRARY, ['-Wl,--version-script=ver.map', '-Wl,-soname,libver.so']);
    for (const name of ['libold', 'libnew', 'libnover']) compileShared(dir, name, CLIENT);
    const exe = compileC(dir, 'main', VERSIONS_PROGRAM, ['-O1', '-ldl']);
    const native = runNative(exe, ['dlvsym'], dir).stdout.split('\n');
    // The host-side dlvsym, called the way the guest's would be; same answers as natively.
    const p = await emulate(exe, [libver]);
    const opened = p.dlopen('./libver.so', 0x102);
    if (!('handle' in opened)) throw new Error(opened.error);
    const call = (r: { address: bigint } | { error: string }): number => ('address' in r ? Number(p.callFunction(r.address, [], 10_000)) : -1);
    const results = [p.dlvsym(opened.handle, 'vfn', 'VERS_1'), p.dlvsym(opened.handle, 'vfn', 'VERS_2'), p.dlvsym(opened.handle, 'only_v1', 'VERS_1'), p.dlvsym(opened.handle, 'only_v1', 'VERS_2')];
    expect(native).toContain(`dlvsym VERS_1=${call(results[0]!)} VERS_2=${call(results[1]!)} only_v1@VERS_1=${call(results[2]!)} only_v1@VERS_2=${call(results[3]!)}`);
    const missing = p.dlvsym(opened.handle, 'vfn', 'VERS_3');
    expect(native).toContain(`VERS_3: (nil) ${'error' in missing ? missing.error : 'found'}`);
  });

  it('dlvsym from the guest: the definition of each version, a missing version fails with ld.so\'s message, as natively', async () => {
    const dir = tempDir('dlvsym-guest');
    writeFileSync(join(dir, 'ver.map'), VERSION_SCRIPT);
    const libs = [compileShared(dir, 'libver', VERSIONED_LIBRARY, ['-Wl,--version-script=ver.map', '-Wl,-soname,libver.so'])];
    for (const name of ['libold', 'libnew', 'libnover']) libs.push(compileShared(dir, name, CLIENT));
    const exe = compileC(dir, 'main', VERSIONS_PROGRAM, ['-O1', '-ldl']);
    const native = runNative(exe, ['dlvsym'], dir);
    expect(native.stdout).toContain('dlvsym VERS_1=1 VERS_2=2 only_v1@VERS_1=10 only_v1@VERS_2=-1\nVERS_3: (nil) ./libver.so: undefined symbol: vfn, version VERS_3\n');
    const p = await emulate(exe, libs, ['dlvsym']);
    expect(p.run({ maxInstructions: 5_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe(native.stdout);
    const lookups = p.events.filter((e) => e.kind === 'dlsym' && e.version !== undefined).map((e) => e.kind === 'dlsym' && `${e.symbol}@${e.version}:${e.address === 0n ? e.error : 'found'}`);
    // gcc evaluates printf's arguments last first, hence the sort.
    expect(lookups.sort()).toEqual(['only_v1@VERS_1:found', 'only_v1@VERS_2:./libver.so: undefined symbol: only_v1, version VERS_2', 'vfn@VERS_1:found', 'vfn@VERS_2:found', 'vfn@VERS_3:./libver.so: undefined symbol: vfn, version VERS_3']);
  });

  it('DT_SYMBOLIC (-Bsymbolic): the library binds to its own definitions before the executable\'s', async () => {
    const dir = tempDir('symbolic');
    const plain = compileShared(dir, 'libplain', SYMBOLIC_LIBRARY);
    const symbolic = compileShared(dir, 'libsymbolic', SYMBOLIC_LIBRARY, ['-Wl,-Bsymbolic']);
    const exe = compileC(dir, 'main', SYMBOLIC_PROGRAM, ['-O1', '-rdynamic', '-ldl']);
    const p = await sameAsNative(dir, exe, [plain, symbolic]);
    const own = p.relocationBindings.filter((b) => b.object === './libsymbolic.so' && b.symbol !== undefined && b.symbol.startsWith('common_'));
    for (const b of own) expect(b.boundTo?.object).toBe('./libsymbolic.so');
    const interposed = p.relocationBindings.filter((b) => b.object === './libplain.so' && b.symbol === 'common_fn');
    expect(interposed.length).toBeGreaterThan(0);
    for (const b of interposed) expect(b.boundTo?.object).toBe('./main');
  });

  it('DF_SYMBOLIC set after linking: the run-time lookup searches the library itself first', async () => {
    const dir = tempDir('symbolic-flag');
    const plain = compileShared(dir, 'libplain', SYMBOLIC_LIBRARY);
    const flagged = compileShared(dir, 'libflagged', SYMBOLIC_LIBRARY, ['-Wl,-z,now']);
    setSymbolicFlag(flagged);
    const exe = compileC(dir, 'main', SYMBOLIC_FLAG_PROGRAM, ['-O1', '-rdynamic', '-ldl']);
    const p = await sameAsNative(dir, exe, [plain, flagged]);
    const own = p.relocationBindings.filter((b) => b.object === './libflagged.so' && (b.symbol === 'common_fn' || b.symbol === 'common_var'));
    expect(own.length).toBeGreaterThanOrEqual(3);
    for (const b of own) expect(b.boundTo?.object).toBe('./libflagged.so');
  });

  it('TLS: the executable\'s block, DTPMOD64/DTPOFF64 with __tls_get_addr, TPOFF64 (initial-exec) in a dlopened library', async () => {
    const dir = tempDir('tls');
    const lib = compileShared(dir, 'libtls', TLS_LIBRARY);
    const ie = compileShared(dir, 'libtlsie', TLS_IE_LIBRARY, ['-ftls-model=initial-exec']);
    const exe = compileC(dir, 'main', TLS_PROGRAM, ['-O1', '-rdynamic', '-ldl']);
    const p = await sameAsNative(dir, exe, [lib, ie]);
    const types = new Set(p.relocationBindings.filter((b) => b.object !== './main').map((b) => b.typeName));
    expect([...types]).toEqual(expect.arrayContaining(['R_X86_64_DTPMOD64', 'R_X86_64_DTPOFF64', 'R_X86_64_TPOFF64']));
  });

  it('GNU ifuncs: IRELATIVE in the executable and a library, relocations against an exported IFUNC symbol, dlsym', async () => {
    const dir = tempDir('ifunc');
    const lib = compileShared(dir, 'libifunc', IFUNC_LIBRARY);
    const exe = compileC(dir, 'main', IFUNC_PROGRAM, ['-O1', '-ldl']);
    const p = await sameAsNative(dir, exe, [lib]);
    const resolver = p.symbolAddress('resolve_scale', './libifunc.so');
    const scale = p.relocationBindings.filter((b) => b.object === './libifunc.so' && b.symbol === 'scale');
    expect(scale.length).toBe(3);
    for (const b of scale) expect(b.value).not.toBe(resolver);
  });
});
