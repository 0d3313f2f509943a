// UnicornEngine specifics: the Unicorn 2.0.1 quirks it works around, and native resources.
// The shared contract is in conformance.test.ts.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulationError, HookType, Perm, type Engine } from '../../src/engine/engine.js';
import { ElfFile } from '../../src/elf/index.js';
import { PIE_BASE } from '../../src/loader/layout.js';
import { EmulatedProcess } from '../../src/loader/index.js';
import { IN_CI, createUnicornEngine, engineAvailability } from './gen/engines.js';

const unicorn = await engineAvailability('unicorn');
const CODE = 0x10000n;

describe('UnicornEngine', () => {
  if (unicorn.unavailable) {
    if (IN_CI) it('is installed in CI', () => expect.fail(unicorn.unavailable));
    else it.skip(`SKIPPED: ${unicorn.unavailable}`, () => {});
    return;
  }

  let engine: Engine;
  beforeEach(async () => {
    engine = await createUnicornEngine();
    engine.map(CODE, 0x1000, Perm.RX);
  });
  afterEach(() => engine.close());

  it('reports #DE again after a #DE (Unicorn would make the second a double fault, interrupt 8)', () => {
    // xor ecx, ecx ; div rcx
    engine.writeMemory(CODE, Uint8Array.of(0x31, 0xc9, 0x48, 0xf7, 0xf1));
    expect(engine.start(CODE)).toMatchObject({ reason: 'divide-error', instructions: 1, rip: CODE + 2n });
    expect(engine.start(CODE + 2n)).toMatchObject({ reason: 'divide-error', instructions: 0, rip: CODE + 2n });
    expect(engine.start(CODE)).toMatchObject({ reason: 'divide-error', instructions: 1 });
  });

  it('reports #DE of the last counted instruction (Unicorn’s own count swallows it)', () => {
    // mov ax, 0x1840 ; mov cl, 2 ; idiv cl   (quotient 3104 does not fit in al)
    engine.writeMemory(CODE, Uint8Array.of(0x66, 0xb8, 0x40, 0x18, 0xb1, 0x02, 0xf6, 0xf9));
    expect(engine.start(CODE, { count: 2 })).toMatchObject({ reason: 'count', instructions: 2, rip: CODE + 6n });
    expect(engine.start(CODE + 6n, { count: 1 })).toMatchObject({ reason: 'divide-error', instructions: 0, rip: CODE + 6n });
  });

  it('reports faults at high-half addresses as unsigned', () => {
    // mov rax, 0xffffffff80000000 ; mov rax, [rax]
    engine.writeMemory(CODE, Uint8Array.of(0x48, 0xc7, 0xc0, 0x00, 0x00, 0x00, 0x80, 0x48, 0x8b, 0x00));
    const result = engine.start(CODE);
    expect(result.fault).toEqual({ kind: 'unmapped', access: 'read', address: 0xffff_ffff_8000_0000n, size: 8 });
  });

  it('stops before the instruction whose code hook called stop()', () => {
    // inc rax ; inc rax ; inc rax ; int3
    engine.writeMemory(CODE, Uint8Array.of(0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0xcc));
    engine.addHook({ type: HookType.Code, callback: (address) => address === CODE + 3n && engine.stop() });
    expect(engine.start(CODE)).toMatchObject({ reason: 'stopped', instructions: 1, rip: CODE + 3n });
    expect(engine.readRegister('rax')).toBe(1n);
  });

  it('starts with the Linux default mxcsr (0x1f80)', () => {
    engine.map(0x20000n, 0x1000, Perm.RW);
    // stmxcsr [0x20000] ; int3
    engine.writeMemory(CODE, Uint8Array.of(0x0f, 0xae, 0x1c, 0x25, 0x00, 0x00, 0x02, 0x00, 0xcc));
    engine.start(CODE);
    expect(new DataView(engine.readMemory(0x20000n, 4).buffer).getUint32(0, true)).toBe(0x1f80);
  });

  it('stops at until in the high half (addresses koffi hands over as negative numbers or bigints)', () => {
    for (const base of [0xffff_ffff_ff60_0000n, 0x0080_0000_0000_0000n]) {
      engine.map(base, 0x1000, Perm.RX);
      // inc rax ; inc rax ; inc rax ; int3
      engine.writeMemory(base, Uint8Array.of(0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0xff, 0xc0, 0xcc));
      expect(engine.start(base, { until: base + 6n })).toMatchObject({ reason: 'until', instructions: 2, rip: base + 6n });
      expect(engine.start(base + 6n, { until: base + 6n })).toMatchObject({ reason: 'until', instructions: 0 });
    }
  });

  // The verifier's repro: the SIGUSR1 handler's last libc call returns straight to the restorer
  // (0x7ffff7c00000, the first byte of the stub image), so the run with until = restorer ends
  // with start(restorer, { until: restorer }); Unicorn's exit block stayed cached there and the
  // next run threw "unicorn stopped at 0x7ffff7c00000 for no known reason".
  it('continues seed-classic after a signal handler run stopped at the restorer', async () => {
    const corpus = new URL('../../corpus/seed-classic/', import.meta.url).pathname;
    const main = new Uint8Array(readFileSync(corpus + 'main'));
    const usleepPlt = ElfFile.parse(main).pltStubs().find((stub) => stub.symbol?.name === 'usleep')!.address + PIE_BASE;
    const guest = EmulatedProcess.create(await createUnicornEngine(), {
      main,
      mainPath: './main',
      libraries: [{ path: './patch.so', bytes: new Uint8Array(readFileSync(corpus + 'patch.so')) }],
      argv: ['3'],
    });
    try {
      expect(guest.run({ maxInstructions: 1_000_000, stopAtCallOf: [usleepPlt] })).toMatchObject({ reason: 'call', address: usleepPlt });
      guest.deliverSignal(10); // SIGUSR1
      const restorer = guest.mem.u64(guest.engine.readRegister('rsp'));
      expect(guest.run({ maxInstructions: 1_000_000, until: restorer })).toMatchObject({ reason: 'until' });
      expect(guest.engine.readRegister('rip')).toBe(restorer);
      expect(guest.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
      expect(guest.stdoutText()).toBe('before fix cur times 0\ndo fix\nfix result 0\nafter fix cur times 1\nafter fix cur times 2\n');
    } finally {
      guest.engine.close();
    }
  });

  it('rejects a context saved by another engine', async () => {
    const other = await createUnicornEngine();
    const foreign = other.saveContext();
    expect(() => engine.restoreContext(foreign)).toThrow(EmulationError);
    other.close();
  });

  it('releases its koffi callbacks on removeHook and close', async () => {
    const koffi = createRequire(import.meta.url)('koffi') as { stats(): { callbacks: number } };
    const baseline = koffi.stats().callbacks;
    const extra = await createUnicornEngine();
    const handles = Array.from({ length: 5 }, () => extra.addHook({ type: HookType.Block, callback: () => {} }));
    expect(koffi.stats().callbacks).toBeGreaterThan(baseline + 5);
    handles.forEach((h) => extra.removeHook(h));
    extra.close();
    expect(koffi.stats().callbacks).toBe(baseline);
  });
});
