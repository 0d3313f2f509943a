// SSE/SSE2 in the wasm core: moves, packed integer, scalar double/single arithmetic with x86 NaN
// rules, conversions with the integer-indefinite value, compares into flags, alignment #GP, cpuid.
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { Perm, type Register } from '../../src/engine/engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const f64bits = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
const bitsf64 = (b: bigint): number => new Float64Array(new BigUint64Array([b]).buffer)[0]!;
const xmmLo = (e: WasmEngine, n: number): bigint => new DataView(e.readXmm(n).buffer).getBigUint64(0, true);
const xmmHi = (e: WasmEngine, n: number): bigint => new DataView(e.readXmm(n).buffer).getBigUint64(8, true);

async function run(code: number[], regs: Partial<Record<Register, bigint>> = {}, data?: Uint8Array) {
  const e = await WasmEngine.create();
  e.map(CODE, 0x1000, Perm.RX);
  e.map(DATA, 0x1000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array([...code, 0xf4]));
  if (data) e.writeMemory(DATA, data);
  e.writeRegister('rbx', DATA);
  for (const [r, v] of Object.entries(regs)) e.writeRegister(r as Register, v);
  const result = e.start(CODE);
  return { e, result };
}

describe('wasm core: SSE2 scalar double', () => {
  it('movq xmm, r64; addsd; movq r64, xmm', async () => {
    // movq xmm0, rax; movq xmm1, rcx; addsd xmm0, xmm1; movq rdx, xmm0
    const { e } = await run([0x66, 0x48, 0x0f, 0x6e, 0xc0, 0x66, 0x48, 0x0f, 0x6e, 0xc9, 0xf2, 0x0f, 0x58, 0xc1, 0x66, 0x48, 0x0f, 0x7e, 0xc2],
      { rax: f64bits(1.5), rcx: f64bits(2.25) });
    expect(bitsf64(e.readRegister('rdx'))).toBe(3.75);
    expect(xmmHi(e, 0)).toBe(0n);
  });

  it('cvtsi2sd / cvttsd2si, with the integer indefinite for out-of-range values', async () => {
    // cvtsi2sd xmm2, rbx; cvttsd2si rsi, xmm2; cvttsd2si edi, xmm3
    const e = await WasmEngine.create();
    e.map(CODE, 0x1000, Perm.RX);
    e.writeMemory(CODE, new Uint8Array([0xf2, 0x48, 0x0f, 0x2a, 0xd3, 0xf2, 0x48, 0x0f, 0x2c, 0xf2, 0xf2, 0x0f, 0x2c, 0xfb, 0xf4]));
    e.writeRegister('rbx', 0xfffffffffffffff9n); // -7
    const big = new Uint8Array(16);
    new DataView(big.buffer).setFloat64(0, 3e10, true);
    e.writeXmm(3, big);
    e.start(CODE);
    expect(bitsf64(xmmLo(e, 2))).toBe(-7);
    expect(e.readRegister('rsi')).toBe(0xfffffffffffffff9n);
    expect(e.readRegister('rdi')).toBe(0x80000000n);
  });

  it('ucomisd sets ZF/PF/CF for less, equal, unordered', async () => {
    // ucomisd xmm0, xmm1
    for (const [a, b, expected] of [[1, 2, 0x1n], [2, 2, 0x40n], [3, 2, 0n], [NaN, 2, 0x45n]] as const) {
      const { e } = await run([0x66, 0x48, 0x0f, 0x6e, 0xc0, 0x66, 0x48, 0x0f, 0x6e, 0xc9, 0x66, 0x0f, 0x2e, 0xc1],
        { rax: f64bits(a), rcx: f64bits(b) });
      expect(e.readRegister('rflags') & 0x8d5n).toBe(expected);
    }
  });

  it('0/0 gives the default NaN; sqrt of a negative too; a NaN operand is propagated', async () => {
    // movq xmm0, rax; movq xmm1, rcx; divsd xmm0, xmm1; movq xmm2, rcx; sqrtsd xmm1, xmm3 (xmm3 = -1)
    const { e } = await run([0x66, 0x48, 0x0f, 0x6e, 0xc0, 0x66, 0x48, 0x0f, 0x6e, 0xc9, 0xf2, 0x0f, 0x5e, 0xc1,
      0x66, 0x48, 0x0f, 0x6e, 0xda, 0xf2, 0x0f, 0x51, 0xcb], { rax: 0n, rcx: 0n, rdx: f64bits(-1) });
    expect(xmmLo(e, 0)).toBe(0xfff8000000000000n);
    expect(xmmLo(e, 1)).toBe(0xfff8000000000000n);
  });

  it('cvtss2sd / cvtsd2ss round-trip a float', async () => {
    // movd xmm1, eax; cvtss2sd xmm0, xmm1; cvtsd2ss xmm2, xmm0; movd ecx, xmm2
    const { e } = await run([0x66, 0x0f, 0x6e, 0xc8, 0xf3, 0x0f, 0x5a, 0xc1, 0xf2, 0x0f, 0x5a, 0xd0, 0x66, 0x0f, 0x7e, 0xd1],
      { rax: 0x3fc00000n }); // 1.5f
    expect(bitsf64(xmmLo(e, 0))).toBe(1.5);
    expect(e.readRegister('rcx')).toBe(0x3fc00000n);
  });
});

