// SSE3/SSSE3/SSE4.1/SSE4.2, x87, fxsave/fxrstor, movbe, crc32 and rdrand in the wasm core. Each
// case runs real encodings (assembly in the comments) and checks values worked out by hand or on
// real hardware (pcmpestrm's empty needle, where QEMU/Unicorn differ).
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { Perm, type Register } from '../../src/engine/engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const bytes16 = (...v: number[]): Uint8Array => new Uint8Array(16).map((_, i) => v[i] ?? 0);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const f64bits = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;

async function run(code: number[], setup: { regs?: Partial<Record<Register, bigint>>; xmm?: Record<number, Uint8Array>; data?: Uint8Array } = {}) {
  const e = await WasmEngine.create();
  e.map(CODE, 0x1000, Perm.RX);
  e.map(DATA, 0x1000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array([...code, 0xf4]));
  if (setup.data) e.writeMemory(DATA, setup.data);
  e.writeRegister('rbx', DATA);
  for (const [r, v] of Object.entries(setup.regs ?? {})) e.writeRegister(r as Register, v);
  for (const [i, v] of Object.entries(setup.xmm ?? {})) e.writeXmm(Number(i), v);
  const result = e.start(CODE);
  return { e, result };
}

describe('wasm core: SSE4.2 string compares', () => {
  it('pcmpistri finds the first byte of a set (strpbrk-style, equal any)', async () => {
    // pcmpistri xmm0, xmm1, 0x00 (unsigned bytes, equal any, least significant index)
    const set = bytes16(...Buffer.from('xyz'));
    const text = bytes16(...Buffer.from('hello, xylophone'));
    const { e, result } = await run([0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x00], { xmm: { 0: set, 1: text } });
    expect(result.reason).toBe('interrupt');
    expect(e.readRegister('rcx')).toBe(7n); // 'x' of "xylophone"
    const flags = e.readRegister('rflags');
    expect(flags & 1n).toBe(1n); // CF: a match
    expect(flags & 0x40n).toBe(0n); // ZF: no NUL in the text (16 valid bytes)
    expect(flags & 0x80n).toBe(0x80n); // SF: NUL in the set
  });

  it('pcmpistri with equal-each and negative polarity finds the first difference (strcmp-style)', async () => {
    // pcmpistri xmm0, xmm1, 0x18 (equal each, negated)
    const { e } = await run([0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x18], {
      xmm: { 0: bytes16(...Buffer.from('abcdef')), 1: bytes16(...Buffer.from('abcXef')) },
    });
    expect(e.readRegister('rcx')).toBe(3n);
  });

  it('pcmpestrm: an empty needle matches everywhere (equal ordered), as real hardware does', async () => {
    // pcmpestrm xmm0, xmm1, 0x0d (unsigned words, equal ordered); eax = 0 (needle), edx = 6
    const { e } = await run([0x66, 0x0f, 0x3a, 0x60, 0xc1, 0x0d], {
      regs: { rax: 0n, rdx: 6n },
      xmm: { 0: bytes16(0x34, 0x12), 1: bytes16(8, 0, 7, 0, 6, 0) },
    });
    expect(hex(e.readXmm(0))).toBe('ff000000000000000000000000000000');
  });
});

