// The analysis layer's own view of an executable: sections with bytes, and function symbols.
// Kept this small on purpose so src/analysis does not depend on the ELF reader's model
// (from-elf.ts adapts it) and so tests can build images from hand-written bytes.

export interface CodeImageSection {
  name: string;
  /** Virtual address where the section is loaded (ELF sh_addr; for a PIE, relative to base 0). */
  address: bigint;
  bytes: Uint8Array;
  /** SHF_EXECINSTR: decoded as code. Other sections (.rodata) are read for jump tables. */
  executable: boolean;
}

export interface CodeImageFunction {
  name: string;
  address: bigint;
  /** st_size; 0 when the symbol does not say (hand-written assembly). */
  size: number;
}

export interface CodeImage {
  sections: CodeImageSection[];
  functions: CodeImageFunction[];
}
