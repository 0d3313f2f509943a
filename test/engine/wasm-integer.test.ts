// Integer instruction semantics of the wasm core: flags at the edges, shifts/rotates, division
// errors, string ops, cmov/xchg/cmpxchg, addressing forms. Bytes carry their assembly.
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { Perm, type Register } from '../../src/engine/engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK_TOP = 0x40000n;
const CF = 0x1n, PF = 0x4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, DF = 0x400n, OF = 0x800n;

async function machine(code: number[], regs: Partial<Record<Register, bigint>> = {}): Promise<WasmEngine> {
  const e = await WasmEngine.create();
  e.map(CODE, 0x1000, Perm.RX);
  e.map(DATA, 0x1000, Perm.RW);
  e.map(STACK_TOP - 0x2000n, 0x2000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array(code));
  e.writeRegister('rsp', STACK_TOP);
  for (const [r, v] of Object.entries(regs)) e.writeRegister(r as Register, v);
  return e;
}

/** Runs to the final hlt (f4) and checks that is why it stopped. */
async function run(code: number[], regs: Partial<Record<Register, bigint>> = {}): Promise<WasmEngine> {
  const e = await machine([...code, 0xf4], regs);
  const r = e.start(CODE);
  expect(r.reason).toBe('interrupt');
  expect(r.interrupt).toBe(0xf4);
  return e;
}

const ARITH = CF | PF | AF | ZF | SF | OF;
const flags = (e: WasmEngine): bigint => e.readRegister('rflags') & ARITH;

describe('wasm core: add/adc/sub/sbb flags', () => {
  it('adc with carry in wraps to zero and sets CF, ZF, AF', async () => {
    // stc; mov al, 0xff; adc al, 0
    const e = await run([0xf9, 0xb0, 0xff, 0x14, 0x00]);
    expect(e.readRegister('rax') & 0xffn).toBe(0n);
    expect(flags(e)).toBe(CF | ZF | AF | PF);
  });

  it('sbb with carry in borrows through zero', async () => {
    // stc; mov al, 0; sbb al, 0
    const e = await run([0xf9, 0xb0, 0x00, 0x1c, 0x00]);
    expect(e.readRegister('rax') & 0xffn).toBe(0xffn);
    expect(flags(e)).toBe(CF | SF | AF | PF);
  });

  it('add 0x7fffffff + 1 overflows (OF, SF) without carry', async () => {
    // mov eax, 0x7fffffff; add eax, 1
    const e = await run([0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01]);
    expect(e.readRegister('rax')).toBe(0x80000000n);
    expect(flags(e)).toBe(OF | SF | AF | PF);
  });

  it('sub INT64_MIN - 1 overflows to INT64_MAX', async () => {
    // movabs rax, 0x8000000000000000; sub rax, 1
    const e = await run([0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x48, 0x83, 0xe8, 0x01]);
    expect(e.readRegister('rax')).toBe(0x7fffffffffffffffn);
    expect(flags(e)).toBe(OF | AF | PF);
  });

  it('inc keeps CF; dec to zero sets ZF', async () => {
    // stc; mov ecx, 1; dec ecx; inc edx
    const e = await run([0xf9, 0xb9, 0x01, 0, 0, 0, 0xff, 0xc9, 0xff, 0xc2], { rdx: 0xffffffffn });
    expect(e.readRegister('rcx')).toBe(0n);
    expect(e.readRegister('rdx')).toBe(0n);
    expect(flags(e) & (CF | ZF)).toBe(CF | ZF);
  });

  it('neg of zero clears CF, of nonzero sets it', async () => {
    // neg rax; setc bl; neg rcx; setc dl
    const e = await run([0x48, 0xf7, 0xd8, 0x0f, 0x92, 0xc3, 0x48, 0xf7, 0xd9, 0x0f, 0x92, 0xc2], { rax: 0n, rcx: 5n });
    expect(e.readRegister('rbx') & 0xffn).toBe(0n);
    expect(e.readRegister('rdx') & 0xffn).toBe(1n);
    expect(e.readRegister('rcx')).toBe(0xfffffffffffffffbn);
  });
});

