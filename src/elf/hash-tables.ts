// The dynamic symbol hash tables (DT_GNU_HASH, DT_HASH). ld.so finds exported symbols
// through them, not by scanning .dynsym; they also give the .dynsym count when section
// headers are stripped.

import { ElfError } from './error.js';
import type { FileBytes } from './file-bytes.js';

export interface SymbolHashTable {
  kind: 'gnu' | 'sysv';
  /** Number of .dynsym entries the table implies. */
  symbolCount: number;
  /** Indices of .dynsym entries whose hash matches `name`, in chain order (names still to compare). */
  candidates(name: string): number[];
}

const encoder = new TextEncoder();

export function gnuHash(name: string): number {
  let h = 5381;
  for (const byte of encoder.encode(name)) h = (Math.imul(h, 33) + byte) >>> 0;
  return h;
}

export function sysvHash(name: string): number {
  let h = 0;
  for (const byte of encoder.encode(name)) {
    h = ((h << 4) + byte) >>> 0;
    const g = h & 0xf000_0000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

export function parseGnuHashTable(file: FileBytes, offset: number, where: string): SymbolHashTable {
  const bucketCount = file.u32(offset, where);
  const symbolOffset = file.u32(offset + 4, where);
  const bloomSize = file.u32(offset + 8, where);
  const bloomShift = file.u32(offset + 12, where);
  if (bucketCount === 0) throw new ElfError('malformed', 'GNU hash table has 0 buckets', { where, offset });
  if (bloomSize === 0 || (bloomSize & (bloomSize - 1)) !== 0) {
    throw new ElfError('malformed', `GNU hash bloom filter size ${bloomSize} is not a power of two`, { where, offset: offset + 8 });
  }
  const bloomAt = offset + 16;
  const bucketsAt = file.range(bloomAt + bloomSize * 8, bucketCount * 4, `${where}: ${bucketCount} buckets`) ;
  file.range(bloomAt, bloomSize * 8, `${where}: bloom filter of ${bloomSize} words`);
  const chainsAt = bucketsAt + bucketCount * 4;
  const chainWhere = `${where}: hash chain`;

  let maxBucket = 0;
  for (let b = 0; b < bucketCount; b++) {
    const start = file.u32(bucketsAt + b * 4, where);
    if (start !== 0 && start < symbolOffset) {
      throw new ElfError('malformed', `bucket ${b} starts at symbol ${start}, below the first hashed symbol ${symbolOffset}`, {
        where,
        offset: bucketsAt + b * 4,
      });
    }
    if (start > maxBucket) maxBucket = start;
  }
  let symbolCount = symbolOffset;
  if (maxBucket !== 0) {
    // The last chain ends at the entry with the low bit set; the chain array has no length field.
    let index = maxBucket;
    while ((file.u32(chainsAt + (index - symbolOffset) * 4, chainWhere) & 1) === 0) index++;
    symbolCount = index + 1;
  }
  return {
    kind: 'gnu',
    symbolCount,
    candidates(name: string): number[] {
      const h = gnuHash(name);
      const word = file.u64(bloomAt + ((Math.floor(h / 64) % bloomSize) * 8), where);
      const mask = (1n << BigInt(h % 64)) | (1n << BigInt((h >>> bloomShift) % 64));
      if ((word & mask) !== mask) return [];
      let index = file.u32(bucketsAt + (h % bucketCount) * 4, where);
      if (index === 0) return [];
      const found: number[] = [];
      for (; index < symbolCount; index++) {
        const chainHash = file.u32(chainsAt + (index - symbolOffset) * 4, chainWhere);
        if ((chainHash | 1) === (h | 1)) found.push(index);
        if (chainHash & 1) break;
      }
      return found;
    },
  };
}

export function parseSysvHashTable(file: FileBytes, offset: number, where: string): SymbolHashTable {
  const bucketCount = file.u32(offset, where);
  const chainCount = file.u32(offset + 4, where);
  if (bucketCount === 0) throw new ElfError('malformed', 'hash table has 0 buckets', { where, offset });
  const bucketsAt = file.range(offset + 8, (bucketCount + chainCount) * 4, `${where}: ${bucketCount} buckets + ${chainCount} chains`);
  const chainsAt = bucketsAt + bucketCount * 4;
  return {
    kind: 'sysv',
    symbolCount: chainCount,
    candidates(name: string): number[] {
      const found: number[] = [];
      let index = file.u32(bucketsAt + (sysvHash(name) % bucketCount) * 4, where);
      // A cycle in a corrupt chain would loop forever; a chain can visit each entry once.
      for (let steps = 0; index !== 0; steps++) {
        if (index >= chainCount || steps > chainCount) {
          throw new ElfError('malformed', `hash chain reaches symbol ${index} (${chainCount} chains)`, { where, offset: chainsAt });
        }
        found.push(index);
        index = file.u32(chainsAt + index * 4, where);
      }
      return found;
    },
  };
}

