// WasmEngine decoded-block cache: code is decoded a basic block at a time, so these tests aim at
// what a block could get wrong: writes into the block that is running, budgets, faults and traces
// that end inside a block, instructions decoded ahead but never reached, and arena turnover.
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { Perm } from '../../src/engine/engine.js';

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

describe('decoded blocks: self-modifying code inside the running block', () => {
  it('a loop that patches the immediate of its own next instruction sees each new value', async () => {
    // CODE+0:  mov ecx, 3            b9 03 00 00 00
    // CODE+5:  mov [rip+2], cl       88 0d 02 00 00 00   (the imm8 of the add below)
    // CODE+11: add eax, 0x10         83 c0 10
    // CODE+14: dec ecx               ff c9
    // CODE+16: jnz CODE+5            75 f3
    // CODE+18: int3                  cc
    const e = await machine([0xb9, 3, 0, 0, 0, 0x88, 0x0d, 2, 0, 0, 0, 0x83, 0xc0, 0x10, 0xff, 0xc9, 0x75, 0xf3, 0xcc], Perm.All);
    const r = e.start(CODE);
    expect(r).toMatchObject({ reason: 'interrupt', interrupt: 3, instructions: 1 + 3 * 4 + 1 });
    // 3 + 2 + 1; a stale decode of the first iteration would give 0x10 + 3 + 2.
    expect(e.readRegister('rax')).toBe(6n);
  });

  it('an instruction that rewrites the opcode right after it runs the new instruction', async () => {
    // CODE+0: mov word [rip+0], 0xc0ff   66 c7 05 00 00 00 00 ff c0   (turns the dec below into inc eax)
    // CODE+9: dec eax                    ff c8
    // CODE+11: hlt                       f4
    const e = await machine([0x66, 0xc7, 0x05, 0, 0, 0, 0, 0xff, 0xc0, 0xff, 0xc8, 0xf4], Perm.All);
    expect(e.start(CODE)).toMatchObject({ reason: 'interrupt', interrupt: 0xf4, instructions: 3 });
    expect(e.readRegister('rax')).toBe(1n);
    expect([...e.readMemory(CODE + 9n, 2)]).toEqual([0xff, 0xc0]);
  });

  it('a store into the running block from a traced run keeps the trace and the new code', async () => {
    // Same self-patching loop as above, traced: every retired rip appears once, in order.
    const e = await machine([0xb9, 3, 0, 0, 0, 0x88, 0x0d, 2, 0, 0, 0, 0x83, 0xc0, 0x10, 0xff, 0xc9, 0x75, 0xf3, 0xcc], Perm.All);
    e.enableTrace(64);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(6n);
    const loop = [5n, 11n, 14n, 16n].map((o) => CODE + o);
    expect(e.readTrace().map((t) => t.rip)).toEqual([CODE, ...loop, ...loop, ...loop, CODE + 18n]);
  });
});

