// Caller-saved register liveness over a function's CFG: hand-written bytes (assembly in the
// comments) for each rule, then the ipa-ra corpus pair, where gcc -O2 keeps r8-r11 and rcx
// live across a call and -fno-ipa-ra keeps nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallerSavedLiveness, CodeMap } from '../../src/analysis/index.js';
import { codeImageFromElf } from '../../src/analysis/from-elf.js';
import { ElfFile } from '../../src/elf/index.js';
import { imageOf, le32, TEXT } from './helpers.js';

function liveness(bytes: number[], functions: { name: string; at: number; size: number }[]): { map: CodeMap; l: CallerSavedLiveness } {
  const map = CodeMap.build(imageOf(bytes, functions));
  return { map, l: new CallerSavedLiveness(map) };
}

describe('CallerSavedLiveness', () => {
  // g (at 20): 0 mov eax, edi; 2 add edx, 1; 5 ret       (writes rax, rdx)
  const G = [0x89, 0xf8, 0x83, 0xc2, 0x01, 0xc3];

  it('a register read after the call before any write is live; the callee\'s own writes are its clobbers', () => {
    // f: 0 mov r8, rdi; 3 call g(20); 8 mov [r8], eax; 11 ret; 12..19 int3
    const f = [0x49, 0x89, 0xf8, 0xe8, ...le32(20 - 8), 0x41, 0x89, 0x00, 0xc3, ...Array(8).fill(0xcc)];
    const { map, l } = liveness([...f, ...G], [{ name: 'f', at: 0, size: 12 }, { name: 'g', at: 20, size: 6 }]);
    // rax too: the call's return value, read by the store.
    expect(l.liveAt(map.functionNamed('f')!, TEXT + 8n)).toEqual(['rax', 'r8']);
    expect(l.firstRead(map.functionNamed('f')!, TEXT + 8n, 'r8')!.address).toBe(TEXT + 8n);
    expect(l.clobbers(map.functionNamed('g')!)).toEqual(['rax', 'rdx']);
  });

  it('a full write before the read kills it; a partial (8-bit) write does not', () => {
    // f: 0 call g; 5 xor r8d, r8d; 8 mov [r8], eax; 11 ret
    const killed = [0xe8, ...le32(20 - 5), 0x45, 0x31, 0xc0, 0x41, 0x89, 0x00, 0xc3, ...Array(8).fill(0xcc)];
    const a = liveness([...killed, ...G], [{ name: 'f', at: 0, size: 12 }, { name: 'g', at: 20, size: 6 }]);
    expect(a.l.liveAt(a.map.functionNamed('f')!, TEXT + 5n)).toEqual(['rax']);
    // f: 0 call g; 5 mov r8b, 1; 8 mov [r8], eax; 11 ret
    const partial = [0xe8, ...le32(20 - 5), 0x41, 0xb0, 0x01, 0x41, 0x89, 0x00, 0xc3, ...Array(8).fill(0xcc)];
    const b = liveness([...partial, ...G], [{ name: 'f', at: 0, size: 12 }, { name: 'g', at: 20, size: 6 }]);
    expect(b.l.liveAt(b.map.functionNamed('f')!, TEXT + 5n)).toEqual(['rax', 'r8']);
  });

  it('follows branches: a read on one path of two is enough (any path)', () => {
    // f: 0 call g; 5 test eax, eax; 7 je 12; 9 mov [rcx], eax; 11 ret; 12 ret
    const f = [0xe8, ...le32(20 - 5), 0x85, 0xc0, 0x74, 0x03, 0x89, 0x01, 0xc3, 0xc3, ...Array(7).fill(0xcc)];
    const { map, l } = liveness([...f, ...G], [{ name: 'f', at: 0, size: 13 }, { name: 'g', at: 20, size: 6 }]);
    expect(l.liveAt(map.functionNamed('f')!, TEXT + 5n)).toEqual(['rax', 'rcx']);
  });

  it('a later call clobbers everything caller-saved, and reads only what a local callee reads on entry', () => {
    // f: 0 call g; 5 call g; 10 mov [r9], eax; 13 ret     g reads edi (mov eax, edi) and edx (add edx, 1)
    const f = [0xe8, ...le32(20 - 5), 0xe8, ...le32(20 - 10), 0x41, 0x89, 0x01, 0xc3, ...Array(6).fill(0xcc)];
    const { map, l } = liveness([...f, ...G], [{ name: 'f', at: 0, size: 14 }, { name: 'g', at: 20, size: 6 }]);
    expect(l.liveAt(map.functionNamed('f')!, TEXT + 5n)).toEqual(['rdx', 'rdi']);
  });
});

describe('the ipa-ra corpus pair', () => {
  const dir = join(import.meta.dirname, '../../corpus/ipa-ra');
  const analyse = (file: string): { live: string[]; clobbers: string[] } => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(join(dir, file))));
    const map = CodeMap.build(codeImageFromElf(elf));
    const l = new CallerSavedLiveness(map);
    const target = map.functionNamed('next_state')!;
    const call = map.directBranches().find((e) => e.kind === 'call' && e.target === target.address)!;
    return { live: l.liveAt(map.functionContaining(call.source)!, call.source + BigInt(call.sourceLength)), clobbers: l.clobbers(target) };
  };

  it('gcc -O2: run_machine keeps rcx and r8-r11 live across next_state, which writes only rax and rdx', () => {
    // rax is the return value (next_state writes it); the others are kept across the call.
    expect(analyse('main')).toEqual({ live: ['rax', 'rcx', 'r8', 'r9', 'r10', 'r11'], clobbers: ['rax', 'rdx'] });
  });

  it('-fno-ipa-ra: nothing caller-saved but the return value is live after the call', () => {
    expect(analyse('main-no-ipa-ra').live).toEqual(['rax']);
  });
});
