// src/asm/disasm.ts: records for hand-written bytes (assembly in comments) and agreement
// with objdump on the lengths and branch targets of a whole corpus function.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/asm/disasm.js';
import { ElfFile } from '../../src/elf/index.js';
import { readBytes, REPO_ROOT } from '../elf/elf-files.js';

describe('disassemble', () => {
  it('decodes the abs-rax trampoline', () => {
    // movabs rax, 0x1122334455667788 ; jmp rax
    const bytes = new Uint8Array([0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff, 0xe0]);
    const [movabs, jmp] = disassemble(bytes, 0x401000n);
    expect(movabs).toMatchObject({ address: 0x401000n, length: 10, mnemonic: 'mov', codeName: 'Mov_r64_imm64', flowControl: 'next', invalid: false });
    expect(movabs!.text).toBe('mov rax, 0x1122334455667788');
    expect(jmp).toMatchObject({ address: 0x40100an, length: 2, text: 'jmp rax', flowControl: 'indirect-branch', codeName: 'Jmp_rm64' });
    expect(jmp!.branchTarget).toBeUndefined();
    expect(Array.from(jmp!.bytes)).toEqual([0xff, 0xe0]);
  });

  it('gives direct branch targets and RIP-relative addresses', () => {
    // e8 fb ff ff ff        call 0x1000 (itself)
    // 75 fc                 jne 0x1003
    // 48 8d 05 10 00 00 00  lea rax, [rip+0x10]   -> 0x100e + 0x10 = 0x101e
    // c3                    ret
    const bytes = new Uint8Array([0xe8, 0xfb, 0xff, 0xff, 0xff, 0x75, 0xfc, 0x48, 0x8d, 0x05, 0x10, 0, 0, 0, 0xc3]);
    const records = disassemble(bytes, 0x1000n);
    expect(records.map((r) => [r.mnemonic, r.flowControl, r.branchTarget])).toEqual([
      ['call', 'call', 0x1000n],
      ['jne', 'conditional-branch', 0x1003n],
      ['lea', 'next', undefined],
      ['ret', 'return', undefined],
    ]);
    expect(records[2]!.ripRelativeTarget).toBe(0x101en);
  });

  it('turns undecodable and cut-off bytes into 1-byte (bad) records and respects maxCount', () => {
    // 06 is invalid in 64-bit mode; 48 b8 11 is a movabs cut short.
    const records = disassemble(new Uint8Array([0x06, 0x90, 0x48, 0xb8, 0x11]), 0n);
    expect(records.map((r) => r.text)).toEqual(['(bad)', 'nop', '(bad)', '(bad)', '(bad)']);
    expect(records.reduce((n, r) => n + r.length, 0)).toBe(5);
    expect(disassemble(new Uint8Array([0x90, 0x90, 0x90]), 0n, 2)).toHaveLength(2);
    expect(disassemble(new Uint8Array(0), 0n)).toEqual([]);
  });

  it('agrees with objdump on instruction boundaries and branch targets of a corpus function', () => {
    const path = join(REPO_ROOT, 'corpus/seed-classic/main');
    const elf = ElfFile.parse(readBytes(path));
    const main = elf.findSymbols('main')[0]!;
    const start = main.value;
    const end = main.value + main.size;
    const dump = execFileSync('objdump', ['-d', '-w', '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, `--stop-address=0x${end.toString(16)}`, path], { encoding: 'utf8' });
    const objdump = dump
      .split('\n')
      .map((line) => /^\s+([0-9a-f]+):\s+(\S+)\s*([0-9a-f]*)/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ address: BigInt('0x' + m[1]), mnemonic: m[2]!, target: m[3] && /^(j|call)/.test(m[2]!) ? BigInt('0x' + m[3]) : undefined }));
    const ours = disassemble(elf.read(start, Number(main.size)), start);
    expect(ours.map((r) => r.address)).toEqual(objdump.map((o) => o.address));
    ours.forEach((r, i) => {
      if (objdump[i]!.target !== undefined) expect(r.branchTarget).toBe(objdump[i]!.target);
    });
  });
});
