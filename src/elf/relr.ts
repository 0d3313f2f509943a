// SHT_RELR / DT_RELR packed relative relocations (ld -z pack-relative-relocs): a list of
// addresses whose 64-bit word gets the load base added (the addend is the word in place).

import { ElfError, hex } from './error.js';
import type { FileBytes } from './file-bytes.js';

/** Decodes a RELR table into the addresses it relocates. */
export function parseRelrTable(file: FileBytes, offset: number, size: number, where: string): bigint[] {
  if (size % 8 !== 0) throw new ElfError('malformed', `size ${hex(size)} is not a multiple of 8`, { where, offset });
  file.range(offset, size, where);
  const addresses: bigint[] = [];
  let base: bigint | undefined;
  for (let at = offset; at < offset + size; at += 8) {
    const entry = file.u64(at, where);
    if ((entry & 1n) === 0n) {
      // An address entry: relocate it, and bitmaps that follow start after it.
      addresses.push(entry);
      base = entry + 8n;
      continue;
    }
    if (base === undefined) throw new ElfError('malformed', `bitmap entry at ${hex(at)} comes before any address entry`, { where, offset: at });
    // A bitmap: bit i (1..63) relocates base + (i-1)*8; the next bitmap continues 63 words on.
    // Bits tested on the two 32-bit halves as numbers (BigInt shifts per bit were most of a libc parse).
    const low = Number(entry & 0xffffffffn);
    const high = Number(entry >> 32n);
    for (let bit = 1; bit < 64; bit++) {
      const set = bit < 32 ? (low >>> bit) & 1 : (high >>> (bit - 32)) & 1;
      if (set) addresses.push(base + BigInt((bit - 1) * 8));
    }
    base += 63n * 8n;
  }
  return addresses;
}