describe('wasm core: SSSE3 / SSE4.1 integer', () => {
  it('pshufb reverses bytes and zeroes lanes whose selector has bit 7 set', async () => {
    // pshufb xmm0, xmm1
    const sel = bytes16(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0x80);
    const { e } = await run([0x66, 0x0f, 0x38, 0x00, 0xc1], { xmm: { 0: bytes16(...Array.from({ length: 16 }, (_, i) => i + 0xa0)), 1: sel } });
    expect(hex(e.readXmm(0))).toBe('afaeadacabaaa9a8a7a6a5a4a3a2a100');
  });

  it('palignr takes bytes 4..19 of xmm0:xmm1', async () => {
    // palignr xmm0, xmm1, 4
    const lo = Array.from({ length: 16 }, (_, i) => i), hi = Array.from({ length: 16 }, (_, i) => 0x10 + i);
    const { e } = await run([0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x04], { xmm: { 0: bytes16(...hi), 1: bytes16(...lo) } });
    expect(hex(e.readXmm(0))).toBe('0405060708090a0b0c0d0e0f10111213');
  });

  it('ptest sets ZF when the AND is zero and CF when the AND-NOT is zero', async () => {
    // ptest xmm0, xmm1
    const { e } = await run([0x66, 0x0f, 0x38, 0x17, 0xc1], { xmm: { 0: bytes16(0xf0), 1: bytes16(0x0f) } });
    expect(e.readRegister('rflags') & 0x41n).toBe(0x40n);
    const { e: e2 } = await run([0x66, 0x0f, 0x38, 0x17, 0xc1], { xmm: { 0: bytes16(0xff), 1: bytes16(0x0f) } });
    expect(e2.readRegister('rflags') & 0x41n).toBe(0x1n);
  });

  it('pminud / pmaxsd / pmulld work on dwords with the right signedness', async () => {
    // pminud xmm0, xmm1; pmaxsd xmm2, xmm1; pmulld xmm3, xmm1
    const a = bytes16(0xff, 0xff, 0xff, 0xff, 5), b = bytes16(1, 0, 0, 0, 7);
    const { e } = await run([0x66, 0x0f, 0x38, 0x3b, 0xc1, 0x66, 0x0f, 0x38, 0x3d, 0xd1, 0x66, 0x0f, 0x38, 0x40, 0xd9],
      { xmm: { 0: a, 1: b, 2: a, 3: a } });
    expect(hex(e.readXmm(0)).slice(0, 16)).toBe('0100000005000000'); // min(0xffffffff, 1) = 1 unsigned
    expect(hex(e.readXmm(2)).slice(0, 16)).toBe('0100000007000000'); // max(-1, 1) = 1 signed
    expect(hex(e.readXmm(3)).slice(0, 16)).toBe('ffffffff23000000'); // -1 * 1, 5 * 7
  });

  it('pmovzxbw and pmovsxbd widen lanes from memory', async () => {
    // pmovzxbw xmm0, [rbx]; pmovsxbd xmm1, [rbx]
    const { e } = await run([0x66, 0x0f, 0x38, 0x30, 0x03, 0x66, 0x0f, 0x38, 0x21, 0x0b], { data: new Uint8Array([0x80, 1, 0xff, 2]) });
    expect(hex(e.readXmm(0)).slice(0, 16)).toBe('80000100ff000200');
    expect(hex(e.readXmm(1))).toBe('80ffffff01000000ffffffff02000000');
  });

  it('blendps by immediate and pblendvb by xmm0 sign bits', async () => {
    // blendps xmm1, xmm2, 0b0101; pblendvb xmm3, xmm2 (mask in xmm0)
    const ones = new Uint8Array(16).fill(0x11), twos = new Uint8Array(16).fill(0x22);
    const { e } = await run([0x66, 0x0f, 0x3a, 0x0c, 0xca, 0x05, 0x66, 0x0f, 0x38, 0x10, 0xda],
      { xmm: { 0: bytes16(0x80, 0, 0x80), 1: ones, 2: twos, 3: ones } });
    expect(hex(e.readXmm(1))).toBe('22222222111111112222222211111111');
    expect(hex(e.readXmm(3))).toBe('22112211111111111111111111111111');
  });

  it('pinsrq / pextrd / pextrw move lanes between GPRs and xmm', async () => {
    // pinsrq xmm0, rax, 1; pextrd ecx, xmm0, 3; pextrw edx, xmm0, 0
    const { e } = await run([0x66, 0x48, 0x0f, 0x3a, 0x22, 0xc0, 0x01, 0x66, 0x0f, 0x3a, 0x16, 0xc1, 0x03, 0x66, 0x0f, 0xc5, 0xd0, 0x00],
      { regs: { rax: 0x1122334455667788n, rcx: -1n, rdx: -1n }, xmm: { 0: bytes16(0xcd, 0xab) } });
    expect(e.readRegister('rcx')).toBe(0x11223344n);
    expect(e.readRegister('rdx')).toBe(0xabcdn);
  });

  it('roundsd honours the immediate rounding mode', async () => {
    // roundsd xmm0, xmm1, 1 (floor); roundsd xmm2, xmm1, 2 (ceil)
    const v = new Uint8Array(new Float64Array([-2.5, 0]).buffer);
    const { e } = await run([0x66, 0x0f, 0x3a, 0x0b, 0xc1, 0x01, 0x66, 0x0f, 0x3a, 0x0b, 0xd1, 0x02], { xmm: { 1: v } });
    expect(new Float64Array(e.readXmm(0).buffer)[0]).toBe(-3);
    expect(new Float64Array(e.readXmm(2).buffer)[0]).toBe(-2);
  });

  it('psrlw by an xmm count, pavgb and paddsw saturate/round as specified', async () => {
    // psrlw xmm0, xmm1; pavgb xmm2, xmm3; paddsw xmm4, xmm4
    const { e } = await run([0x66, 0x0f, 0xd1, 0xc1, 0x66, 0x0f, 0xe0, 0xd3, 0x66, 0x0f, 0xed, 0xe4],
      { xmm: { 0: bytes16(0x00, 0x80), 1: bytes16(4), 2: bytes16(1, 255), 3: bytes16(2, 254), 4: bytes16(0x00, 0x70, 0x00, 0x90) } });
    expect(hex(e.readXmm(0)).slice(0, 4)).toBe('0008');
    expect(hex(e.readXmm(2)).slice(0, 4)).toBe('02ff'); // (1+2+1)>>1, (255+254+1)>>1
    expect(hex(e.readXmm(4)).slice(0, 8)).toBe('ff7f0080'); // 0x7000*2 -> 0x7fff, 0x9000*2 -> 0x8000
  });

  it('movntdq requires 16-byte alignment (#GP as interrupt 13)', async () => {
    // movntdq [rbx+1], xmm0
    const { result } = await run([0x66, 0x0f, 0xe7, 0x43, 0x01]);
    expect(result.reason).toBe('interrupt');
    expect(result.interrupt).toBe(13);
    expect(result.rip).toBe(CODE);
  });
});

