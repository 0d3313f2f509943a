// WasmEngine: memory map and faults, decoded-code invalidation, exits, hooks, state and tracing.
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { EmulationError, HookType, Perm, type MemFault } from '../../src/engine/engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK_TOP = 0x40000n;

async function machine(code: number[], codePerms: Perm = Perm.RX): Promise<WasmEngine> {
  const e = await WasmEngine.create();
  e.map(CODE, 0x1000, codePerms);
  e.map(DATA, 0x1000, Perm.RW);
  e.map(STACK_TOP - 0x2000n, 0x2000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array(code));
  e.writeRegister('rsp', STACK_TOP);
  return e;
}

function errorCode(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EmulationError) return err.code;
    throw err;
  }
  return 'none';
}

describe('WasmEngine memory map', () => {
  it('checks arguments (ARG) before overlaps (MAP)', async () => {
    const e = await WasmEngine.create();
    e.map(0x1000n, 0x2000, Perm.RW);
    expect(errorCode(() => e.map(0x1000n, 0, Perm.RW))).toBe('ARG');
    expect(errorCode(() => e.map(0x1800n, 0x1000, Perm.RW))).toBe('ARG');
    expect(errorCode(() => e.map(0x1000n, 0x1001, Perm.RW))).toBe('ARG');
    expect(errorCode(() => e.map(0x5000n, 0x1000, 8 as Perm))).toBe('ARG');
    expect(errorCode(() => e.map(0xfffffffffffff000n, 0x2000, Perm.RW))).toBe('ARG');
    expect(errorCode(() => e.map(0x2000n, 0x1000, Perm.RW))).toBe('MAP');
    expect(errorCode(() => e.unmap(0x3000n, 0x1000))).toBe('NOMEM');
    expect(errorCode(() => e.protect(0x2000n, 0x2000, Perm.RX))).toBe('NOMEM');
    expect(errorCode(() => e.readMemory(0x3000n, 1))).toBe('READ_UNMAPPED');
    expect(errorCode(() => e.writeMemory(0x2fffn, new Uint8Array(2)))).toBe('WRITE_UNMAPPED');
  });

  it('protect splits regions; unmap removes pages and their contents', async () => {
    const e = await WasmEngine.create();
    e.map(0x10000n, 0x3000, Perm.RW);
    e.writeMemory(0x11000n, new Uint8Array([7]));
    e.protect(0x11000n, 0x1000, Perm.RX);
    expect(e.regions()).toEqual([
      { begin: 0x10000n, end: 0x11000n, perms: Perm.RW },
      { begin: 0x11000n, end: 0x12000n, perms: Perm.RX },
      { begin: 0x12000n, end: 0x13000n, perms: Perm.RW },
    ]);
    e.unmap(0x11000n, 0x1000);
    e.map(0x11000n, 0x1000, Perm.RW);
    expect(e.readMemory(0x11000n, 1)[0]).toBe(0); // a fresh page is zeroed
  });

  it('maps the last page of the 48-bit space', async () => {
    const e = await WasmEngine.create();
    e.map(0x7ffffffff000n, 0x1000, Perm.RW);
    e.writeMemory(0x7ffffffffff8n, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...e.readMemory(0x7ffffffffff8n, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('WasmEngine faults', () => {
  it('a page-crossing read checks the second page (unmapped) and changes nothing', async () => {
    // mov rax, [rbx]   (rbx = last 4 bytes of DATA's page; the next page is unmapped)
    const e = await machine([0x48, 0x8b, 0x03, 0xf4]);
    e.writeRegister('rbx', DATA + 0xffcn);
    e.writeRegister('rax', 0x55n);
    const r = e.start(CODE);
    expect(r.reason).toBe('fault');
    expect(r.rip).toBe(CODE);
    expect(r.fault).toEqual({ kind: 'unmapped', access: 'read', address: DATA + 0x1000n, size: 8 });
    expect(e.readRegister('rax')).toBe(0x55n);
    expect(r.instructions).toBe(0);
  });

  it('a page-crossing write into a read-only page faults without a partial write', async () => {
    // mov [rbx], rax
    const e = await machine([0x48, 0x89, 0x03, 0xf4]);
    e.map(DATA + 0x1000n, 0x1000, Perm.Read);
    e.writeRegister('rbx', DATA + 0xffcn);
    e.writeRegister('rax', 0x1122334455667788n);
    const r = e.start(CODE);
    expect(r.reason).toBe('fault');
    expect(r.fault).toEqual({ kind: 'protection', access: 'write', address: DATA + 0x1000n, size: 8 });
    expect([...e.readMemory(DATA + 0xffcn, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('a page-crossing write succeeds when both pages are writable', async () => {
    const e = await machine([0x48, 0x89, 0x03, 0xf4]);
    e.map(DATA + 0x1000n, 0x1000, Perm.RW);
    e.writeRegister('rbx', DATA + 0xffcn);
    e.writeRegister('rax', 0x1122334455667788n);
    expect(e.start(CODE).reason).toBe('interrupt');
    expect([...e.readMemory(DATA + 0xffcn, 8)]).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  });

  it('fetching from a non-executable page is a protection fault with access fetch', async () => {
    // jmp rbx  (rbx = DATA, RW)
    const e = await machine([0xff, 0xe3]);
    e.writeRegister('rbx', DATA);
    const r = e.start(CODE);
    expect(r.reason).toBe('fault');
    expect(r.rip).toBe(DATA);
    expect(r.fault).toEqual({ kind: 'protection', access: 'fetch', address: DATA, size: 1 });
  });

  it('an instruction straddling into a non-executable page faults on the fetch of the second page', async () => {
    const e = await WasmEngine.create();
    e.map(CODE, 0x1000, Perm.RX);
    e.map(CODE + 0x1000n, 0x1000, Perm.RW);
    // mov eax, 0x11223344 with its last 2 bytes on the RW page
    e.writeMemory(CODE + 0xffdn, new Uint8Array([0xb8, 0x44, 0x33, 0x22, 0x11]));
    const r = e.start(CODE + 0xffdn);
    expect(r.reason).toBe('fault');
    expect(r.fault?.access).toBe('fetch');
    expect(r.fault?.address).toBe(CODE + 0x1000n);
  });

  it('a write to a read-only page is a protection fault at the writing instruction', async () => {
    // mov byte [rbx], 1
    const e = await machine([0xc6, 0x03, 0x01, 0xf4]);
    e.protect(DATA, 0x1000, Perm.Read);
    e.writeRegister('rbx', DATA + 0x10n);
    const r = e.start(CODE);
    expect(r.reason).toBe('fault');
    expect(r.fault).toEqual({ kind: 'protection', access: 'write', address: DATA + 0x10n, size: 1 });
    expect(r.rip).toBe(CODE);
  });

  it('a read-modify-write to a read-only page faults before changing flags or memory', async () => {
    // add [rbx], eax
    const e = await machine([0x01, 0x03, 0xf4]);
    e.protect(DATA, 0x1000, Perm.Read);
    e.writeRegister('rbx', DATA);
    e.writeRegister('rax', 1n);
    e.writeRegister('rflags', 0x2n | 0x40n);
    const r = e.start(CODE);
    expect(r.fault?.access).toBe('write');
    expect(e.readRegister('rflags') & 0x8d5n).toBe(0x40n);
  });
});

describe('WasmEngine decoded-code invalidation', () => {
  // CODE+0: mov eax, 1          b8 01 00 00 00
  // CODE+5: hlt                 f4
  // CODE+6: mov byte [rip-12], 7   c6 05 f4 ff ff ff 07   (patches the immediate at CODE+1)
  // CODE+13: hlt                f4
  const SMC = [0xb8, 0x01, 0, 0, 0, 0xf4, 0xc6, 0x05, 0xf4, 0xff, 0xff, 0xff, 0x07, 0xf4];

  it('runs the new instruction after the guest overwrites code that already ran', async () => {
    const e = await machine(SMC, Perm.All);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(1n);
    e.start(CODE + 6n);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(7n);
  });

  it('runs the new instruction after the host overwrites code (writeMemory)', async () => {
    const e = await machine(SMC, Perm.RX);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(1n);
    e.writeMemory(CODE + 1n, new Uint8Array([9]));
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(9n);
  });

  it('sees a trampoline written over a hot loop (movabs rax, target; jmp rax)', async () => {
    // CODE: L: inc ecx; cmp ecx, 1000; jne L; hlt    -- then patched to jump to CODE+0x100: mov edx, 42; hlt
    const e = await machine([0xff, 0xc1, 0x81, 0xf9, 0xe8, 0x03, 0, 0, 0x75, 0xf6, 0xf4], Perm.RX);
    e.writeMemory(CODE + 0x100n, new Uint8Array([0xba, 42, 0, 0, 0, 0xf4]));
    e.start(CODE);
    expect(e.readRegister('rcx')).toBe(1000n);
    // movabs rax, CODE+0x100; jmp rax
    e.writeMemory(CODE, new Uint8Array([0x48, 0xb8, 0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 0xff, 0xe0]));
    const r = e.start(CODE);
    expect(r.rip).toBe(CODE + 0x106n);
    expect(e.readRegister('rdx')).toBe(42n);
  });

  it('protect() removing exec after code ran makes the next fetch fault', async () => {
    const e = await machine([0x90, 0xf4]);
    expect(e.start(CODE).reason).toBe('interrupt');
    e.protect(CODE, 0x1000, Perm.Read);
    const r = e.start(CODE);
    expect(r.reason).toBe('fault');
    expect(r.fault).toEqual({ kind: 'protection', access: 'fetch', address: CODE, size: 1 });
  });

  it('rep movsb that overwrites the code after it executes the copied bytes', async () => {
    // rep movsb; (next 5 bytes are overwritten with: mov eax, 5) ; hlt
    const e = await machine([0xf3, 0xa4, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4], Perm.All);
    e.writeMemory(DATA, new Uint8Array([0xb8, 5, 0, 0, 0]));
    e.writeRegister('rsi', DATA);
    e.writeRegister('rdi', CODE + 2n);
    e.writeRegister('rcx', 5n);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(5n);
  });
});

describe('WasmEngine exits', () => {
  it('stops on count, until and breakpoints; resumes from a breakpoint', async () => {
    // inc eax x4; hlt
    const e = await machine([0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xf4]);
    expect(e.start(CODE, { count: 3 })).toMatchObject({ reason: 'count', instructions: 3, rip: CODE + 6n });
    e.writeRegister('rax', 0n);
    expect(e.start(CODE, { until: CODE + 4n })).toMatchObject({ reason: 'until', instructions: 2, rip: CODE + 4n });
    e.setBreakpoints([CODE + 2n]);
    expect(e.start(CODE)).toMatchObject({ reason: 'breakpoint', rip: CODE + 2n });
    expect(e.start(CODE + 2n)).toMatchObject({ reason: 'interrupt', interrupt: 0xf4 });
    expect(e.readRegister('rax')).toBe(6n);
    e.setBreakpoints([]);
    expect(e.start(CODE).reason).toBe('interrupt');
  });

  it('exits on syscall with rip after it, and on int3/ud2/int n', async () => {
    // syscall; int3; int 0x80; ud2
    const e = await machine([0x0f, 0x05, 0xcc, 0xcd, 0x80, 0x0f, 0x0b]);
    expect(e.start(CODE)).toMatchObject({ reason: 'syscall', rip: CODE + 2n, instructions: 1 });
    expect(e.start(CODE + 2n)).toMatchObject({ reason: 'interrupt', interrupt: 3, rip: CODE + 3n });
    expect(e.start(CODE + 3n)).toMatchObject({ reason: 'interrupt', interrupt: 0x80, rip: CODE + 5n });
    expect(e.start(CODE + 5n)).toMatchObject({ reason: 'interrupt', interrupt: 6, rip: CODE + 5n });
  });

  it('reports unsupported instructions with their bytes instead of executing them', async () => {
    // vzeroupper (AVX: not implemented, cpuid says so)
    const e = await machine([0xc5, 0xf8, 0x77, 0xf4]);
    const r = e.start(CODE);
    expect(r.reason).toBe('invalid-instruction');
    expect(r.rip).toBe(CODE);
    expect([...(r.bytes ?? []).slice(0, 4)]).toEqual([0xc5, 0xf8, 0x77, 0xf4]);
  });

  it('rdtsc is deterministic (derived from the instruction count)', async () => {
    // rdtsc; mov ebx, eax; rdtsc
    const e = await machine([0x0f, 0x31, 0x89, 0xc3, 0x0f, 0x31, 0xf4]);
    e.start(CODE);
    expect(e.readRegister('rax') - e.readRegister('rbx')).toBe(2n);
  });

  it('stops on timeout in an endless loop', async () => {
    // jmp $
    const e = await machine([0xeb, 0xfe]);
    const r = e.start(CODE, { timeoutMs: 30 });
    expect(r.reason).toBe('timeout');
    expect(r.instructions).toBeGreaterThan(0);
  });
});

describe('WasmEngine hooks', () => {
  it('code hooks see each instruction in range with its size', async () => {
    // nop; inc eax; nop; hlt
    const e = await machine([0x90, 0xff, 0xc0, 0x90, 0xf4]);
    const seen: [bigint, number][] = [];
    const h = e.addHook({ type: HookType.Code, begin: CODE + 1n, end: CODE + 3n, callback: (a, s) => seen.push([a, s]) });
    e.start(CODE);
    expect(seen).toEqual([[CODE + 1n, 2], [CODE + 3n, 1]]);
    e.removeHook(h);
    e.start(CODE);
    expect(seen.length).toBe(2);
  });

  it('mem write hooks get address, size and value', async () => {
    // mov [rbx], eax; mov rcx, [rbx]
    const e = await machine([0x89, 0x03, 0x48, 0x8b, 0x0b, 0xf4]);
    e.writeRegister('rbx', DATA + 8n);
    e.writeRegister('rax', 0xabcdn);
    const writes: unknown[] = [];
    const reads: unknown[] = [];
    e.addHook({ type: HookType.MemWrite, callback: (acc, a, s, v) => writes.push([acc, a, s, v]) });
    e.addHook({ type: HookType.MemRead, callback: (acc, a, s, v) => reads.push([acc, a, s, v]) });
    e.start(CODE);
    expect(writes).toEqual([['write', DATA + 8n, 4, 0xabcdn]]);
    expect(reads).toEqual([['read', DATA + 8n, 8, 0xabcdn]]);
  });

  it('a MemInvalid hook can map the page and retry the access', async () => {
    // mov rax, [rbx]
    const e = await machine([0x48, 0x8b, 0x03, 0xf4]);
    e.writeRegister('rbx', 0x500008n);
    const faults: MemFault[] = [];
    e.addHook({
      type: HookType.MemInvalid,
      callback: (f) => {
        faults.push(f);
        e.map(0x500000n, 0x1000, Perm.RW);
        e.writeMemory(0x500008n, new Uint8Array([0x2a]));
        return true;
      },
    });
    const r = e.start(CODE);
    expect(r.reason).toBe('interrupt');
    expect(faults).toEqual([{ kind: 'unmapped', access: 'read', address: 0x500008n, size: 8 }]);
    expect(e.readRegister('rax')).toBe(0x2an);
  });

  it('a Syscall hook consumes the syscall exit', async () => {
    // syscall; syscall; hlt
    const e = await machine([0x0f, 0x05, 0x0f, 0x05, 0xf4]);
    let calls = 0;
    e.addHook({ type: HookType.Syscall, callback: () => { calls++; e.writeRegister('rax', BigInt(calls)); } });
    const r = e.start(CODE);
    expect(r.reason).toBe('interrupt');
    expect(calls).toBe(2);
    expect(e.readRegister('rax')).toBe(2n);
  });

  it('stop() from a code hook ends the run before that instruction', async () => {
    const e = await machine([0x90, 0x90, 0x90, 0xf4]);
    e.addHook({ type: HookType.Code, begin: CODE + 2n, end: CODE + 2n, callback: () => e.stop() });
    expect(e.start(CODE)).toMatchObject({ reason: 'stopped', rip: CODE + 2n, instructions: 2 });
  });
});

describe('WasmEngine state', () => {
  it('saveContext/restoreContext round-trips registers, flags and xmm', async () => {
    const e = await machine([0x48, 0xff, 0xc0, 0xf4]);
    e.writeRegister('rax', 41n);
    e.writeRegister('fs_base', 0x1234n);
    e.writeXmm(3, new Uint8Array(16).fill(0xab));
    const ctx = e.saveContext();
    e.start(CODE);
    e.writeXmm(3, new Uint8Array(16));
    e.writeRegister('fs_base', 0n);
    expect(e.readRegister('rax')).toBe(42n);
    e.restoreContext(ctx);
    expect(e.readRegister('rax')).toBe(41n);
    expect(e.readRegister('fs_base')).toBe(0x1234n);
    expect(e.readXmm(3)[15]).toBe(0xab);
  });

  describe('x87 state (stack, tags, control and status word) in contexts and snapshots', () => {
    // CODE+0x00: fldcw [rbx]; fld1; fldpi; hlt          d9 2b / d9 e8 / d9 eb / f4
    // CODE+0x20: fninit; hlt                            db e3 / f4
    // CODE+0x40: fnstcw [rbx+8]; fnstsw ax; fstp qword [rbx+16]; fstp qword [rbx+24]; hlt
    //            d9 7b 08 / df e0 / dd 5b 10 / dd 5b 18 / f4
    async function fpuMachine(): Promise<WasmEngine> {
      const e = await machine([]);
      e.writeMemory(CODE, new Uint8Array([0xd9, 0x2b, 0xd9, 0xe8, 0xd9, 0xeb, 0xf4]));
      e.writeMemory(CODE + 0x20n, new Uint8Array([0xdb, 0xe3, 0xf4]));
      e.writeMemory(CODE + 0x40n, new Uint8Array([0xd9, 0x7b, 0x08, 0xdf, 0xe0, 0xdd, 0x5b, 0x10, 0xdd, 0x5b, 0x18, 0xf4]));
      e.writeMemory(DATA, new Uint8Array([0x7f, 0x02])); // control word 0x27f (precision: double)
      e.writeRegister('rbx', DATA);
      expect(e.start(CODE).reason).toBe('interrupt');
      return e;
    }
    function expectPiOverOne(e: WasmEngine): void {
      expect(e.start(CODE + 0x40n).reason).toBe('interrupt');
      const view = new DataView(e.readMemory(DATA, 32).buffer);
      expect(view.getUint16(8, true)).toBe(0x27f);
      expect((Number(e.readRegister('rax')) >> 11) & 7).toBe(6); // TOP after two pushes
      expect(view.getFloat64(16, true)).toBe(Math.PI);
      expect(view.getFloat64(24, true)).toBe(1);
    }

    it('restoreContext brings back the x87 stack, tags and control word after fninit', async () => {
      const e = await fpuMachine();
      const ctx = e.saveContext();
      expect(e.start(CODE + 0x20n).reason).toBe('interrupt'); // fninit: empty stack, control 0x37f
      e.restoreContext(ctx);
      expectPiOverOne(e);
    });

    it('restoreSnapshot brings back the x87 state too', async () => {
      const e = await fpuMachine();
      const snap = e.snapshot();
      expect(e.start(CODE + 0x20n).reason).toBe('interrupt');
      e.restoreSnapshot(snap);
      expectPiOverOne(e);
    });
  });

  it('restoreSnapshot brings back memory, mappings, permissions and registers', async () => {
    const e = await machine([0xc6, 0x03, 0x05, 0xf4]); // mov byte [rbx], 5
    e.writeRegister('rbx', DATA);
    const snap = e.snapshot();
    e.start(CODE);
    e.map(0x900000n, 0x1000, Perm.RW);
    e.protect(DATA, 0x1000, Perm.Read);
    expect(e.readMemory(DATA, 1)[0]).toBe(5);
    e.restoreSnapshot(snap);
    expect(e.readMemory(DATA, 1)[0]).toBe(0);
    expect(e.regions().find((r) => r.begin === DATA)?.perms).toBe(Perm.RW);
    expect(e.regions().some((r) => r.begin === 0x900000n)).toBe(false);
    expect(e.start(CODE).reason).toBe('interrupt');
    expect(e.readMemory(DATA, 1)[0]).toBe(5);
  });

  it('writing rflags sets the flags; reading materialises lazy flags', async () => {
    // cmp eax, eax ; hlt
    const e = await machine([0x39, 0xc0, 0xf4]);
    e.start(CODE);
    expect(e.readRegister('rflags') & 0x8d5n).toBe(0x44n); // ZF | PF
    e.writeRegister('rflags', 0x2n | 0x1n | 0x800n);
    expect(e.readRegister('rflags') & 0x8d5n).toBe(0x801n);
  });

  it('the trace ring keeps the last retired rips, oldest first', async () => {
    const e = await machine([0x90, 0x90, 0x90, 0x90, 0xf4]);
    e.enableTrace(3);
    e.start(CODE);
    const t = e.readTrace();
    expect(t.map((x) => x.rip)).toEqual([CODE + 2n, CODE + 3n, CODE + 4n]);
    expect(t[2]!.seq - t[0]!.seq).toBe(2);
    e.disableTrace();
    expect(e.readTrace()).toEqual([]);
  });
});

describe('WasmEngine.probe', () => {
  it('reports length and support without executing', async () => {
    const e = await WasmEngine.create();
    expect(e.probe(new Uint8Array([0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8]))).toEqual({ length: 10, supported: true }); // movabs rax, imm64
    expect(e.probe(new Uint8Array([0xf3, 0x0f, 0x1e, 0xfa]))).toEqual({ length: 4, supported: true }); // endbr64
    expect(e.probe(new Uint8Array([0x66, 0x0f, 0x1f, 0x44, 0, 0]))).toEqual({ length: 6, supported: true }); // nop word [rax+rax]
    expect(e.probe(new Uint8Array([0xd9, 0xe8]))).toEqual({ length: 2, supported: true }); // fld1
    expect(e.probe(new Uint8Array([0x0f, 0x01, 0xd6])).supported).toBe(false); // xtest (no RTM)
    expect(e.probe(new Uint8Array([0x48, 0x8b]))).toMatchObject({ supported: false }); // truncated
    expect(e.probe(new Uint8Array([0xf0, 0x48, 0x89, 0xc8])).supported).toBe(false); // lock mov rax, rcx: #UD
  });
});

describe('WasmEngine copy-on-write snapshot', () => {
  it('restores after guest and host writes to many pages, unmaps, new mappings and SMC; restorable twice', async () => {
    const e = await WasmEngine.create();
    const BASE = 0x400000n, PAGES = 600;
    e.map(CODE, 0x1000, Perm.RX);
    e.map(BASE, PAGES * 0x1000, Perm.RW);
    for (let p = 0; p < PAGES; p += 7) e.writeMemory(BASE + BigInt(p) * 0x1000n, new Uint8Array([p & 0xff, 0x5a]));
    // loop: mov qword [rdi], rcx; add rdi, 0x1000; dec rcx; jnz loop; hlt
    // 48 89 0f / 48 81 c7 00 10 00 00 / 48 ff c9 / 75 f1 / f4
    e.writeMemory(CODE, new Uint8Array([0x48, 0x89, 0x0f, 0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, 0x48, 0xff, 0xc9, 0x75, 0xf1, 0xf4]));
    e.writeRegister('rdi', BASE);
    e.writeRegister('rcx', BigInt(PAGES));
    const before = e.readMemory(BASE, PAGES * 0x1000);
    const snap = e.snapshot();
    for (let round = 0; round < 2; round++) {
      expect(e.start(CODE).reason).toBe('interrupt'); // every page written by the guest
      e.writeMemory(BASE + 0x1234n, new Uint8Array([1, 2, 3])); // host write
      e.writeMemory(CODE + 15n, new Uint8Array([0xcc])); // code page written (SMC)
      e.unmap(BASE + 0x10000n, 0x2000);
      e.map(0x900000n, 0x3000, Perm.RW);
      e.writeMemory(0x900000n, new Uint8Array([9]));
      e.restoreSnapshot(snap);
      expect(Buffer.from(e.readMemory(BASE, PAGES * 0x1000)).equals(Buffer.from(before))).toBe(true);
      expect(e.readMemory(CODE + 15n, 1)[0]).toBe(0xf4);
      expect(e.regions().map((r) => r.begin)).toEqual([CODE, BASE]);
      expect(e.readRegister('rcx')).toBe(BigInt(PAGES));
    }
  });

  it('refuses a snapshot replaced by a later one', async () => {
    const e = await WasmEngine.create();
    e.map(CODE, 0x1000, Perm.RW);
    const first = e.snapshot();
    e.snapshot();
    expect(() => e.restoreSnapshot(first)).toThrow(/replaced/);
  });
});
