// ELF header validation: only little-endian ELF64 for x86-64 executables and shared
// objects pass; everything else is rejected with a message saying what the file is.

import { EM_X86_64, ElfType } from './constants.js';
import { ElfError, hex } from './error.js';
import type { FileBytes } from './file-bytes.js';
import type { ElfHeader } from './model.js';

const ELF_HEADER_SIZE = 64;
export const PROGRAM_HEADER_SIZE = 56;
export const SECTION_HEADER_SIZE = 64;

const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'x86 (i386)', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM', 50: 'IA-64',
  62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};

export function parseElfHeader(file: FileBytes): ElfHeader {
  const where = 'ELF header';
  if (file.size === 0) throw new ElfError('not-elf', 'the file is empty', { where, offset: 0 });
  const b = file.bytes;
  if (file.size < 4 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    throw new ElfError('not-elf', 'not an ELF file (no \\x7fELF magic at offset 0)', { where, offset: 0 });
  }
  if (file.size < ELF_HEADER_SIZE) {
    throw new ElfError('truncated', `file is ${file.size} bytes, shorter than the 64-byte ELF64 header`, {
      where,
      offset: 0,
    });
  }
  const elfClass = b[4];
  if (elfClass === 1) throw new ElfError('unsupported', '32-bit ELF (ELFCLASS32); only 64-bit x86-64 is supported', { where, offset: 4 });
  if (elfClass !== 2) throw new ElfError('malformed', `invalid ELF class ${elfClass}`, { where, offset: 4 });
  const data = b[5];
  if (data === 2) throw new ElfError('unsupported', 'big-endian ELF (ELFDATA2MSB); only little-endian x86-64 is supported', { where, offset: 5 });
  if (data !== 1) throw new ElfError('malformed', `invalid data encoding ${data}`, { where, offset: 5 });
  if (b[6] !== 1) throw new ElfError('malformed', `invalid ELF version ${b[6]} in e_ident`, { where, offset: 6 });

  const type = file.u16(16, where);
  const machine = file.u16(18, where);
  if (machine !== EM_X86_64) {
    const machineName = MACHINE_NAMES[machine] ?? `machine ${machine}`;
    throw new ElfError('unsupported', `ELF for ${machineName}; only x86-64 is supported`, { where, offset: 18 });
  }
  if (type !== ElfType.Executable && type !== ElfType.SharedObject && type !== ElfType.Relocatable) {
    const what = type === ElfType.Core ? 'a core dump' : `ELF type ${type}`;
    throw new ElfError('unsupported', `${what}; expected an executable, a shared object or an object file`, {
      where,
      offset: 16,
    });
  }
  const phoff = file.u64(32, where);
  const shoff = file.u64(40, where);
  const phentsize = file.u16(54, where);
  const phnum = file.u16(56, where);
  const shentsize = file.u16(58, where);
  const shnum = file.u16(60, where);
  const shstrndx = file.u16(62, where);

  if (phnum > 0 && phentsize !== 56) {
    throw new ElfError('malformed', `program header entry size is ${phentsize}, expected 56`, { where, offset: 54 });
  }
  if (shnum > 0 && shentsize !== 64) {
    throw new ElfError('malformed', `section header entry size is ${shentsize}, expected 64`, { where, offset: 58 });
  }
  if (phnum === 0xffff) {
    throw new ElfError('unsupported', 'extended program header count (PN_XNUM) is not supported', { where, offset: 56 });
  }
  if (shnum === 0 && shoff !== 0n) {
    // shnum 0 with a table offset means the real count is in section header 0 (> 0xff00 sections).
    throw new ElfError('unsupported', 'extended section count (e_shnum = 0 with e_shoff set) is not supported', {
      where,
      offset: 60,
    });
  }
  const programHeaderOffset = phnum > 0 ? file.range(phoff, BigInt(phnum) * 56n, `program header table (${phnum} entries at ${hex(phoff)})`) : 0;
  const sectionHeaderOffset = shnum > 0 ? file.range(shoff, BigInt(shnum) * 64n, `section header table (${shnum} entries at ${hex(shoff)})`) : 0;
  if (shnum > 0 && shstrndx >= shnum && shstrndx !== 0xffff) {
    throw new ElfError('malformed', `section name table index ${shstrndx} is not below the section count ${shnum}`, {
      where,
      offset: 62,
    });
  }
  if (shstrndx === 0xffff) {
    throw new ElfError('unsupported', 'extended section name table index (SHN_XINDEX) is not supported', { where, offset: 62 });
  }

  return {
    type,
    machine,
    osAbi: b[7] ?? 0,
    entry: file.u64(24, where),
    programHeaderOffset,
    programHeaderEntrySize: phentsize,
    programHeaderCount: phnum,
    sectionHeaderOffset,
    sectionHeaderEntrySize: shentsize,
    sectionHeaderCount: shnum,
    sectionNameTableIndex: shstrndx,
    flags: file.u32(48, where),
  };
}