describe('wasm core: SSE3 float', () => {
  it('haddpd and movddup', async () => {
    // haddpd xmm0, xmm1; movddup xmm2, xmm1
    const { e } = await run([0x66, 0x0f, 0x7c, 0xc1, 0xf2, 0x0f, 0x12, 0xd1],
      { xmm: { 0: new Uint8Array(new Float64Array([1, 2]).buffer), 1: new Uint8Array(new Float64Array([10, 20]).buffer) } });
    expect([...new Float64Array(e.readXmm(0).buffer)]).toEqual([3, 30]);
    expect([...new Float64Array(e.readXmm(2).buffer)]).toEqual([10, 10]);
  });
});

describe('wasm core: movbe, crc32, rdrand', () => {
  it('movbe loads and stores byte-swapped', async () => {
    // movbe rax, [rbx]; movbe [rbx+8], ecx
    const { e } = await run([0x48, 0x0f, 0x38, 0xf0, 0x03, 0x0f, 0x38, 0xf1, 0x4b, 0x08],
      { data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), regs: { rcx: 0xaabbccddn } });
    expect(e.readRegister('rax')).toBe(0x0102030405060708n);
    expect(hex(e.readMemory(DATA + 8n, 4))).toBe('aabbccdd');
  });

  it('crc32 computes CRC-32C ("123456789" -> 0xe3069283)', async () => {
    // mov eax, -1; crc32 eax, byte [rbx + rcx] for 9 bytes (loop); not eax
    // b8 ff ff ff ff / f2 0f 38 f0 04 0b / 48 ff c1 / 48 83 f9 09 / 75 f1 / f7 d0
    const code = [0xb8, 0xff, 0xff, 0xff, 0xff, 0xf2, 0x0f, 0x38, 0xf0, 0x04, 0x0b, 0x48, 0xff, 0xc1, 0x48, 0x83, 0xf9, 0x09, 0x75, 0xf1, 0xf7, 0xd0];
    const { e } = await run(code, { data: new Uint8Array(Buffer.from('123456789')), regs: { rcx: 0n } });
    expect(e.readRegister('rax')).toBe(0xe3069283n);
  });

  it('rdrand is deterministic per core and sets CF', async () => {
    // rdrand rax; rdrand ecx
    const code = [0x48, 0x0f, 0xc7, 0xf0, 0x0f, 0xc7, 0xf1];
    const a = await run(code), b = await run(code);
    expect(a.e.readRegister('rax')).toBe(b.e.readRegister('rax'));
    expect(a.e.readRegister('rax')).not.toBe(0n);
    expect(a.e.readRegister('rcx') >> 32n).toBe(0n);
    expect(a.e.readRegister('rflags') & 1n).toBe(1n);
  });
});

