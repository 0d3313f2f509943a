// Adapts the ELF reader's model to the analysis layer's CodeImage: allocated sections with
// file bytes (code to decode, .rodata for jump tables) and defined function symbols from
// .symtab and .dynsym (a stripped executable still has its exported ones).

import { SectionType, SHN_ABS, SHN_LORESERVE, SHN_UNDEF, SymbolType, type ElfFile } from '../elf/index.js';
import type { CodeImage, CodeImageFunction, CodeImageSection } from './code-image.js';

const SHF_ALLOC = 0x2n;
const SHF_EXECINSTR = 0x4n;

export function codeImageFromElf(elf: ElfFile): CodeImage {
  const sections: CodeImageSection[] = [];
  for (const s of elf.sections) {
    if ((s.flags & SHF_ALLOC) === 0n || s.type === SectionType.Nobits || s.address === 0n || s.size === 0n) continue;
    sections.push({
      name: s.name,
      address: s.address,
      bytes: elf.bytes.subarray(s.offset, s.offset + Number(s.size)),
      executable: (s.flags & SHF_EXECINSTR) !== 0n,
    });
  }
  const functions: CodeImageFunction[] = [];
  for (const symbol of [...elf.symbols, ...elf.dynamicSymbols]) {
    if (symbol.type !== SymbolType.Func && symbol.type !== SymbolType.GnuIfunc) continue;
    if (symbol.sectionIndex === SHN_UNDEF || symbol.sectionIndex === SHN_ABS || symbol.sectionIndex >= SHN_LORESERVE) continue;
    if (symbol.value === 0n) continue;
    functions.push({ name: symbol.name, address: symbol.value, size: Number(symbol.size) });
  }
  return { sections, functions };
}
