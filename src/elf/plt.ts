// PLT stubs: which function each .plt/.plt.sec/.plt.got entry jumps to. A stub is found by
// its `jmp [rip+disp32]` (ff 25, optionally bnd-prefixed) whose GOT slot carries a
// JUMP_SLOT/GLOB_DAT relocation, so lazy, BIND_NOW and IBT layouts are handled alike.

import type { FileBytes } from './file-bytes.js';
import type { ElfSymbol, Relocation, Section } from './model.js';

export interface PltStub {
  /** Start of the stub (objdump's `name@plt`). */
  address: bigint;
  /** The GOT slot it jumps through. */
  gotSlot: bigint;
  relocation: Relocation;
  /** The function it reaches; absent for IRELATIVE slots. */
  symbol?: ElfSymbol;
  section: string;
}

const PLT_SECTIONS = new Set(['.plt', '.plt.sec', '.plt.got']);

export function findPltStubs(file: FileBytes, sections: readonly Section[], relocations: readonly Relocation[]): PltStub[] {
  const bySlot = new Map<bigint, Relocation>();
  for (const r of relocations) bySlot.set(r.offset, r);
  const stubs: PltStub[] = [];
  for (const section of sections) {
    if (!PLT_SECTIONS.has(section.name) || section.size === 0n) continue;
    const bytes = file.slice(section.offset, section.size, section.name);
    const entrySize = section.entrySize > 0n && section.entrySize <= 64n ? Number(section.entrySize) : 16;
    const claimed = new Set<number>();
    for (let at = 0; at + 6 <= bytes.length; at++) {
      if (bytes[at] !== 0xff || bytes[at + 1] !== 0x25) continue;
      const displacement = (bytes[at + 2]! | (bytes[at + 3]! << 8) | (bytes[at + 4]! << 16) | (bytes[at + 5]! << 24)) | 0;
      const gotSlot = BigInt.asUintN(64, section.address + BigInt(at + 6 + displacement));
      const relocation = bySlot.get(gotSlot);
      const entry = at - (at % entrySize);
      if (!relocation || claimed.has(entry)) continue;
      claimed.add(entry);
      const stub: PltStub = { address: section.address + BigInt(entry), gotSlot, relocation, section: section.name };
      if (relocation.symbol) stub.symbol = relocation.symbol;
      stubs.push(stub);
    }
  }
  return stubs.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