describe('wasm core: x87', () => {
  it('fld/fadd/fmulp/fstp on m64, and fstp m80 writes the exact extended encoding', async () => {
    // fld qword [rbx]; fadd qword [rbx+8]; fld1; fadd st0, st0; fmulp st1; fst qword [rbx+16]; fstp tbyte [rbx+32]
    const data = new Uint8Array(64);
    new DataView(data.buffer).setFloat64(0, 1.25, true);
    new DataView(data.buffer).setFloat64(8, 2, true);
    const { e } = await run([0xdd, 0x03, 0xdc, 0x43, 0x08, 0xd9, 0xe8, 0xd8, 0xc0, 0xde, 0xc9, 0xdd, 0x53, 0x10, 0xdb, 0x7b, 0x20], { data });
    const out = e.readMemory(DATA, 64);
    expect(new DataView(out.buffer).getFloat64(16, true)).toBe(6.5);
    // 6.5 = 1.625 * 2^2: mantissa 0xd000000000000000, exponent 16383 + 2 = 0x4001
    expect(hex(out.subarray(32, 42))).toBe('00000000000000d00140');
  });

  it('fld m80 reads an extended value exactly, fild/fistp round by the control word', async () => {
    // fld tbyte [rbx]; fistp qword [rbx+16]; fnstcw [rbx+24]; or word [rbx+24], 0x400 (round down); fldcw [rbx+24]; fild dword [rbx+32]; ... 
    // fld tbyte [rbx]: db 2b / fistp qword [rbx+16]: df 7b 10 / fnstcw [rbx+24]: d9 7b 18
    // or word [rbx+24], 0x400: 66 81 4b 18 00 04 / fldcw [rbx+24]: d9 6b 18 / fld tbyte [rbx]: db 2b / fistp dword [rbx+40]: db 5b 28
    const data = new Uint8Array(64);
    const dv = new DataView(data.buffer);
    dv.setBigUint64(0, 0xe000000000000000n, true); // 1.75 * 2^1 = 3.5 with exponent 0x4000
    dv.setUint16(8, 0x4000, true);
    const { e } = await run([0xdb, 0x2b, 0xdf, 0x7b, 0x10, 0xd9, 0x7b, 0x18, 0x66, 0x81, 0x4b, 0x18, 0x00, 0x04, 0xd9, 0x6b, 0x18, 0xdb, 0x2b, 0xdb, 0x5b, 0x28], { data });
    const out = new DataView(e.readMemory(DATA, 64).buffer);
    expect(out.getBigInt64(16, true)).toBe(4n); // round to nearest even: 3.5 -> 4
    expect(out.getUint16(24, true)).toBe(0x77f); // default control word 0x37f, then RC = down
    expect(out.getInt32(40, true)).toBe(3); // round down
  });

  it('fcomi / fucomip set ZF PF CF; fxch swaps; fnstsw ax reports TOP', async () => {
    // fld qword [rbx] (2); fld qword [rbx+8] (3); fcomi st0, st1; setb cl... use rflags: fxch; fucomip st0, st1; fnstsw ax
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat64(0, 2, true);
    new DataView(data.buffer).setFloat64(8, 3, true);
    // dd 03 / dd 43 08 / db f1 (fcomi st0, st1: 3 vs 2 -> greater, flags 0) / 9c (pushfq) / d9 c9 (fxch) / df e9 (fucomip: 2 vs 3 -> CF) / df e0
    const { e } = await run([0xdd, 0x03, 0xdd, 0x43, 0x08, 0xdb, 0xf1, 0x9c, 0xd9, 0xc9, 0xdf, 0xe9, 0xdf, 0xe0], { data, regs: { rsp: DATA + 0x800n } });
    const pushed = new DataView(e.readMemory(DATA + 0x7f8n, 8).buffer).getBigUint64(0, true);
    expect(pushed & 0x45n).toBe(0n);
    expect(e.readRegister('rflags') & 0x45n).toBe(1n);
    expect((e.readRegister('rax') >> 11n) & 7n).toBe(7n); // one value left: TOP = 7
  });

  it('fxsave/fxrstor round-trip x87, mxcsr and xmm state', async () => {
    // fld1; fxsave [rbx]; fstp st0; fxrstor [rbx]; fstp qword [rbx+0x400]
    // d9 e8 / 0f ae 03 / dd d8 / 0f ae 0b / dd 9b 00 04 00 00
    const { e } = await run([0xd9, 0xe8, 0x0f, 0xae, 0x03, 0xdd, 0xd8, 0x0f, 0xae, 0x0b, 0xdd, 0x9b, 0x00, 0x04, 0x00, 0x00],
      { xmm: { 5: bytes16(0x5a) } });
    const image = new DataView(e.readMemory(DATA, 512).buffer);
    expect(image.getUint16(0, true)).toBe(0x37f);
    expect(image.getUint32(24, true)).toBe(0x1f80);
    expect(image.getUint8(160 + 5 * 16)).toBe(0x5a);
    expect(new DataView(e.readMemory(DATA + 0x400n, 8).buffer).getFloat64(0, true)).toBe(1);
    expect(f64bits(1)).toBe(0x3ff0000000000000n);
  });
});
