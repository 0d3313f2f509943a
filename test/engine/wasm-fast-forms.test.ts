// The core's fast forms and fused flags+jcc records (wasm/assembly/fast.ts, cpu.ts) against its
// general handlers: one program using every fast form and every fusable flags producer before
// jcc's of all sixteen conditions, run (a) in one start() (fast forms, fused pairs), (b) one
// instruction per start() (fast forms, never fused), (c) with a breakpoint on every instruction
// (each record runs its general handler) and (d) in budgets of 2, 3 and 5 instructions (fused
// pairs cut by the budget). The general handlers are compared with Unicorn by the differential
// suites; here every run must end in the same registers, flags, xmm registers, memory and count.
import { describe, expect, it } from 'vitest';
import { Assembler } from '../../src/asm/keystone.js';
import { Perm } from '../../src/engine/engine.js';
import { GPRS } from '../../src/engine/engine.js';
import { WasmEngine } from '../../src/engine/wasm-engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK_TOP = 0x40000n;
const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/**
 * The program as chunks of assembly (Keystone takes 4 KiB of text at a time), laid out one after
 * the other. Each round: per flags producer, for every condition the producer, a jcc over an
 * `add r15, imm` (the taken/not-taken pattern lands in r15), a setcc and a cmov recorded to
 * memory at rdi; then loads, stores, extensions, push/pop/call/ret, shifts, imul and SSE2.
 */
