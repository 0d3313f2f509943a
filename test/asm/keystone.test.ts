import { beforeAll, describe, expect, it } from 'vitest';
import { Assembler } from '../../src/asm/keystone.js';
import { AsmError } from '../../src/asm/error.js';

let assembler: Assembler;
beforeAll(async () => {
  assembler = await Assembler.load();
});

describe('Assembler (Keystone, Intel syntax)', () => {
  it('assembles_movabs_jmp_rax', () => {
    // movabs rax, 0x1122334455667788; jmp rax
    expect([...assembler.assemble('movabs rax, 0x1122334455667788; jmp rax', 0x401000n)]).toEqual([
      0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff, 0xe0,
    ]);
  });

  it('encodes_relative_branches_for_the_given_address', () => {
    // jmp 0x401100 at 0x401000 -> e9 fb 00 00 00 (0x401100 - 0x401005)
    expect([...assembler.assemble('jmp 0x401100', 0x401000n)]).toEqual([0xe9, 0xfb, 0x00, 0x00, 0x00]);
    // the same text at another address encodes another displacement
    expect([...assembler.assemble('jmp 0x401100', 0x400000n)]).toEqual([0xe9, 0xfb, 0x10, 0x00, 0x00]);
  });

  it('rejects_an_unknown_mnemonic_with_keystones_message', () => {
    let caught: unknown;
    try {
      assembler.assemble('movx rax, 1', 0x1000n);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AsmError);
    const error = caught as AsmError;
    expect(error.problem).toBe('assembly');
    expect(error.keystoneMessage).toMatch(/KS_ERR_ASM_MNEMONICFAIL/);
    expect(error.keystoneErrno).toBe(514);
    expect(error.message).toContain('movx rax, 1');
    expect(error.address).toBe(0x1000n);
  });

  it('reads_plain_numbers_as_decimal', () => {
    // mov eax, 10 -> b8 0a 00 00 00 (Keystone's radix-16 mode must stay off)
    expect([...assembler.assemble('mov eax, 10', 0n)]).toEqual([0xb8, 0x0a, 0, 0, 0]);
  });

  it('reuses_one_module_across_loads', async () => {
    const second = await Assembler.load();
    // nop
    expect([...second.assemble('nop', 0n)]).toEqual([0x90]);
  });
});
