// The block compiler (src/engine/wasm-jit*.ts, wasm/assembly/jit.ts) against the interpreter it
// replaces: every case runs on a WasmEngine with the compiler off and one with it forced on
// (threshold 1: a block is compiled after its first interpreted run), the same warm-up run on
// both, then the run under test, and compares everything the run could change. Each case also
// checks that compiled code really ran (the statistics' retired count grew), so a compiler that
// silently declines cannot pass.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { HookType, Perm, type RunResult, type StartOptions } from '../../src/engine/engine.js';
import { EmulatedProcess } from '../../src/loader/index.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK_TOP = 0x40000n;
const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

async function machine(jit: boolean, code: number[], codePerms: Perm): Promise<WasmEngine> {
  const e = await WasmEngine.create(undefined, { jit, jitThreshold: 1, jitWarmup: 0 });
  e.map(CODE, 0x1000, codePerms);
  e.map(DATA, 0x1000, Perm.RW);
  e.map(STACK_TOP - 0x2000n, 0x2000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array(code));
  for (let i = 0; i < 0x1000; i += 8) e.writeMemory(DATA + BigInt(i), new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0x5a, 0xa5, 1, 2, 3, 4]));
  return e;
}

interface Observed {
  result: RunResult;
  registers: bigint[];
  rflags: bigint;
  data: number[];
  code: number[];
  writes: [bigint, number, bigint][];
}

type Registers = Partial<Record<(typeof GPR_NAMES)[number], bigint>>;

function observe(e: WasmEngine, registers: Registers, options: StartOptions, writes: [bigint, number, bigint][]): Observed {
  for (const name of GPR_NAMES) e.writeRegister(name, registers[name] ?? (name === 'rsp' ? STACK_TOP : 0n));
  e.writeRegister('rflags', 0x202n);
  writes.length = 0;
  const result = e.start(CODE, options);
  return {
    result,
    registers: GPR_NAMES.map((name) => e.readRegister(name)),
    rflags: e.readRegister('rflags'),
    data: [...e.readMemory(DATA, 0x1000)],
    code: [...e.readMemory(CODE, 0x40)],
    writes: [...writes],
  };
}

/**
 * Runs `warm` then `run` on an interpreting engine and on one that compiles (the warm-up makes the
 * blocks hot and compiled); returns both observations of `run` and the instructions compiled code retired in it.
 */
async function compare(
  code: number[],
  warm: Registers,
  run: Registers,
  options: StartOptions = {},
  setUp: (e: WasmEngine, writes: [bigint, number, bigint][]) => void = () => {},
  codePerms: Perm = Perm.RX,
): Promise<{ interpreted: Observed; compiled: Observed; compiledRetired: number }> {
  const sides = [];
  let compiledRetired = 0;
  for (const jit of [false, true]) {
    const e = await machine(jit, code, codePerms);
    const writes: [bigint, number, bigint][] = [];
    setUp(e, writes);
    observe(e, warm, {}, writes);
    const before = e.jitStats()?.retired ?? 0;
    sides.push(observe(e, run, options, writes));
    if (jit) compiledRetired = e.jitStats()!.retired - before;
    e.close();
  }
  return { interpreted: sides[0]!, compiled: sides[1]!, compiledRetired };
}

// L: add rax, 1; mov rcx, [rbx]; add rbx, 0x100; dec edx; jnz L; int3 (a block that loops on itself)
const LOAD_LOOP = [0x48, 0x83, 0xc0, 0x01, 0x48, 0x8b, 0x0b, 0x48, 0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0xff, 0xca, 0x75, 0xee, 0xcc];
// the same with mov [rbx], rax
const STORE_LOOP = [0x48, 0x83, 0xc0, 0x01, 0x48, 0x89, 0x03, 0x48, 0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0xff, 0xca, 0x75, 0xee, 0xcc];