describe('wasm core: shifts and rotates', () => {
  it('shift by 0 leaves the flags untouched', async () => {
    // shl eax, 0
    const e = await machine([0xc1, 0xe0, 0x00, 0xf4], { rax: 0x12345678n });
    e.writeRegister('rflags', 0x2n | CF | ZF | OF);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(0x12345678n);
    expect(flags(e)).toBe(CF | ZF | OF);
  });

  it('32-bit shift count is masked to 5 bits (cl = 33 shifts by 1)', async () => {
    // shl eax, cl
    const e = await run([0xd3, 0xe0], { rax: 0x80000001n, rcx: 33n });
    expect(e.readRegister('rax')).toBe(2n);
    expect(flags(e) & (CF | ZF)).toBe(CF);
  });

  it('64-bit shift by cl = 64 is a shift by 0', async () => {
    // shr rax, cl
    const e = await machine([0x48, 0xd3, 0xe8, 0xf4], { rax: 0xf0n, rcx: 64n });
    e.writeRegister('rflags', 0x2n | ZF);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(0xf0n);
    expect(flags(e)).toBe(ZF);
  });

  it('shr sets CF from the last bit out and OF from the original sign (count 1)', async () => {
    // shr eax, 1
    const e = await run([0xd1, 0xe8], { rax: 0x80000001n });
    expect(e.readRegister('rax')).toBe(0x40000000n);
    expect(flags(e) & (CF | OF)).toBe(CF | OF);
  });

  it('sar keeps the sign', async () => {
    // sar rax, 4
    const e = await run([0x48, 0xc1, 0xf8, 0x04], { rax: 0x8000000000000010n });
    expect(e.readRegister('rax')).toBe(0xf800000000000001n);
  });

  it('rol by 1 defines OF = MSB xor CF', async () => {
    // rol eax, 1
    const e = await run([0xd1, 0xc0], { rax: 0x40000000n });
    expect(e.readRegister('rax')).toBe(0x80000000n);
    expect(flags(e) & (CF | OF)).toBe(OF);
  });

  it('rol by n sets CF to the bit rotated into bit 0', async () => {
    // rol eax, cl
    const e = await run([0xd3, 0xc0], { rax: 0x40000000n, rcx: 2n });
    expect(e.readRegister('rax')).toBe(1n);
    expect(flags(e) & CF).toBe(CF);
  });

  it('rcr rotates through carry', async () => {
    // stc; rcr al, 1
    const e = await run([0xf9, 0xd0, 0xd8], { rax: 0x02n });
    expect(e.readRegister('rax')).toBe(0x81n);
    expect(flags(e) & CF).toBe(0n);
  });

  it('shld and shrd shift in bits of the other operand', async () => {
    // shld rax, rbx, 8; shrd rcx, rdx, 4
    const e = await run([0x48, 0x0f, 0xa4, 0xd8, 0x08, 0x48, 0x0f, 0xac, 0xd1, 0x04],
      { rax: 0x0011223344556677n, rbx: 0x8899aabbccddeeffn, rcx: 0x10n, rdx: 0xan });
    expect(e.readRegister('rax')).toBe(0x1122334455667788n);
    expect(e.readRegister('rcx')).toBe(0xa000000000000001n);
  });
});

