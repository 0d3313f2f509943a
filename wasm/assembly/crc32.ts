// crc32 (SSE4.2, F2 0F 38 F0/F1): CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of 1, 2, 4
// or 8 source bytes accumulated into the low 32 bits of the destination.

import { Insn } from './insn';
import { Cpu } from './state';
import { readE, readG, writeG } from './operands';

export function crc32(e: Insn): void {
  const bytes: u32 = e.opcode == 0xf0 ? 1 : <u32>e.size;
  const v = readE(e, bytes);
  if (Cpu.exit) return;
  let c = <u32>readG(e, 4);
  for (let i: u32 = 0; i < bytes; i++) {
    c ^= <u32>(v >> (<u64>(i << 3))) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
  }
  writeG(e, 4, c);
}