describe('block compiler: faults inside a compiled block', () => {
  it('an unmapped load in the ninth iteration stops on the load with the same count, registers and fault', async () => {
    const { interpreted, compiled, compiledRetired } = await compare(LOAD_LOOP, { rbx: DATA, rdx: 4n }, { rbx: DATA + 0x800n, rdx: 100n });
    expect(interpreted.result).toMatchObject({ reason: 'fault', rip: CODE + 4n, instructions: 8 * 5 + 1 });
    expect(interpreted.result.fault).toMatchObject({ kind: 'unmapped', access: 'read', address: DATA + 0x1000n });
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBeGreaterThan(0);
  });

  it('an unmapped store mid-block leaves memory, registers and flags as the interpreter does', async () => {
    const { interpreted, compiled, compiledRetired } = await compare(STORE_LOOP, { rbx: DATA, rdx: 4n }, { rbx: DATA + 0x800n, rdx: 100n });
    expect(interpreted.result).toMatchObject({ reason: 'fault', rip: CODE + 4n, instructions: 8 * 5 + 1 });
    expect(interpreted.result.fault).toMatchObject({ access: 'write', address: DATA + 0x1000n });
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBeGreaterThan(0);
  });

  it('a store to a read-only page faults as a protection fault', async () => {
    const { interpreted, compiled, compiledRetired } = await compare(STORE_LOOP, { rbx: DATA, rdx: 4n }, { rbx: CODE + 0x800n, rdx: 3n });
    expect(interpreted.result).toMatchObject({ reason: 'fault', rip: CODE + 4n, instructions: 1 });
    expect(interpreted.result.fault).toMatchObject({ kind: 'protection', access: 'write' });
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBe(1); // the add before the store
  });
});

describe('block compiler: budgets', () => {
  it('every budget that ends inside a block or a loop iteration stops where the interpreter stops', async () => {
    let compiledTotal = 0;
    for (let count = 1; count <= 23; count++) {
      const { interpreted, compiled, compiledRetired } = await compare(STORE_LOOP, { rbx: DATA, rdx: 4n }, { rbx: DATA + 8n, rdx: 4n }, { count });
      expect(compiled, `count ${count}`).toEqual(interpreted);
      expect(interpreted.result.instructions).toBe(Math.min(count, 4 * 5 + 1));
      compiledTotal += compiledRetired;
    }
    expect(compiledTotal).toBeGreaterThan(0);
  });
});

describe('block compiler: self-modifying code', () => {
  // 0: mov [rdi], cl; 2: add eax, 0x10; 5: dec ecx; 7: jnz 0; 9: int3
  const PATCHING_LOOP = [0x88, 0x0f, 0x83, 0xc0, 0x10, 0xff, 0xc9, 0x75, 0xf7, 0xcc];

  it('a compiled store into its own block (the add immediate) is seen by the next iteration', async () => {
    const { interpreted, compiled, compiledRetired } = await compare(PATCHING_LOOP, { rdi: DATA, rcx: 3n }, { rdi: CODE + 4n, rcx: 3n }, {}, () => {}, Perm.All);
    // 3 + 2 + 1: each iteration's add uses the byte the iteration's store just wrote.
    expect(interpreted.registers[0]).toBe(6n);
    expect(interpreted.code[4]).toBe(1);
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBeGreaterThan(0);
  });

  it('a host write into a compiled block replaces it', async () => {
    const sides = [];
    for (const jit of [false, true]) {
      const e = await machine(jit, PATCHING_LOOP, Perm.All);
      const writes: [bigint, number, bigint][] = [];
      observe(e, { rdi: DATA, rcx: 3n }, {}, writes);
      observe(e, { rdi: DATA, rcx: 3n }, {}, writes);
      const before = e.jitStats()?.retired ?? 0;
      e.writeMemory(CODE + 4n, new Uint8Array([0x20])); // add eax, 0x20
      sides.push(observe(e, { rdi: DATA, rcx: 3n }, {}, writes));
      if (jit) expect(e.jitStats()!.retired).toBeGreaterThanOrEqual(before);
      e.close();
    }
    expect(sides[0]!.registers[0]).toBe(0x60n);
    expect(sides[1]).toEqual(sides[0]);
  });
});

