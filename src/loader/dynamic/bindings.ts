// What every relocation bound to, recorded as data for the verifier
// ("patch.so's reference to X bound to patch.so's own copy, not the executable's").

export interface BoundDefinition {
  /** Path of the defining object ("main", "./patch.so", "libc.so.6" for the sandbox's libc image). */
  object: string;
  address: bigint;
  symbol: string;
}

export interface RelocationBinding {
  /** Path of the object whose relocation this is. */
  object: string;
  /** Run-time address patched by the relocation (base + r_offset). */
  offset: bigint;
  type: number;
  typeName: string;
  /** The referenced symbol's name (absent for RELATIVE/IRELATIVE and symbol index 0). */
  symbol?: string;
  /** The version the reference asked for (printf@GLIBC_2.2.5 -> "GLIBC_2.2.5"). */
  version?: string;
  /** The definition used; absent when a weak reference stayed undefined (value 0). */
  boundTo?: BoundDefinition;
  /** The value written. */
  value: bigint;
  /** Bound to the sandbox's trap for an import it has no stub for. */
  unstubbedImport?: boolean;
}
