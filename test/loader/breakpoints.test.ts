// Run-control edge cases of EmulatedProcess.run(): the caller's stopAtCallOf set must
// survive breakpoint changes made during the run (dlopen, new traps), and a step that
// lands exactly on a stub entry must still be served as a stub call.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { ElfFile } from '../../src/elf/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, readBytes, tempDir } from './native.js';

const root = new URL('../../corpus/seed-classic/', import.meta.url).pathname;
const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(root + p));

async function launch(argv: string[]): Promise<EmulatedProcess> {
  return EmulatedProcess.create(await createTestEngine(), {
    main: bytes('main'),
    mainPath: './main',
    libraries: [{ path: './patch.so', bytes: bytes('patch.so') }],
    argv,
  });
}

describe('EmulatedProcess.run control', () => {
  it.skipIf(!hasGcc)('keeps stopAtCallOf when a dlopen during the run adds breakpoints', async () => {
    // libtrap.so imports fopen, which has no stub: its relocation binds to a new trap, and
    // adding that trap's breakpoint in the middle of the run must keep the caller's stops.
    const dir = tempDir('bp');
    const lib = compileC(dir, 'libtrap.so', '#include <stdio.h>\nvoid *open_it(void) { return fopen("x", "r"); }\n', ['-shared', '-fPIC', '-O2']);
    const exe = compileC(
      dir,
      'prog',
      `#include <dlfcn.h>
__attribute__((noinline)) int target(int x) { __asm__ volatile(""); return x + 1; }
int main(void) {
  int s = target(0);
  if (!dlopen("./libtrap.so", RTLD_NOW)) return 1;
  for (int i = 0; i < 3; i++) s += target(i);
  return s == 7 ? 0 : 2;
}`,
      ['-O2'],
    );
    const p = EmulatedProcess.create(await createTestEngine(), {
      main: readBytes(exe),
      mainPath: './prog',
      libraries: [{ path: './libtrap.so', bytes: readBytes(lib) }],
    });
    const target = p.symbolAddress('target')!;
    let calls = 0;
    for (;;) {
      const stop = p.run({ maxInstructions: 1_000_000, stopAtCallOf: [target] });
      if (stop.reason !== 'call') {
        expect(stop).toMatchObject({ reason: 'exited', status: 0 });
        break;
      }
      calls++;
    }
    expect(calls).toBe(4);
  });

  it('serves a stub when a single step lands exactly on its entry', async () => {
    const p = await launch(['3']);
    // Stop on the PLT's indirect jump for puts/printf: stepping it lands on the stub entry.
    const elf = ElfFile.parse(bytes('main'));
    const plt = elf.pltStubs().find((s) => s.symbol?.name === '__printf_chk');
    expect(plt).toBeDefined();
    const base = p.executable.base;
    const jumps = p.mem.read(base + plt!.address, 16);
    // ff 25 rel32  jmp [rip+GOT]  (a .plt.sec entry would start with f3 0f 1e fa  endbr64)
    const jmpOffset = jumps[0] === 0xf3 ? 4n : 0n;
    const stop = p.run({ maxInstructions: 5_000_000, stopAtCallOf: [base + plt!.address + jmpOffset] });
    expect(stop.reason).toBe('call');
    const end = p.run({ maxInstructions: 5_000_000 });
    expect(end).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toContain('before fix cur times 2');
  });
});