describe('block compiler: breakpoints and until inside compiled regions', () => {
  // 0: add rax, 1; 4: jmp 6 (block A) | 6: add rcx, 2; 10: dec edx; 12: jnz 0 (block B) | 14: int3
  const TWO_BLOCK_LOOP = [0x48, 0x83, 0xc0, 0x01, 0xeb, 0x00, 0x48, 0x83, 0xc1, 0x02, 0xff, 0xca, 0x75, 0xf2, 0xcc];

  it('a breakpoint or until set inside a compiled block stops there, and running on after clearing it agrees', async () => {
    const sides = [];
    for (const jit of [false, true]) {
      const e = await machine(jit, TWO_BLOCK_LOOP, Perm.RX);
      // A breakpoint nowhere near: the first one drops all decoded code, later ones only the blocks at them.
      e.addBreakpoint(CODE + 0x800n);
      const writes: [bigint, number, bigint][] = [];
      observe(e, { rdx: 50n }, {}, writes);
      const before = e.jitStats()?.retired ?? 0;
      const compiledFirst = observe(e, { rdx: 50n }, {}, writes);
      const compiledRan = (e.jitStats()?.retired ?? 0) - before;
      e.addBreakpoint(CODE + 10n);
      const atBreakpoint = observe(e, { rdx: 50n }, {}, writes);
      // More drops after one killed a region: elsewhere (nothing compiled there), then at it again.
      observe(e, { rdx: 50n }, { until: CODE + 0x900n }, writes);
      e.removeBreakpoint(CODE + 10n);
      const until = observe(e, { rdx: 50n }, { until: CODE + 10n }, writes);
      const after = observe(e, { rdx: 50n }, {}, writes);
      sides.push({ compiledFirst, atBreakpoint, until, after });
      if (jit) expect(compiledRan).toBeGreaterThan(50);
      e.close();
    }
    expect(sides[0]!.atBreakpoint.result).toMatchObject({ reason: 'breakpoint', rip: CODE + 10n, instructions: 3 });
    expect(sides[0]!.until.result).toMatchObject({ reason: 'until', rip: CODE + 10n, instructions: 3 });
    expect(sides[0]!.after.registers[1]).toBe(100n);
    expect(sides[1]).toEqual(sides[0]);
  });
});

describe('block compiler: watched writes', () => {
  // 0: mov [rbx], rax; 3: add rbx, 8; 7: add rax, 1; 11: dec edx; 13: jnz 0; 15: int3
  const WRITE_LOOP = [0x48, 0x89, 0x03, 0x48, 0x83, 0xc3, 0x08, 0x48, 0x83, 0xc0, 0x01, 0xff, 0xca, 0x75, 0xf1, 0xcc];

  it('a store into a write hook\'s range inside a compiled block is delivered as the interpreter delivers it', async () => {
    const { interpreted, compiled, compiledRetired } = await compare(
      WRITE_LOOP,
      { rbx: DATA + 0x100n, rdx: 4n },
      { rbx: DATA, rax: 0x1000n, rdx: 16n },
      {},
      (e, writes) => {
        e.addHook({ type: HookType.MemWrite, begin: DATA + 0x40n, end: DATA + 0x5fn, callback: (_access, address, size, value) => writes.push([address, size, value]) });
      },
    );
    expect(interpreted.writes).toEqual([0x40n, 0x48n, 0x50n, 0x58n].map((o, i) => [DATA + o, 8, 0x1008n + BigInt(i)]));
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBeGreaterThan(0);
  });
});

