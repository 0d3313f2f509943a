// The Engine contract, checked the same way on every engine kind. Programs are raw bytes with
// their assembly in comments. An engine that cannot be created here is a visible skip, except
// the Unicorn oracle in CI, which must be present.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulationError, HookType, Perm, type Engine, type MemFault } from '../../src/engine/engine.js';
import { cpuidLeaf } from '../../src/engine/cpuid.js';
import { IN_CI, createEngineOfKind, engineAvailability, type EngineKind } from './gen/engines.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK = 0x30000n;
const PAGE = 0x1000;

const kinds = await Promise.all((['unicorn', 'wasm'] as EngineKind[]).map(engineAvailability));

function program(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

const INC_RAX = [0x48, 0xff, 0xc0]; // inc rax
const INT3 = [0xcc]; // int3

describe.each(kinds)('Engine conformance: $kind', ({ kind, unavailable }) => {
  if (unavailable) {
    if (IN_CI) {
      it(`the ${kind} engine is available in CI`, () => {
        expect.fail(`${unavailable} (CI builds the wasm core and installs libunicorn2: see .ci/run)`);
      });
    } else {
      it.skip(`SKIPPED: ${unavailable}`, () => {});
    }
    return;
  }

  let engine: Engine;
  beforeEach(async () => {
    engine = await createEngineOfKind(kind);
    engine.map(CODE, PAGE, Perm.RX);
    engine.map(DATA, PAGE, Perm.RW);
    engine.map(STACK, PAGE, Perm.RW);
    engine.writeRegister('rsp', STACK + 0x800n);
  });
  afterEach(() => engine.close());

  function load(code: Uint8Array): void {
    engine.writeMemory(CODE, code);
  }

  function expectEngineError(fn: () => void, code: string): void {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(EmulationError);
      expect((error as EmulationError).code).toBe(code);
      return;
    }
    expect.fail(`expected EmulationError ${code}`);
  }

  describe('memory map', () => {
    it('lists mapped regions in address order with their permissions', () => {
      expect(engine.regions()).toEqual([
        { begin: CODE, end: CODE + 0x1000n, perms: Perm.RX },
        { begin: DATA, end: DATA + 0x1000n, perms: Perm.RW },
        { begin: STACK, end: STACK + 0x1000n, perms: Perm.RW },
      ]);
    });

    it('protect splits a region and unmap removes it', () => {
      engine.map(0x40000n, 3 * PAGE, Perm.RW);
      engine.protect(0x41000n, PAGE, Perm.Read);
      const split = engine.regions().filter((r) => r.begin >= 0x40000n);
      expect(split).toEqual([
        { begin: 0x40000n, end: 0x41000n, perms: Perm.RW },
        { begin: 0x41000n, end: 0x42000n, perms: Perm.Read },
        { begin: 0x42000n, end: 0x43000n, perms: Perm.RW },
      ]);
      engine.unmap(0x40000n, 3 * PAGE);
      expect(engine.regions().some((r) => r.begin >= 0x40000n)).toBe(false);
    });

    it('rejects bad arguments with ARG and overlaps with MAP', () => {
      expectEngineError(() => engine.map(0x50001n, PAGE, Perm.RW), 'ARG');
      expectEngineError(() => engine.map(0x50000n, 0, Perm.RW), 'ARG');
      expectEngineError(() => engine.map(0x50000n, PAGE, 8 as Perm), 'ARG');
      expectEngineError(() => engine.map(DATA, PAGE, Perm.RW), 'MAP');
    });

    it('reports unmapped ranges on unmap/protect/read/write', () => {
      expectEngineError(() => engine.unmap(0x90000n, PAGE), 'NOMEM');
      expectEngineError(() => engine.protect(0x90000n, PAGE, Perm.RW), 'NOMEM');
      expectEngineError(() => engine.readMemory(0x90000n, 4), 'READ_UNMAPPED');
      expectEngineError(() => engine.writeMemory(0x90000n, new Uint8Array(4)), 'WRITE_UNMAPPED');
    });

    it('host reads and writes ignore page permissions', () => {
      engine.writeMemory(CODE + 0x100n, Uint8Array.of(1, 2, 3));
      expect([...engine.readMemory(CODE + 0x100n, 3)]).toEqual([1, 2, 3]);
    });
  });

  describe('registers', () => {
    it('round-trips GPRs, rip, fs_base, gs_base and xmm', () => {
      engine.writeRegister('r13', 0x8000_0000_0000_0001n);
      engine.writeRegister('fs_base', 0x7fff_0000n);
      engine.writeRegister('gs_base', 0x1234n);
      engine.writeRegister('rip', CODE + 4n);
      const xmm = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
      engine.writeXmm(9, xmm);
      expect(engine.readRegister('r13')).toBe(0x8000_0000_0000_0001n);
      expect(engine.readRegister('fs_base')).toBe(0x7fff_0000n);
      expect(engine.readRegister('gs_base')).toBe(0x1234n);
      expect(engine.readRegister('rip')).toBe(CODE + 4n);
      expect([...engine.readXmm(9)]).toEqual([...xmm]);
    });
  });

  describe('start and stop reasons', () => {
    it('stops after count instructions, counting exactly', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INC_RAX, INT3));
      const result = engine.start(CODE, { count: 3 });
      expect(result).toMatchObject({ reason: 'count', instructions: 3, rip: CODE + 9n });
      expect(engine.readRegister('rax')).toBe(3n);
    });

    it('stops before until', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      const result = engine.start(CODE, { until: CODE + 6n });
      expect(result).toMatchObject({ reason: 'until', instructions: 2, rip: CODE + 6n });
      expect(engine.readRegister('rax')).toBe(2n);
    });

    // The signal restorer case: a handler's last call returns straight to `until`, which is the
    // first byte of a page whose previous page is unmapped (CODE - 1 is unmapped here).
    it('stops at until equal to the start address, and a later run from there executes', () => {
      load(program(INC_RAX, INC_RAX, INT3));
      engine.setBreakpoints([CODE + 0x100n]); // as the loader has on its stub entries
      expect(engine.start(CODE, { until: CODE })).toMatchObject({ reason: 'until', instructions: 0, rip: CODE });
      expect(engine.start(CODE, { count: 100 })).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 3 });
      expect(engine.readRegister('rax')).toBe(2n);
    });

    it('stops at until at the first byte of a page reached by a jump, and a later run from there executes', () => {
      engine.map(CODE + 0x1000n, PAGE, Perm.RX);
      //   0x11000: 48 ff c0         inc rax
      //   0x11003: e9 f8 ef ff ff   jmp 0x10000
      engine.writeMemory(CODE + 0x1000n, program(INC_RAX, [0xe9, 0xf8, 0xef, 0xff, 0xff]));
      load(program(INC_RAX, INC_RAX, INT3));
      expect(engine.start(CODE + 0x1000n, { until: CODE })).toMatchObject({ reason: 'until', instructions: 2, rip: CODE });
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 3 });
      expect(engine.readRegister('rax')).toBe(3n);
    });

    it('stops at until in code that already ran (a later run does not reuse a translation without it)', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: 4 });
      expect(engine.start(CODE, { until: CODE + 3n })).toMatchObject({ reason: 'until', instructions: 1, rip: CODE + 3n });
      expect(engine.start(CODE, { until: CODE })).toMatchObject({ reason: 'until', instructions: 0, rip: CODE });
      expect(engine.readRegister('rax')).toBe(4n);
    });

    it('adds and removes single breakpoints in a set, in code that already ran', () => {
      // inc rax x4 ; int3
      load(program(INC_RAX, INC_RAX, INC_RAX, INC_RAX, INT3));
      engine.setBreakpoints([CODE + 3n, CODE + 9n]);
      expect(engine.start(CODE)).toMatchObject({ reason: 'breakpoint', rip: CODE + 3n, instructions: 1 });
      engine.removeBreakpoint(CODE + 3n);
      engine.removeBreakpoint(CODE + 3n); // not in the set any more: nothing happens
      engine.addBreakpoint(CODE + 6n);
      engine.addBreakpoint(CODE + 6n); // already in it
      expect(engine.start(CODE)).toMatchObject({ reason: 'breakpoint', rip: CODE + 6n, instructions: 2 });
      expect(engine.start(CODE + 6n)).toMatchObject({ reason: 'breakpoint', rip: CODE + 9n, instructions: 1 });
      engine.removeBreakpoint(CODE + 6n);
      engine.removeBreakpoint(CODE + 9n);
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: 5 });
      engine.setBreakpoints([CODE + 12n]); // a whole new set replaces what was added one by one
      expect(engine.start(CODE)).toMatchObject({ reason: 'breakpoint', rip: CODE + 12n, instructions: 4 });
      engine.setBreakpoints([]);
    });

    it('reports count when the budget runs out at until or at a breakpoint', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      expect(engine.start(CODE, { count: 2, until: CODE + 6n })).toMatchObject({ reason: 'count', instructions: 2, rip: CODE + 6n });
      engine.setBreakpoints([CODE + 6n]);
      expect(engine.start(CODE, { count: 2 })).toMatchObject({ reason: 'count', instructions: 2, rip: CODE + 6n });
      expect(engine.start(CODE, { until: CODE + 6n })).toMatchObject({ reason: 'until', instructions: 2, rip: CODE + 6n });
      engine.setBreakpoints([]);
    });

    it('counts a rep string instruction once per iteration (once when rcx is 0), ecx with 0x67', () => {
      // mov ecx, n ; lea rdi, [DATA] ; rep stosq ; inc rax ; int3
      const code = (n: number, prefix: number[] = []): Uint8Array =>
        program([0xb9, n, 0, 0, 0], [0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00], [...prefix, 0xf3, 0x48, 0xab], INC_RAX, INT3);
      for (const n of [0, 1, 5]) {
        load(code(n));
        expect(engine.start(CODE), `rcx = ${n}`).toMatchObject({ reason: 'interrupt', instructions: 4 + Math.max(n, 1) });
      }
      // movabs rcx, 0x100000003 ; lea rdi, [DATA] ; addr32 rep stosq ; inc rax ; int3   (the count is ecx: 3)
      load(program([0x48, 0xb9, 3, 0, 0, 0, 1, 0, 0, 0], [0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00], [0x67, 0xf3, 0x48, 0xab], INC_RAX, INT3));
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: 7 });
      expect(engine.readRegister('rcx')).toBe(0n); // the ecx writes zero-extend
      // A budget that ends right after the last iteration stops after the rep, not on it.
      load(code(3));
      expect(engine.start(CODE, { count: 5 })).toMatchObject({ reason: 'count', instructions: 5, rip: CODE + 15n });
      expect(engine.start(CODE + 15n)).toMatchObject({ reason: 'interrupt', instructions: 2 });
      // ... and one between iterations stops on it, with rcx counting down.
      expect(engine.start(CODE, { count: 3 })).toMatchObject({ reason: 'count', instructions: 3, rip: CODE + 12n });
      expect(engine.readRegister('rcx')).toBe(2n);
      expect(engine.start(CODE + 12n)).toMatchObject({ reason: 'interrupt', instructions: 4 });
    });

    it('saves a context into one it saved before (a thread switch without allocation)', () => {
      load(program(INC_RAX, INT3));
      engine.writeRegister('rax', 1n);
      engine.writeRegister('fs_base', 0x7000n);
      const a = engine.saveContext();
      engine.writeRegister('rax', 2n);
      engine.writeRegister('fs_base', 0x8000n);
      engine.writeXmm(3, new Uint8Array(16).fill(0x5a));
      const b = engine.saveContext(a);
      expect(b).toBe(a);
      engine.writeRegister('rax', 3n);
      engine.writeRegister('fs_base', 0n);
      engine.writeXmm(3, new Uint8Array(16));
      engine.restoreContext(a);
      expect([engine.readRegister('rax'), engine.readRegister('fs_base'), engine.readXmm(3)[0]]).toEqual([2n, 0x8000n, 0x5a]);
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: 2 });
      expect(engine.readRegister('rax')).toBe(3n);
    });

    it('answers cpuid with the model of src/engine/cpuid.ts', () => {
      load(program([0x0f, 0xa2], INT3)); // cpuid ; int3
      for (const leaf of [0, 1, 2, 4, 7, 0xb, 0xd, 0x80000000, 0x80000001, 0x80000008]) {
        engine.writeRegister('rax', 0xdead_0000_0000_0000n | BigInt(leaf));
        engine.writeRegister('rcx', 0n);
        expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: 2 });
        const got = (['rax', 'rbx', 'rcx', 'rdx'] as const).map((r) => engine.readRegister(r));
        expect(got, `leaf ${leaf.toString(16)}`).toEqual(cpuidLeaf(leaf).map((v) => BigInt(v)));
      }
    });

    it('starts with rflags 0x202 (IF set, as user space sees it with pushf)', () => {
      load(program([0x9c, 0x58], INT3)); // pushfq ; pop rax ; int3
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt' });
      expect(engine.readRegister('rax') & 0x202n).toBe(0x202n);
    });

    it('exits on syscall with rip after it', () => {
      // mov eax, 60 ; syscall ; inc rax
      load(program([0xb8, 0x3c, 0, 0, 0], [0x0f, 0x05], INC_RAX));
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'syscall', instructions: 2, rip: CODE + 7n });
      expect(engine.readRegister('rax')).toBe(60n);
    });

    it('reports int3 as interrupt 3 with rip after it', () => {
      load(program(INC_RAX, INT3));
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 2, rip: CODE + 4n });
    });

    it('reports ud2 as interrupt 6 at the ud2', () => {
      load(program(INC_RAX, [0x0f, 0x0b])); // inc rax ; ud2
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 6, instructions: 1, rip: CODE + 3n });
    });

    it('reports hlt as interrupt 0xf4', () => {
      load(program(INC_RAX, [0xf4])); // inc rax ; hlt
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 0xf4 });
      expect(engine.readRegister('rax')).toBe(1n);
    });

    it('reports undecodable bytes as invalid-instruction at them, with the bytes', () => {
      load(program(INC_RAX, [0x06])); // inc rax ; (push es: invalid in 64-bit mode)
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'invalid-instruction', instructions: 1, rip: CODE + 3n });
      expect(result.bytes?.[0]).toBe(0x06);
    });

    it('reports #DE at the div', () => {
      // inc rax ; xor ecx, ecx ; div rcx
      load(program(INC_RAX, [0x31, 0xc9], [0x48, 0xf7, 0xf1]));
      expect(engine.start(CODE)).toMatchObject({ reason: 'divide-error', instructions: 2, rip: CODE + 5n });
    });

    it('reports a write to unmapped memory as a fault at the faulting instruction', () => {
      // inc rax ; mov [0x90000], rax
      load(program(INC_RAX, [0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x09, 0x00]));
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'fault', instructions: 1, rip: CODE + 3n });
      expect(result.fault).toEqual({ kind: 'unmapped', access: 'write', address: 0x90000n, size: 8 });
    });

    it('reports a write to a read-only page as a protection fault', () => {
      engine.protect(DATA, PAGE, Perm.Read);
      // mov dword [0x20010], eax
      load(program([0x89, 0x04, 0x25, 0x10, 0x00, 0x02, 0x00]));
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'fault', instructions: 0, rip: CODE });
      expect(result.fault).toEqual({ kind: 'protection', access: 'write', address: DATA + 0x10n, size: 4 });
    });

    it('reports a read of unmapped memory as a read fault', () => {
      // mov rax, [0x90008]
      load(program([0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x09, 0x00]));
      const result = engine.start(CODE);
      expect(result.reason).toBe('fault');
      expect(result.fault).toMatchObject({ kind: 'unmapped', access: 'read', address: 0x90008n });
    });

    it('reports a jump to a non-executable page as a fetch fault at the target', () => {
      // mov rax, 0x20000 ; jmp rax
      load(program([0x48, 0xc7, 0xc0, 0x00, 0x00, 0x02, 0x00], [0xff, 0xe0]));
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'fault', instructions: 2, rip: DATA });
      expect(result.fault).toMatchObject({ kind: 'protection', access: 'fetch', address: DATA });
    });

    it('stops at breakpoints and resumes from one', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      engine.setBreakpoints([CODE + 6n]);
      expect(engine.start(CODE)).toMatchObject({ reason: 'breakpoint', instructions: 2, rip: CODE + 6n });
      expect(engine.start(CODE + 6n)).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 2 });
      expect(engine.readRegister('rax')).toBe(3n);
      engine.setBreakpoints([]);
    });

    it('stops an endless loop on timeout', () => {
      load(program([0xeb, 0xfe])); // jmp $
      const result = engine.start(CODE, { timeoutMs: 30 });
      expect(result.reason).toBe('timeout');
      expect(result.rip).toBe(CODE);
      expect(result.instructions).toBeGreaterThan(0);
    });

    it('reports int 0x80 as interrupt 0x80 with rip after it', () => {
      load(program([0xcd, 0x80], INC_RAX)); // int 0x80 ; inc rax
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 0x80, rip: CODE + 2n });
    });

    it('faults on code whose page lost exec permission between runs', () => {
      load(program(INC_RAX, INT3));
      expect(engine.start(CODE).reason).toBe('interrupt');
      engine.protect(CODE, PAGE, Perm.RW);
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'fault', instructions: 0, rip: CODE });
      expect(result.fault).toMatchObject({ kind: 'protection', access: 'fetch', address: CODE });
    });

    it('runs code the guest rewrote in a RWX page (the patcher case)', () => {
      engine.protect(CODE, PAGE, Perm.All);
      // call 0x10100 ; mov byte [0x10100], 0xc3... see below ; call 0x10100 ; int3
      //   0x10000: e8 fb 00 00 00            call 0x10100
      //   0x10005: c6 04 25 00 01 01 00 c3   mov byte [0x10100], 0xc3   (ret over the inc)
      //   0x1000d: e8 ee 00 00 00            call 0x10100
      //   0x10012: cc                        int3
      //   0x10100: 48 ff c0 c3               inc rax ; ret
      load(program([0xe8, 0xfb, 0, 0, 0], [0xc6, 0x04, 0x25, 0x00, 0x01, 0x01, 0x00, 0xc3], [0xe8, 0xee, 0, 0, 0], INT3));
      engine.writeMemory(CODE + 0x100n, program(INC_RAX, [0xc3]));
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 7 });
      expect(engine.readRegister('rax')).toBe(1n);
    });

    it('runs code the host rewrote (no stale decoded instructions)', () => {
      load(program(INC_RAX, INT3));
      engine.start(CODE);
      // add rax, 0x10 ; int3   written over the first program
      engine.writeMemory(CODE, program([0x48, 0x83, 0xc0, 0x10], INT3));
      engine.writeRegister('rax', 0n);
      engine.start(CODE);
      expect(engine.readRegister('rax')).toBe(0x10n);
    });
  });

  describe('hooks', () => {
    it('calls code hooks before each instruction in range, and not after removal', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      const seen: bigint[] = [];
      const handle = engine.addHook({ type: HookType.Code, callback: (address) => seen.push(address), begin: CODE + 3n, end: CODE + 6n });
      expect(engine.start(CODE).instructions).toBe(4);
      expect(seen).toEqual([CODE + 3n, CODE + 6n]);
      engine.removeHook(handle);
      engine.start(CODE);
      expect(seen).toHaveLength(2);
    });

    it('stop() from a code hook stops before that instruction', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INT3));
      engine.addHook({ type: HookType.Code, callback: (address) => address === CODE + 3n && engine.stop() });
      expect(engine.start(CODE)).toMatchObject({ reason: 'stopped', instructions: 1, rip: CODE + 3n });
      expect(engine.readRegister('rax')).toBe(1n);
    });

    it('stop() from a memory hook ends the run after that instruction', () => {
      // mov [0x20040], rax ; inc rax ; int3
      load(program([0x48, 0x89, 0x04, 0x25, 0x40, 0x00, 0x02, 0x00], INC_RAX, INT3));
      engine.addHook({ type: HookType.MemWrite, callback: () => engine.stop() });
      expect(engine.start(CODE)).toMatchObject({ reason: 'stopped', instructions: 1, rip: CODE + 8n });
      expect(engine.readRegister('rax')).toBe(0n);
    });

    it('reports memory writes with address, size and value', () => {
      // mov rax, -2 ; mov [0x20040], rax ; int3
      load(program([0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff], [0x48, 0x89, 0x04, 0x25, 0x40, 0x00, 0x02, 0x00], INT3));
      const writes: [string, bigint, number, bigint][] = [];
      engine.addHook({ type: HookType.MemWrite, callback: (access, address, size, value) => writes.push([access, address, size, value]) });
      engine.start(CODE);
      expect(writes).toEqual([['write', DATA + 0x40n, 8, 0xffff_ffff_ffff_fffen]]);
    });

    it('reports instruction fetches with address and length', () => {
      load(program(INC_RAX, INC_RAX, INT3));
      const fetches: string[] = [];
      engine.addHook({ type: HookType.MemFetch, callback: (access, address, size) => fetches.push(`${access}@${address - CODE}/${size}`) });
      engine.start(CODE);
      expect(fetches).toEqual(['fetch@0/3', 'fetch@3/3', 'fetch@6/1']);
    });

    it('lets a hook remove itself from inside its callback', () => {
      load(program(INC_RAX, INC_RAX, INT3));
      let calls = 0;
      const handle = engine.addHook({
        type: HookType.Block,
        callback: () => {
          calls++;
          engine.removeHook(handle);
        },
      });
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 3 });
      engine.start(CODE);
      expect(calls).toBe(1);
    });

    // The loader attributes each write into code to the instruction that made it by this rip.
    it('shows the accessing instruction as rip inside a memory hook', () => {
      // inc rax ; mov [0x20040], rax ; int3
      load(program(INC_RAX, [0x48, 0x89, 0x04, 0x25, 0x40, 0x00, 0x02, 0x00], INT3));
      const rips: bigint[] = [];
      engine.addHook({ type: HookType.MemWrite, callback: () => rips.push(engine.readRegister('rip')) });
      engine.start(CODE);
      expect(rips).toEqual([CODE + 3n]);
    });

    it('lets a MemInvalid hook map the page and retry the access', () => {
      // mov qword [0x90000], 7 ; int3
      load(program([0x48, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x09, 0x00, 0x07, 0x00, 0x00, 0x00], INT3));
      const faults: MemFault[] = [];
      engine.addHook({
        type: HookType.MemInvalid,
        callback: (fault) => {
          faults.push(fault);
          engine.map(0x90000n, PAGE, Perm.RW);
          return true;
        },
      });
      expect(engine.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 2 });
      expect(faults).toEqual([{ kind: 'unmapped', access: 'write', address: 0x90000n, size: 8 }]);
      expect(engine.readMemory(0x90000n, 1)[0]).toBe(7);
    });

    it('lets a Syscall hook service the call and continue, and stop() end the run', () => {
      // mov eax, 39 ; syscall ; mov rbx, rax ; syscall ; inc rax
      load(program([0xb8, 0x27, 0, 0, 0], [0x0f, 0x05], [0x48, 0x89, 0xc3], [0x0f, 0x05], INC_RAX));
      let calls = 0;
      engine.addHook({
        type: HookType.Syscall,
        callback: () => {
          calls++;
          if (calls === 1) engine.writeRegister('rax', 1234n);
          else engine.stop();
        },
      });
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'stopped', instructions: 4, rip: CODE + 12n });
      expect(engine.readRegister('rbx')).toBe(1234n);
    });

    it('lets an Interrupt hook handle int3 and continue', () => {
      load(program(INT3, INC_RAX, [0xf4])); // int3 ; inc rax ; hlt
      const interrupts: number[] = [];
      engine.addHook({ type: HookType.Interrupt, callback: (n) => (interrupts.push(n), n === 3) });
      const result = engine.start(CODE);
      expect(result).toMatchObject({ reason: 'interrupt', interrupt: 0xf4 });
      expect(interrupts).toEqual([3, 0xf4]);
      expect(engine.readRegister('rax')).toBe(1n);
    });
  });

  describe('state', () => {
    it('restores a saved CPU context', () => {
      engine.writeRegister('rax', 5n);
      engine.writeXmm(3, new Uint8Array(16).fill(0xaa));
      const context = engine.saveContext();
      load(program(INC_RAX, INT3));
      engine.start(CODE);
      engine.writeXmm(3, new Uint8Array(16));
      engine.restoreContext(context);
      expect(engine.readRegister('rax')).toBe(5n);
      expect(engine.readXmm(3)[0]).toBe(0xaa);
    });

    it('restores memory contents, mappings and permissions from a snapshot', () => {
      engine.writeMemory(DATA, Uint8Array.of(1, 2, 3, 4));
      engine.writeRegister('rbx', 77n);
      const snapshot = engine.snapshot();
      engine.writeMemory(DATA, Uint8Array.of(9, 9, 9, 9));
      engine.protect(DATA, PAGE, Perm.Read);
      engine.map(0x70000n, PAGE, Perm.RW);
      engine.unmap(STACK, PAGE);
      engine.writeRegister('rbx', 0n);
      engine.restoreSnapshot(snapshot);
      expect([...engine.readMemory(DATA, 4)]).toEqual([1, 2, 3, 4]);
      expect(engine.readRegister('rbx')).toBe(77n);
      expect(engine.regions()).toEqual([
        { begin: CODE, end: CODE + 0x1000n, perms: Perm.RX },
        { begin: DATA, end: DATA + 0x1000n, perms: Perm.RW },
        { begin: STACK, end: STACK + 0x1000n, perms: Perm.RW },
      ]);
    });
  });

  describe('trace', () => {
    it('keeps the last retired instruction addresses, oldest first', () => {
      load(program(INC_RAX, INC_RAX, INC_RAX, INC_RAX, INC_RAX, INT3));
      engine.enableTrace(3);
      engine.start(CODE, { count: 5 });
      const trace = engine.readTrace();
      expect(trace.map((e) => e.rip)).toEqual([CODE + 6n, CODE + 9n, CODE + 12n]);
      expect(trace[1]!.seq - trace[0]!.seq).toBe(1);
      expect(trace[2]!.seq - trace[1]!.seq).toBe(1);
      engine.disableTrace();
    });
  });
});