function chunks(outer: bigint): string[] {
  const producers = [
    'cmp rax, rbx', 'cmp eax, ebx', 'cmp rax, 0x7f', 'cmp eax, -3', 'test rax, rbx', 'test ecx, edx', 'test al, al',
    'test sil, dil', 'cmp dl, 0x80', 'cmp al, 5', 'sub rcx, rdx', 'and edx, eax', 'dec rbx', 'dec ecx', 'add rax, rbx',
    'sbb eax, 1', 'cmp qword ptr [rsi], 0x11', 'cmp dword ptr [rsi + 8], eax', 'cmp rbx, qword ptr [rsi]',
    'add ecx, dword ptr [rsi + 12]', 'cmp byte ptr [rsi + 3], dl', 'cmp ah, 0x10',
  ];
  const out: string[] = ['mov r12d, 3'];
  for (const p of producers) {
    const lines: string[] = [];
    for (let c = 0; c < CONDITIONS.length; c++) {
      const cc = CONDITIONS[c]!;
      lines.push(p, `j${cc} L${c}`, `add r15, ${c + 1}`, `L${c}:`, `set${cc} r14b`, `cmov${cc} ${c & 1 ? 'r13, rax' : 'r11d, ebx'}`,
        'mov qword ptr [rdi], r14', 'add rdi, 8', 'and rdi, 0x20fff');
    }
    lines.push('imul rax, rax, 0x3779b1', 'add rax, rcx', 'imul ebx, eax', 'lea rcx, [rax + rbx*2 + 7]', 'lea edx, [rcx + rax]',
      'rol rdx, 13', 'mov dword ptr [rsi + 8], ecx', 'mov qword ptr [rdi], r11');
    out.push(lines.join('\n'));
  }
  // Each instruction's destination goes to memory at rdi right after it (nothing is lost to a later overwrite).
  // A third element `true` pushes the flags right after the instruction (popped and recorded further on).
  const record = (pairs: [string, string, boolean?][]): string =>
    pairs.map(([insn, dst, flags]) => {
      const first = flags ? `${insn}\npushfq` : insn;
      if (dst === '') return first;
      const store = dst.startsWith('xmm') ? `movdqu xmmword ptr [rdi], ${dst}` : `mov qword ptr [rdi], ${dst}`;
      return `${first}\n${store}\nadd rdi, 16\nand rdi, 0x20fff`;
    }).join('\n');
  out.push(record([
    // loads and stores, extensions, moves, lea, push/pop, call/ret
    ['mov dword ptr [rsi + 16], eax', ''], ['mov byte ptr [rsi + 20], sil', ''], ['mov byte ptr [rsi + 21], cl', ''],
    ['mov r8d, dword ptr [rsi + 16]', 'r8'], ['movzx r9d, byte ptr [rsi + 20]', 'r9'], ['movzx r10, word ptr [rsi + 18]', 'r10'],
    ['movsx ebx, byte ptr [rsi + 21]', 'rbx'], ['movsx rbx, byte ptr [rsi + 21]', 'rbx'], ['movsx ecx, word ptr [rsi + 16]', 'rcx'],
    ['movsx rcx, word ptr [rsi + 16]', 'rcx'], ['movzx edx, al', 'rdx'], ['movzx edx, sil', 'rdx'], ['movsxd rdx, ecx', 'rdx'],
    ['mov r9d, 0xfedcba98', 'r9'], ['mov r10, 0x123456789abcdef0', 'r10'], ['push r10', ''], ['push rax', ''], ['pop r11', 'r11'],
    ['pop rbx', 'rbx'], ['call fn', ''], ['add r15, rax', 'r15'],
    // shifts by immediate and by 1, imul, each with its flags
    ['shl eax, 7', 'rax', true], ['shr rbx, 1', 'rbx', true], ['sar ecx, 31', 'rcx', true],
    ['sar rdx, 5', 'rdx', true], ['shl r10, 1', 'r10', true], ['shr r9d, 3', 'r9', true],
    ['sal r8, 63', 'r8', true], ['mov r11, -3', ''], ['sar r11, 1', 'r11', true], ['mov r13d, 0x5f', ''],
    ['sar r13d, 4', 'r13', true], ['shr r13d, 1', 'r13', true], ['imul rax, rbx', 'rax', true], ['imul ecx, edx', 'rcx', true],
    ['imul r8, r9, -7', 'r8', true], ['imul r9d, r10d, 0x7fffffff', 'r9', true],
    ...['rax', 'rbx', 'rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'r13', 'r14', 'r14', 'r14', 'r14', 'r14'].map((r): [string, string, boolean?] => [`pop ${r}`, r]),
    ['jmp next', ''], ['fn:', ''], ['lea rax, [rip + fn]', ''], ['ret', ''], ['next:', ''],
  ]));
  out.push(record([
    // SSE2 fast forms
    ['movdqa xmm0, xmmword ptr [rsi + 32]', 'xmm0'], ['movdqu xmm1, xmmword ptr [rsi + 40]', 'xmm1'],
    ['movaps xmm2, xmmword ptr [rsi + 48]', 'xmm2'], ['movdqa xmm3, xmm0', 'xmm3'], ['pxor xmm3, xmm1', 'xmm3'],
    ['pxor xmm3, xmmword ptr [rsi + 64]', 'xmm3'], ['paddd xmm1, xmm0', 'xmm1'], ['paddd xmm1, xmm1', 'xmm1'],
    ['paddd xmm2, xmmword ptr [rsi + 32]', 'xmm2'], ['punpckldq xmm0, xmm1', 'xmm0'], ['punpckldq xmm1, xmm1', 'xmm1'],
    ['punpckldq xmm2, xmmword ptr [rsi + 48]', 'xmm2'], ['pshufd xmm4, xmm0, 0x1b', 'xmm4'], ['pshufd xmm5, xmm5, 0xe4', 'xmm5'],
    ['pshufd xmm4, xmm4, 0x39', 'xmm4'], ['pshufd xmm6, xmmword ptr [rsi + 64], 0x93', 'xmm6'], ['psrlq xmm4, 7', 'xmm4'],
    ['psllq xmm5, 63', 'xmm5'], ['psrlq xmm6, 64', 'xmm6'], ['psllq xmm3, 200', 'xmm3'], ['pmuludq xmm0, xmm1', 'xmm0'],
    ['pmuludq xmm1, xmm1', 'xmm1'], ['pmuludq xmm2, xmmword ptr [rsi + 32]', 'xmm2'], ['movdqa xmmword ptr [rsi + 32], xmm4', ''],
    ['movdqu xmmword ptr [rsi + 41], xmm2', ''], ['pxor xmm5, xmm0', 'xmm5'],
  ]) + `\ndec r12d\njnz 0x${outer.toString(16)}\nhlt`);
  return out;
}

interface FinalState {
  registers: bigint[];
  xmm: number[][];
  data: number[];
  instructions: number;
}

let assembled: Uint8Array | undefined;
async function code(): Promise<Uint8Array> {
  if (assembled) return assembled;
  const assembler = await Assembler.load();
  const header = assembler.assemble(chunks(0n)[0]!, CODE);
  const outer = CODE + BigInt(header.length);
  const parts: Uint8Array[] = [];
  let at = CODE;
  for (const text of chunks(outer)) {
    const bytes = assembler.assemble(text, at);
    parts.push(bytes);
    at += BigInt(bytes.length);
  }
  const all = new Uint8Array(Number(at - CODE));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  assembled = all;
  return all;
}

async function machine(): Promise<WasmEngine> {
  const bytes = await code();
  const e = await WasmEngine.create();
  e.map(CODE, (bytes.length + 0xfff) & ~0xfff, Perm.RX);
  e.map(DATA, 0x1000, Perm.RW);
  e.map(STACK_TOP - 0x2000n, 0x2000, Perm.RW);
  e.writeMemory(CODE, bytes);
  const data = new Uint8Array(0x100);
  for (let i = 0; i < data.length; i++) data[i] = (i * 0x9d + 0x3b) & 0xff;
  e.writeMemory(DATA, data);
  const init = [0x8000000000000001n, 0x7fn, 3n, 0xffffffff80000000n, 0n, 0n, DATA, DATA + 0x400n];
  ['rax', 'rbx', 'rcx', 'rdx', 'r13', 'r15', 'rsi', 'rdi'].forEach((r, i) => e.writeRegister(r as 'rax', init[i]!));
  e.writeRegister('rsp', STACK_TOP);
  e.writeRegister('rflags', 0x2n);
  return e;
}

function capture(e: WasmEngine, instructions: number): FinalState {
  return {
    registers: [...GPRS.map((r) => e.readRegister(r)), e.readRegister('rip'), e.readRegister('rflags')],
    xmm: Array.from({ length: 8 }, (_, i) => [...e.readXmm(i)]),
    data: [...e.readMemory(DATA, 0x1000)],
    instructions,
  };
}

/** Runs to the hlt in starts of at most `budget` instructions each (0: no limit). */
async function runInSteps(budget: number): Promise<{ state: FinalState; rips: bigint[] }> {
  const e = await machine();
  const rips: bigint[] = [];
  let rip = CODE;
  let total = 0;
  for (;;) {
    if (budget === 1) rips.push(rip);
    const r = e.start(rip, { count: budget || 1_000_000 });
    total += r.instructions;
    rip = r.rip;
    if (r.reason === 'interrupt') {
      expect(r.interrupt).toBe(0xf4);
      break;
    }
    expect(r.reason).toBe('count');
    expect(total).toBeLessThan(1_000_000);
  }
  const state = capture(e, total);
  e.close();
  return { state, rips };
}

describe('fast forms and fused flags+jcc records', () => {
  it('give the general handlers\' state however the run is cut', async () => {
    const whole = (await runInSteps(0)).state;
    const stepped = await runInSteps(1);
    expect(stepped.state).toEqual(whole);
    for (const budget of [2, 3, 5]) expect((await runInSteps(budget)).state).toEqual(whole);

    // Every instruction a breakpoint: each record runs its general handler.
    const e = await machine();
    e.setBreakpoints([...new Set(stepped.rips)]);
    let rip = CODE;
    let total = 0;
    for (;;) {
      const r = e.start(rip, { count: 1_000_000 });
      total += r.instructions;
      rip = r.rip;
      if (r.reason === 'interrupt') break;
      expect(r.reason).toBe('breakpoint');
    }
    expect(capture(e, total)).toEqual(whole);
    e.close();
    expect(whole.instructions).toBeGreaterThan(5_000);
  });

  it('a fused compare with a memory operand that faults stops on the compare, the jcc not run', async () => {
    const bytes = (await Assembler.load()).assemble('mov ecx, 1\ncmp qword ptr [rsi], 0\nje done\nmov ecx, 2\ndone:\nhlt', CODE);
    const e = await WasmEngine.create();
    e.map(CODE, 0x1000, Perm.RX);
    e.writeMemory(CODE, bytes);
    e.writeRegister('rsi', 0x900000n); // unmapped
    const r = e.start(CODE);
    expect(r).toMatchObject({ reason: 'fault', rip: CODE + 5n, instructions: 1 });
    expect(e.readRegister('rcx')).toBe(1n);
    e.close();
  });

  it('a misaligned movdqa load raises #GP on the fast form as on the general handler', async () => {
    const bytes = (await Assembler.load()).assemble('movdqa xmm0, xmmword ptr [rsi + 8]\nhlt', CODE);
    for (const general of [false, true]) {
      const e = await WasmEngine.create();
      e.map(CODE, 0x1000, Perm.RX);
      e.map(DATA, 0x1000, Perm.RW);
      e.writeMemory(CODE, bytes);
      e.writeRegister('rsi', DATA);
      if (general) e.setBreakpoints([CODE]);
      const r = e.start(CODE);
      expect(r).toMatchObject({ reason: 'interrupt', interrupt: 13, rip: CODE, instructions: 0 });
      e.close();
    }
  });
});