describe('block compiler: flags and operand forms', () => {
  // Consumers of every condition after producers of each kind, in one block that loops:
  //  0: add eax, ebx        01 d8
  //  2: setb cl; seto ch    0f 92 c1 / 0f 90 c5   (ch: a high byte register, general form)
  //  8: sub ebx, 7          83 eb 07
  // 11: setl dl; setbe dh   0f 9c c2 / 0f 96 c6
  // 17: cmovg esi, eax      0f 4f f0
  // 20: shl eax, 3          c1 e0 03
  // 23: setc r8b            41 0f 92 c0
  // 27: xor edi, eax        31 c7
  // 29: setp r9b            41 0f 9a c1
  // 33: inc r10d            41 ff c2
  // 36: setb r11b           41 0f 92 c3
  // then sign extensions, 16-bit and high-byte ALU forms, imul, and dec r14d; jnz 0 (below)
  const FLAGS_BODY = [
    0x01, 0xd8, // add eax, ebx
    0x0f, 0x92, 0xc1, // setb cl
    0x0f, 0x90, 0xc5, // seto ch
    0x83, 0xeb, 0x07, // sub ebx, 7
    0x0f, 0x9c, 0xc2, // setl dl
    0x0f, 0x96, 0xc6, // setbe dh
    0x0f, 0x4f, 0xf0, // cmovg esi, eax
    0xc1, 0xe0, 0x03, // shl eax, 3
    0x41, 0x0f, 0x92, 0xc0, // setc r8b
    0x31, 0xc7, // xor edi, eax
    0x41, 0x0f, 0x9a, 0xc1, // setp r9b
    0x41, 0xff, 0xc2, // inc r10d
    0x41, 0x0f, 0x92, 0xc3, // setb r11b
    0x4c, 0x0f, 0xbf, 0xe1, // movsx r12, cx
    0x48, 0x98, // cdqe
    0x48, 0x99, // cqo
    0x66, 0x01, 0xc3, // add bx, ax
    0x80, 0xc4, 0x05, // add ah, 5
    0x48, 0x0f, 0xaf, 0xc3, // imul rax, rbx
    0x4d, 0x01, 0xdd, // add r13, r11
    0x41, 0xff, 0xce, // dec r14d
  ];
  const FLAGS_LOOP = [...FLAGS_BODY, 0x75, 0x100 - (FLAGS_BODY.length + 2), 0xcc]; // jnz 0; int3

  it('setcc, cmov, shifts, inc/dec, 8/16-bit and high-byte forms, imul and cdqe/cqo agree over many iterations', async () => {
    for (const [rax, rbx] of [[0x7fffffffn, 1n], [0xfffffff0n, 0x20n], [0x12345678n, 0x87654321n], [0n, 0n]] as const) {
      const { interpreted, compiled, compiledRetired } = await compare(FLAGS_LOOP, { r14: 3n }, { rax, rbx, r14: 40n });
      expect(interpreted.result).toMatchObject({ reason: 'interrupt', interrupt: 3 });
      expect(compiled).toEqual(interpreted);
      expect(compiledRetired).toBeGreaterThan(0);
    }
  });
});