describe('wasm core: SSE2 packed integer and moves', () => {
  it('pxor; pcmpeqb with memory; pmovmskb finds a zero byte (strlen idiom)', async () => {
    // pxor xmm4, xmm4; pcmpeqb xmm4, [rbx]; pmovmskb eax, xmm4
    const data = new Uint8Array(16).fill(0x41);
    data[5] = 0;
    data[9] = 0;
    const { e } = await run([0x66, 0x0f, 0xef, 0xe4, 0x66, 0x0f, 0x74, 0x23, 0x66, 0x0f, 0xd7, 0xc4], {}, data);
    expect(e.readRegister('rax')).toBe((1n << 5n) | (1n << 9n));
  });

  it('pshufd reverses dwords; punpcklbw interleaves bytes', async () => {
    // movdqu xmm0, [rbx]; pshufd xmm5, xmm0, 0x1b; movdqu xmm6, [rbx]; movdqu xmm7, [rbx+16]; punpcklbw xmm6, xmm7
    const data = Uint8Array.from({ length: 32 }, (_, i) => i);
    const { e } = await run([0xf3, 0x0f, 0x6f, 0x03, 0x66, 0x0f, 0x70, 0xe8, 0x1b, 0xf3, 0x0f, 0x6f, 0x33, 0xf3, 0x0f, 0x6f, 0x7b, 0x10,
      0x66, 0x0f, 0x60, 0xf7], {}, data);
    expect([...e.readXmm(5)]).toEqual([12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]);
    expect([...e.readXmm(6)]).toEqual([0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23]);
  });

  it('psrldq / pslldq shift whole bytes; paddq and psubd wrap per lane', async () => {
    // movdqu xmm0, [rbx]; psrldq xmm0, 4; movdqu xmm1, [rbx]; pslldq xmm1, 8; movdqu xmm2, [rbx]; paddq xmm2, xmm2
    const data = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
    const { e } = await run([0xf3, 0x0f, 0x6f, 0x03, 0x66, 0x0f, 0x73, 0xd8, 0x04, 0xf3, 0x0f, 0x6f, 0x0b, 0x66, 0x0f, 0x73, 0xf9, 0x08,
      0xf3, 0x0f, 0x6f, 0x13, 0x66, 0x0f, 0xd4, 0xd2], {}, data);
    expect([...e.readXmm(0)]).toEqual([...data.slice(4), 0, 0, 0, 0]);
    expect([...e.readXmm(1)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, ...data.slice(0, 8)]);
    const lo = new DataView(data.buffer).getBigUint64(0, true);
    expect(xmmLo(e, 2)).toBe((lo * 2n) & 0xffffffffffffffffn);
  });

  it('psrlq / psllq shift each qword; group 0f 73 /4 is undefined', async () => {
    // movq xmm6, rax; punpcklqdq xmm6, xmm6; psrlq xmm6, 0x20; psllq xmm6, 4  (gcc -O3 emits psrlq for 64-bit %)
    const { e, result } = await run(
      [0x66, 0x48, 0x0f, 0x6e, 0xf0, 0x66, 0x0f, 0x6c, 0xf6, 0x66, 0x0f, 0x73, 0xd6, 0x20, 0x66, 0x0f, 0x73, 0xf6, 0x04],
      { rax: 0x1234_5678_9abc_def0n },
    );
    expect(result.reason).toBe('interrupt'); // the hlt after the code: everything before it executed
    expect(xmmLo(e, 6)).toBe(0x1_2345_6780n);
    expect(xmmHi(e, 6)).toBe(0x1_2345_6780n);
    // 66 0f 73 e6 01: reg field /4 has no instruction in group 14
    expect(e.probe(new Uint8Array([0x66, 0x0f, 0x73, 0xe6, 0x01])).supported).toBe(false);
    expect(e.probe(new Uint8Array([0x66, 0x0f, 0x73, 0xd6, 0x20])).supported).toBe(true);
  });

  it('movaps from a misaligned address is #GP (interrupt 13) at the instruction', async () => {
    // movaps xmm0, [rbx+4]
    const { result } = await run([0x0f, 0x28, 0x43, 0x04]);
    expect(result).toMatchObject({ reason: 'interrupt', interrupt: 13, rip: CODE });
  });

  it('movss between registers keeps the upper lanes; from memory zeroes them', async () => {
    // movdqu xmm0, [rbx]; movss xmm0, xmm1 ; movss xmm2, [rbx]
    const data = new Uint8Array(16).fill(0xcc);
    const { e } = await run([0xf3, 0x0f, 0x6f, 0x03, 0xf3, 0x0f, 0x10, 0xc1, 0xf3, 0x0f, 0x10, 0x13], {}, data);
    expect([...e.readXmm(0)]).toEqual([0, 0, 0, 0, ...new Array(12).fill(0xcc)]);
    expect([...e.readXmm(2)]).toEqual([0xcc, 0xcc, 0xcc, 0xcc, ...new Array(12).fill(0)]);
  });

  it('stmxcsr reads the default 0x1f80', async () => {
    // stmxcsr [rbx]
    const { e } = await run([0x0f, 0xae, 0x1b]);
    expect([...e.readMemory(DATA, 4)]).toEqual([0x80, 0x1f, 0, 0]);
  });
});

describe('wasm core: cpuid model', () => {
  it('advertises FPU, FXSR, MMX (the x86-64 baseline ld.so checks), SSE..SSE4.2, MOVBE, POPCNT, RDRAND and no AVX, XSAVE or OSXSAVE', async () => {
    // cpuid
    const { e } = await run([0x0f, 0xa2], { rax: 1n });
    const edx = e.readRegister('rdx');
    const ecx = e.readRegister('rcx');
    for (const bit of [0n, 8n, 15n, 24n, 25n, 26n]) expect((edx >> bit) & 1n).toBe(1n); // FPU CX8 CMOV FXSR SSE SSE2
    // MMX: advertised for Debian's libc.so.6 (x86-64 baseline ISA level), although MMX instructions stop as unsupported.
    expect((edx >> 23n) & 1n).toBe(1n);
    for (const bit of [0n, 9n, 19n, 20n, 22n, 23n, 30n]) expect((ecx >> bit) & 1n).toBe(1n); // SSE3 SSSE3 SSE4.1 SSE4.2 MOVBE POPCNT RDRAND
    for (const bit of [26n, 27n, 28n]) expect((ecx >> bit) & 1n).toBe(0n); // XSAVE, OSXSAVE, AVX
  });
});