describe('decoded blocks: exits inside a block', () => {
  // inc eax x5; hlt (one block of six instructions)
  const INCS = [0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xf4];

  it('single-stepping through a block retires one instruction at a time with rip between them', async () => {
    const e = await machine(INCS);
    e.enableTrace(16);
    let rip = CODE;
    for (let i = 1; i <= 5; i++) {
      const r = e.start(rip, { count: 1 });
      expect(r).toMatchObject({ reason: 'count', instructions: 1, rip: CODE + BigInt(2 * i) });
      expect(e.readRegister('rax')).toBe(BigInt(i));
      rip = r.rip;
    }
    const trace = e.readTrace();
    expect(trace.map((t) => t.rip)).toEqual([0n, 2n, 4n, 6n, 8n].map((o) => CODE + o));
    expect(trace.map((t) => t.seq - trace[0]!.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a budget ending inside a block, traced, leaves the ring consistent for the next run', async () => {
    const e = await machine(INCS);
    e.enableTrace(4); // smaller than the block: the ring wraps inside it
    expect(e.start(CODE, { count: 3 })).toMatchObject({ reason: 'count', rip: CODE + 6n });
    expect(e.start(CODE + 6n)).toMatchObject({ reason: 'interrupt', instructions: 3 });
    const trace = e.readTrace();
    expect(trace.map((t) => t.rip)).toEqual([4n, 6n, 8n, 10n].map((o) => CODE + o));
    expect(trace.map((t) => t.seq - trace[0]!.seq)).toEqual([0, 1, 2, 3]);
  });

  it('a data fault inside a block is reported there and leaves no trace entry for it', async () => {
    // nop; nop; mov eax, [rbx]; inc eax; hlt      90 90 8b 03 ff c0 f4
    const e = await machine([0x90, 0x90, 0x8b, 0x03, 0xff, 0xc0, 0xf4]);
    e.enableTrace(16);
    e.writeRegister('rbx', 0x500000n);
    const r = e.start(CODE);
    expect(r).toMatchObject({ reason: 'fault', rip: CODE + 2n, instructions: 2 });
    expect(r.fault).toEqual({ kind: 'unmapped', access: 'read', address: 0x500000n, size: 4 });
    expect(e.readTrace().map((t) => t.rip)).toEqual([CODE, CODE + 1n]);
    e.writeRegister('rbx', DATA);
    expect(e.start(r.rip)).toMatchObject({ reason: 'interrupt', instructions: 3 });
    expect(e.readRegister('rax')).toBe(1n);
    expect(e.readTrace().map((t) => t.rip)).toEqual([0n, 1n, 2n, 4n, 6n].map((o) => CODE + o));
  });

  it('bytes decoded ahead on an unmapped page fault only when execution reaches them', async () => {
    // At the last two bytes of the code page: mov eax, [rbx] (8b 03); the next page is unmapped.
    const e = await machine([]);
    e.writeMemory(CODE + 0xffen, new Uint8Array([0x8b, 0x03]));
    e.writeRegister('rbx', 0x500000n);
    const first = e.start(CODE + 0xffen);
    expect(first).toMatchObject({ reason: 'fault', rip: CODE + 0xffen, instructions: 0 });
    expect(first.fault).toMatchObject({ access: 'read', address: 0x500000n });
    e.writeRegister('rbx', DATA);
    const second = e.start(CODE + 0xffen);
    expect(second).toMatchObject({ reason: 'fault', rip: CODE + 0x1000n, instructions: 1 });
    expect(second.fault).toEqual({ kind: 'unmapped', access: 'fetch', address: CODE + 0x1000n, size: 1 });
  });

  it('a breakpoint inside a cached block stops there; resuming on it runs the rest', async () => {
    const e = await machine(INCS);
    expect(e.start(CODE).reason).toBe('interrupt'); // the block is cached without breakpoints
    e.writeRegister('rax', 0n);
    e.setBreakpoints([CODE + 6n]);
    expect(e.start(CODE)).toMatchObject({ reason: 'breakpoint', rip: CODE + 6n, instructions: 3 });
    expect(e.start(CODE + 6n)).toMatchObject({ reason: 'interrupt', instructions: 3 });
    expect(e.readRegister('rax')).toBe(5n);
  });
});

describe('decoded blocks: arena turnover', () => {
  it('more straight-line code than the block arena holds runs correctly, repeatedly', async () => {
    // 40000 x inc eax (ff c0), then: dec ecx (ff c9); jz +5 (74 05); jmp CODE (e9 rel32); hlt (f4)
    const INCS_N = 40000;
    const e = await WasmEngine.create();
    e.map(CODE, 0x14000, Perm.RX);
    const tail = INCS_N * 2;
    const rel = -(tail + 9); // from the end of the jmp back to CODE
    const tailBytes = [0xff, 0xc9, 0x74, 0x05, 0xe9, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >> 24) & 0xff, 0xf4];
    const all = new Uint8Array(tail + tailBytes.length);
    for (let i = 0; i < INCS_N; i++) all.set([0xff, 0xc0], i * 2);
    all.set(tailBytes, tail);
    e.writeMemory(CODE, all);
    e.writeRegister('rcx', 3n);
    const r = e.start(CODE);
    expect(r).toMatchObject({ reason: 'interrupt', interrupt: 0xf4, rip: CODE + BigInt(tail + tailBytes.length) });
    expect(e.readRegister('rax')).toBe(BigInt(3 * INCS_N));
    expect(r.instructions).toBe(3 * (INCS_N + 2) + 2 + 1);
  });
});

describe('decoded blocks: fast forms of hot instructions', () => {
  // mov rax, -1          48 c7 c0 ff ff ff ff
  // mov ecx, 5           b9 05 00 00 00
  // mov rdx, rax         48 8b d0      (8B: G <- E)
  // mov rbx, rcx         48 89 cb      (89: E <- G)
  // mov [rsi], rax       48 89 06
  // mov rdi, [rsi]       48 8b 3e
  // add eax, ecx         01 c8         (32-bit: carries out, zero-extends)
  // add eax, ecx         01 c8
  // cmp rbx, rdx         48 39 d3      (no write; 5 < 2^64-1 sets CF)
  // inc ecx              ff c1         (keeps CF)
  // hlt                  f4
  const CODE_BYTES = [
    0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xb9, 5, 0, 0, 0, 0x48, 0x8b, 0xd0, 0x48, 0x89, 0xcb,
    0x48, 0x89, 0x06, 0x48, 0x8b, 0x3e, 0x01, 0xc8, 0x01, 0xc8, 0x48, 0x39, 0xd3, 0xff, 0xc1, 0xf4,
  ];
  const STARTS = [0, 7, 12, 15, 18, 21, 24, 26, 28, 31, 33];

  async function final(withBreakpointsEverywhere: boolean): Promise<bigint[]> {
    const e = await machine(CODE_BYTES);
    e.writeRegister('rsi', DATA);
    e.writeRegister('rflags', 0x2n);
    if (withBreakpointsEverywhere) {
      // Every record carries the breakpoint pseudo-op, so each runs its general handler.
      e.setBreakpoints(STARTS.map((o) => CODE + BigInt(o)));
      let rip = CODE;
      for (;;) {
        const r = e.start(rip);
        rip = r.rip;
        if (r.reason === 'interrupt') break;
        expect(r.reason).toBe('breakpoint');
      }
    } else {
      expect(e.start(CODE)).toMatchObject({ reason: 'interrupt', instructions: STARTS.length });
    }
    return (['rax', 'rcx', 'rdx', 'rbx', 'rdi', 'rflags'] as const).map((r) => e.readRegister(r));
  }

  it('give the same registers and flags as the general handlers', async () => {
    const fast = await final(false);
    // rax: 0xffffffff + 5 + 5 in 32 bits, zero-extended; rdi: rax before the adds, through memory
    expect(fast.slice(0, 5)).toEqual([9n, 6n, 0xffffffffffffffffn, 5n, 0xffffffffffffffffn]);
    expect(fast[5]! & 0x8c1n).toBe(0x1n); // CF from cmp survives inc; ZF SF OF from inc ecx (6)
    expect(await final(true)).toEqual(fast);
  });
});

describe('decoded blocks: breakpoints and `until` changed one address at a time', () => {
  // NOPS x nop (90), then hlt (f4): every byte is an instruction start, blocks of up to 64.
  const NOPS = 6000;

  function lcg(seed: number): () => number {
    let s = seed >>> 0;
    return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  }

  async function nops(): Promise<WasmEngine> {
    const e = await WasmEngine.create();
    e.map(CODE, 0x2000, Perm.RX);
    const bytes = new Uint8Array(NOPS + 1).fill(0x90);
    bytes[NOPS] = 0xf4;
    e.writeMemory(CODE, bytes);
    return e;
  }

  /** Runs from CODE to the hlt, resuming at each stop: the offsets it stopped at. */
  function stops(e: WasmEngine, until?: bigint): number[] {
    const seen: number[] = [];
    let rip = CODE;
    for (;;) {
      const r = e.start(rip, until !== undefined ? { until } : {});
      if (r.reason === 'interrupt') {
        expect(r.rip).toBe(CODE + BigInt(NOPS + 1));
        return seen;
      }
      expect(['breakpoint', 'until']).toContain(r.reason);
      expect(r.instructions).toBe(Number(r.rip - rip));
      seen.push(Number(r.rip - CODE));
      if (r.reason === 'until') return seen;
      rip = r.rip;
    }
  }

  it('a set of up to 3000 breakpoints thinned and refilled at random stops exactly at the set, in order, each time (seeded)', async () => {
    const e = await nops();
    const random = lcg(14);
    const set = new Set<number>();
    // Many entries that collide in the core's table: removals must keep the probes of the rest.
    for (let round = 0; round < 8; round++) {
      for (let k = 0; k < 1500; k++) {
        const o = 1 + Math.floor(random() * (NOPS - 1));
        if (random() < (round < 4 ? 0.2 : 0.6)) set.delete(o);
        else set.add(o);
      }
      e.setBreakpoints([...set].map((o) => CODE + BigInt(o)));
      expect(stops(e)).toEqual([...set].sort((a, b) => a - b));
    }
  });

  it('one breakpoint added and removed again inside a decoded block: the block stops there, then runs through', async () => {
    const e = await nops();
    expect(stops(e)).toEqual([]); // everything decoded without breakpoints
    const base = [CODE + 3000n];
    e.setBreakpoints(base);
    for (const o of [1, 2, 63, 64, 65, 2999, 3001, 5999]) {
      e.setBreakpoints([...base, CODE + BigInt(o)]);
      expect(stops(e)).toEqual([Math.min(o, 3000), Math.max(o, 3000)]);
      e.setBreakpoints(base);
      expect(stops(e)).toEqual([3000]);
    }
  });

  it('`until` moved between runs stops at the new address only', async () => {
    const e = await nops();
    e.setBreakpoints([CODE + 100n]);
    for (const o of [50, 150, 7, 100, 5999]) expect(stops(e, CODE + BigInt(o))).toEqual(o < 100 ? [o] : o === 100 ? [100] : [100, o]);
    expect(stops(e)).toEqual([100]);
  });
});