describe('block compiler: every condition after every kind of flags producer', () => {
  // Each producer is followed by setcc al / mov [rdi+cc], al for all 16 conditions, then add rdi, 16
  // (itself a producer, so an inc/dec's kept CF comes from it). Blocks end at 64 records, so some
  // conditions read flags a compiled block handed over and some read the block's own producer.
  const PRODUCERS: number[][] = [
    [0x01, 0xd8], [0x48, 0x01, 0xd8], // add eax, ebx; add rax, rbx
    [0x29, 0xd8], [0x48, 0x29, 0xd8], // sub
    [0x39, 0xd8], [0x48, 0x39, 0xd8], // cmp
    [0x21, 0xd8], [0x09, 0xd8], [0x48, 0x31, 0xd8], // and, or, xor
    [0x85, 0xd8], [0x48, 0x85, 0xd8], [0x84, 0xd8], // test eax, ebx; test rax, rbx; test al, bl
    [0xff, 0xc0], [0xff, 0xc8], [0x48, 0xff, 0xc0], [0x48, 0xff, 0xc8], // inc/dec eax, rax
    [0xc1, 0xe0, 0x03], [0xc1, 0xe8, 0x05], [0xd1, 0xf8], [0x48, 0xc1, 0xe0, 0x3f], // shl eax,3; shr eax,5; sar eax,1; shl rax,63
    [0x38, 0xd8], [0x66, 0x01, 0xd8], [0x80, 0xfc, 0x80], // cmp al, bl; add ax, bx; cmp ah, 0x80
    [0x38, 0x1e], [0x83, 0x3e, 0x07], [0x03, 0x06], [0x48, 0x2b, 0x06], // cmp [rsi], bl; cmp dword [rsi], 7; add eax, [rsi]; sub rax, [rsi]
    [0x48, 0x0f, 0xaf, 0xc3], [0x66, 0xff, 0x06], // imul rax, rbx; inc word [rsi]
    [0x31, 0xc9, 0xff, 0xc0], [0xd1, 0xe0, 0xff, 0xc8], [0x39, 0xd8, 0xff, 0xc1, 0xff, 0xc9], // inc/dec after logic, shift, cmp
  ];
  const code: number[] = [];
  for (const producer of PRODUCERS) {
    code.push(...producer);
    for (let cc = 0; cc < 16; cc++) code.push(0x0f, 0x90 + cc, 0xc0, 0x88, 0x47, cc); // setcc al; mov [rdi+cc], al
    code.push(0x48, 0x83, 0xc7, 0x10); // add rdi, 16
  }
  code.push(0xcc);

  it.each([
    [0n, 0n], [1n, 0xffffffffn], [0x7fffffffn, 1n], [0x80000000n, 0x80000000n], [0xffffffffffffffffn, 1n],
    [0x8000000000000000n, 0x7fffffffffffffffn], [0x1234n, 0x1234n], [0xfen, 0x7fn],
  ])('rax %s, rbx %s', async (rax, rbx) => {
    const { interpreted, compiled, compiledRetired } = await compare(code, { rdi: DATA, rsi: DATA + 0x800n }, { rax, rbx, rdi: DATA, rsi: DATA + 0x808n });
    expect(interpreted.result).toMatchObject({ reason: 'interrupt', interrupt: 3 });
    expect(compiled).toEqual(interpreted);
    expect(compiledRetired).toBe(interpreted.result.instructions - 1);
  });
});

describe('block compiler: real programs', () => {
  const GUESTS = join(import.meta.dirname, '..', '..', 'bench', 'guests');

  it.each(['compress', 'kernel', 'parser'])('%s runs to the same exit, count, output and registers compiled as interpreted', async (name) => {
    const main = new Uint8Array(readFileSync(join(GUESTS, name)));
    const sides = [];
    for (const jit of [false, true]) {
      const engine = await WasmEngine.create(undefined, { jit, jitThreshold: 1, jitWarmup: 0 });
      const proc = EmulatedProcess.create(engine, { main, mainPath: `./${name}`, argv: [] });
      const stop = proc.run({ maxInstructions: 200_000_000 });
      sides.push({
        stop,
        instructions: proc.instructions,
        stdout: proc.stdoutText(1),
        registers: GPR_NAMES.map((r) => engine.readRegister(r)),
        rip: engine.readRegister('rip'),
        rflags: engine.readRegister('rflags'),
      });
      if (jit) expect(engine.jitStats()!.retired).toBeGreaterThan(proc.instructions / 2);
      engine.close();
    }
    expect(sides[0]!.stop.reason).toBe('exited');
    expect(sides[1]).toEqual(sides[0]);
  });
});