describe('wasm core: multiply and divide', () => {
  it('idiv INT32_MIN / -1 raises #DE at the idiv', async () => {
    // idiv ecx
    const e = await machine([0xf7, 0xf9, 0xf4], { rax: 0x80000000n, rdx: 0xffffffffn, rcx: 0xffffffffn });
    const r = e.start(CODE);
    expect(r.reason).toBe('divide-error');
    expect(r.rip).toBe(CODE);
    expect(e.readRegister('rax')).toBe(0x80000000n);
  });

  it('div by zero raises #DE', async () => {
    // div ecx
    const e = await machine([0xf7, 0xf1, 0xf4], { rax: 1n, rcx: 0n });
    expect(e.start(CODE).reason).toBe('divide-error');
  });

  it('div with a quotient that does not fit raises #DE', async () => {
    // div rcx  (rdx:rax = 2^64, rcx = 1)
    const e = await machine([0x48, 0xf7, 0xf1, 0xf4], { rax: 0n, rdx: 1n, rcx: 1n });
    expect(e.start(CODE).reason).toBe('divide-error');
  });

  it('idiv rcx truncates toward zero (-7 / 2 = -3 rem -1)', async () => {
    // idiv rcx
    const e = await run([0x48, 0xf7, 0xf9], { rax: 0xfffffffffffffff9n, rdx: 0xffffffffffffffffn, rcx: 2n });
    expect(e.readRegister('rax')).toBe(0xfffffffffffffffdn);
    expect(e.readRegister('rdx')).toBe(0xffffffffffffffffn);
  });

  it('128-bit div', async () => {
    // div rcx  ((3 << 64 | 5) / 7)
    const e = await run([0x48, 0xf7, 0xf1], { rax: 5n, rdx: 3n, rcx: 7n });
    const n = (3n << 64n) | 5n;
    expect(e.readRegister('rax')).toBe(n / 7n);
    expect(e.readRegister('rdx')).toBe(n % 7n);
  });

  it('mul rcx gives the 128-bit product and CF=OF when the high half is used', async () => {
    // mul rcx
    const e = await run([0x48, 0xf7, 0xe1], { rax: 0xffffffffffffffffn, rcx: 0xffffffffffffffffn });
    expect(e.readRegister('rax')).toBe(1n);
    expect(e.readRegister('rdx')).toBe(0xfffffffffffffffen);
    expect(flags(e) & (CF | OF)).toBe(CF | OF);
  });

  it('imul r, r/m, imm sets CF=OF on signed overflow only', async () => {
    // imul eax, ecx, 0x10 ; imul rdx, rbx, -1
    const e = await run([0x6b, 0xc1, 0x10, 0x48, 0x6b, 0xd3, 0xff], { rcx: 0x10000000n, rbx: 5n });
    expect(e.readRegister('rax')).toBe(0n);
    expect(e.readRegister('rdx')).toBe(0xfffffffffffffffbn);
    expect(flags(e) & (CF | OF)).toBe(0n);
  });
});

describe('wasm core: string instructions', () => {
  it('rep movsb with rcx = 0 moves nothing and falls through', async () => {
    // rep movsb
    const e = await run([0xf3, 0xa4], { rcx: 0n, rsi: DATA, rdi: DATA + 0x100n });
    expect(e.readRegister('rsi')).toBe(DATA);
    expect(e.readRegister('rdi')).toBe(DATA + 0x100n);
  });

  it('rep movsb copies rcx bytes forward', async () => {
    const e = await machine([0xf3, 0xa4, 0xf4], { rcx: 5n, rsi: DATA, rdi: DATA + 0x100n });
    e.writeMemory(DATA, new Uint8Array([1, 2, 3, 4, 5, 6]));
    e.start(CODE);
    expect([...e.readMemory(DATA + 0x100n, 6)]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(e.readRegister('rcx')).toBe(0n);
    expect(e.readRegister('rsi')).toBe(DATA + 5n);
  });

  it('std; rep stosq stores downward', async () => {
    // std; rep stosq; cld
    const e = await run([0xfd, 0xf3, 0x48, 0xab, 0xfc], { rcx: 2n, rax: 0x1111n, rdi: DATA + 0x18n });
    expect(e.readRegister('rdi')).toBe(DATA + 0x8n);
    const v = new DataView(e.readMemory(DATA, 0x20).buffer);
    expect(v.getBigUint64(0x18, true)).toBe(0x1111n);
    expect(v.getBigUint64(0x10, true)).toBe(0x1111n);
    expect(v.getBigUint64(0x08, true)).toBe(0n);
    expect(e.readRegister('rflags') & DF).toBe(0n);
  });

  it('repne scasb finds a byte', async () => {
    // repne scasb
    const e = await machine([0xf2, 0xae, 0xf4], { rcx: 100n, rax: 0x41n, rdi: DATA });
    e.writeMemory(DATA, new TextEncoder().encode('xyzA'));
    e.start(CODE);
    expect(e.readRegister('rdi')).toBe(DATA + 4n);
    expect(e.readRegister('rcx')).toBe(96n);
  });
});

describe('wasm core: moves, exchanges, addressing', () => {
  it('32-bit cmov zero-extends the destination even when not taken', async () => {
    // cmove eax, ecx   (ZF = 0)
    const e = await machine([0x0f, 0x44, 0xc1, 0xf4], { rax: 0xffffffff00000001n, rcx: 7n });
    e.writeRegister('rflags', 0x2n);
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(1n);
  });

  it('push rsp pushes the old value; pop rsp loads the popped value', async () => {
    // push rsp; pop rax; push rsp; pop rsp
    const e = await run([0x54, 0x58, 0x54, 0x5c]);
    expect(e.readRegister('rax')).toBe(STACK_TOP);
    expect(e.readRegister('rsp')).toBe(STACK_TOP);
  });

  it('xchg with memory swaps', async () => {
    // xchg [rbx], rax
    const e = await machine([0x48, 0x87, 0x03, 0xf4], { rbx: DATA, rax: 0xaan });
    e.writeMemory(DATA, new Uint8Array([0x55, 0, 0, 0, 0, 0, 0, 0]));
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(0x55n);
    expect(e.readMemory(DATA, 1)[0]).toBe(0xaa);
  });

  it('cmpxchg: equal stores the source and sets ZF; not equal loads the accumulator', async () => {
    // lock cmpxchg [rbx], rcx ; setz dl ; lock cmpxchg [rbx], rcx ; setz dh
    const e = await machine([0xf0, 0x48, 0x0f, 0xb1, 0x0b, 0x0f, 0x94, 0xc2, 0xf0, 0x48, 0x0f, 0xb1, 0x0b, 0x0f, 0x94, 0xc6, 0xf4],
      { rbx: DATA, rax: 0n, rcx: 9n, rdx: 0n });
    e.start(CODE);
    expect(e.readMemory(DATA, 1)[0]).toBe(9); // first: [rbx] was 0 == rax
    expect(e.readRegister('rdx') & 0xffffn).toBe(0x0001n); // dl = 1, dh = 0
    expect(e.readRegister('rax')).toBe(9n); // second: rax loaded with 9 ... and rax == 9 now
  });

  it('lea computes every addressing form without touching memory', async () => {
    // lea rax, [rbx+rcx*4+0x10]; lea rdx, [rcx*8+0]; lea rsi, [r12+r13*2-8]; lea rdi, [rbp+0]; lea r8, [rsp+8]; lea r9d, [rip+0x100]
    const code = [0x48, 0x8d, 0x44, 0x8b, 0x10, 0x48, 0x8d, 0x14, 0xcd, 0, 0, 0, 0, 0x4b, 0x8d, 0x74, 0x6c, 0xf8,
      0x48, 0x8d, 0x7d, 0x00, 0x4c, 0x8d, 0x44, 0x24, 0x08, 0x44, 0x8d, 0x0d, 0x00, 0x01, 0x00, 0x00];
    const e = await run(code, { rbx: 0x1000n, rcx: 3n, r12: 0x100n, r13: 0x10n, rbp: 0x777n });
    expect(e.readRegister('rax')).toBe(0x1000n + 12n + 0x10n);
    expect(e.readRegister('rdx')).toBe(24n);
    expect(e.readRegister('rsi')).toBe(0x100n + 0x20n - 8n);
    expect(e.readRegister('rdi')).toBe(0x777n);
    expect(e.readRegister('r8')).toBe(STACK_TOP + 8n);
    expect(e.readRegister('r9')).toBe(CODE + BigInt(code.length) + 0x100n);
  });

  it('rip-relative load reads relative to the next instruction', async () => {
    // mov rax, [rip+0x10]  (at CODE: next rip CODE+7, reads CODE+0x17)
    const e = await machine([0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0xf4]);
    e.writeMemory(CODE + 0x17n, new Uint8Array([0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0]));
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(0xdeadbeefn);
  });

  it('fs-segment load reads fs_base + offset', async () => {
    // mov rax, fs:[0x28]
    const e = await machine([0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, 0xf4]);
    e.writeRegister('fs_base', DATA);
    e.writeMemory(DATA + 0x28n, new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]));
    e.start(CODE);
    expect(e.readRegister('rax')).toBe(0x8877665544332211n);
  });

  it('8-bit registers: ah without REX, spl with REX', async () => {
    // mov ah, 0x12; mov sil, 0x34  (40 b6 34)
    const e = await run([0xb4, 0x12, 0x40, 0xb6, 0x34], { rsi: 0xff00n });
    expect(e.readRegister('rax') & 0xff00n).toBe(0x1200n);
    expect(e.readRegister('rsi')).toBe(0xff34n);
  });

  it('movsx/movzx/movsxd and cdqe/cqo', async () => {
    // movsx eax, cl; movzx edx, cx; movsxd rsi, ecx; mov eax, ecx; cdqe; cqo
    const e = await run([0x0f, 0xbe, 0xc1, 0x0f, 0xb7, 0xd1, 0x48, 0x63, 0xf1, 0x89, 0xc8, 0x48, 0x98, 0x48, 0x99],
      { rcx: 0x80008080n });
    expect(e.readRegister('rdx')).toBe(0xffffffffffffffffn);
    expect(e.readRegister('rsi')).toBe(0xffffffff80008080n);
    expect(e.readRegister('rax')).toBe(0xffffffff80008080n);
  });

  it('bsf/bsr/tzcnt/lzcnt/popcnt', async () => {
    // bsf rax, rcx; bsr rdx, rcx; tzcnt rsi, rbx (rbx=0 -> 64, CF); lzcnt edi, ecx; popcnt r8, rcx
    const e = await run([0x48, 0x0f, 0xbc, 0xc1, 0x48, 0x0f, 0xbd, 0xd1, 0xf3, 0x48, 0x0f, 0xbc, 0xf3,
      0xf3, 0x0f, 0xbd, 0xf9, 0xf3, 0x4c, 0x0f, 0xb8, 0xc1], { rcx: 0x00f0n, rbx: 0n });
    expect(e.readRegister('rax')).toBe(4n);
    expect(e.readRegister('rdx')).toBe(7n);
    expect(e.readRegister('rsi')).toBe(64n);
    expect(e.readRegister('rdi')).toBe(24n);
    expect(e.readRegister('r8')).toBe(4n);
  });

  it('bt/bts with a register offset addresses beyond the operand in memory', async () => {
    // bts qword [rbx], rcx   (rcx = 70 -> byte 8, bit 6)
    const e = await run([0x48, 0x0f, 0xab, 0x0b], { rbx: DATA, rcx: 70n });
    expect(e.readMemory(DATA + 8n, 1)[0]).toBe(0x40);
    expect(flags(e) & CF).toBe(0n);
  });

  it('call/ret and enter/leave keep the stack balanced', async () => {
    // call +1; hlt; enter 0x20, 0; leave; ret
    const e = await machine([0xe8, 0x01, 0, 0, 0, 0xf4, 0xc8, 0x20, 0, 0, 0xc9, 0xc3]);
    e.writeRegister('rbp', 0x1234n);
    const r = e.start(CODE);
    expect(r.reason).toBe('interrupt');
    expect(r.rip).toBe(CODE + 6n);
    expect(e.readRegister('rsp')).toBe(STACK_TOP);
    expect(e.readRegister('rbp')).toBe(0x1234n);
  });

  it('loop counts rcx down', async () => {
    // L: inc eax; loop L
    const e = await run([0xff, 0xc0, 0xe2, 0xfc], { rcx: 10n });
    expect(e.readRegister('rax')).toBe(10n);
    expect(e.readRegister('rcx')).toBe(0n);
  });

  it('setcc after cmp covers signed and unsigned conditions', async () => {
    // cmp eax, ecx; setl bl; setb bh; setg dl; seta dh   (eax = -1, ecx = 1)
    const e = await run([0x39, 0xc8, 0x0f, 0x9c, 0xc3, 0x0f, 0x92, 0xc7, 0x0f, 0x9f, 0xc2, 0x0f, 0x97, 0xc6],
      { rax: 0xffffffffn, rcx: 1n });
    expect(e.readRegister('rbx') & 0xffffn).toBe(0x0001n); // setl = 1, setb = 0
    expect(e.readRegister('rdx') & 0xffffn).toBe(0x0100n); // setg = 0, seta = 1
  });

  it('pushf/popf round-trip the arithmetic flags', async () => {
    // stc; pushf; clc; popf; setc al
    const e = await run([0xf9, 0x9c, 0xf8, 0x9d, 0x0f, 0x92, 0xc0]);
    expect(e.readRegister('rax') & 0xffn).toBe(1n);
  });
});
