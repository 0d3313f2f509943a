// Bounds-checked little-endian reads over the file image. Every read names the structure
// it belongs to, so an out-of-range offset becomes an ElfError that says where.

import { ElfError, hex } from './error.js';

export class FileBytes {
  readonly bytes: Uint8Array;
  readonly size: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.size = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Checks that [offset, offset+length) lies inside the file and returns the offset as a
   * number. Takes bigints because ELF offsets and sizes are 64-bit fields.
   */
  range(offset: bigint | number, length: bigint | number, where: string): number {
    // The common case without BigInt arithmetic (three allocations per field read made parsing
    // libc.so.6 cost tens of milliseconds of a cold start); anything else takes the exact path.
    if (typeof offset === 'number' && typeof length === 'number' && offset >= 0 && length >= 0 && offset <= this.size && length <= this.size - offset) {
      return offset;
    }
    const start = BigInt(offset);
    const len = BigInt(length);
    const fileSize = BigInt(this.size);
    if (len < 0n || start < 0n) {
      throw new ElfError('malformed', `negative offset or size (${hex(start)} + ${hex(len)})`, { where });
    }
    if (start > fileSize || len > fileSize - start) {
      throw new ElfError(
        'truncated',
        `${hex(start)} + ${hex(len)} bytes extend past end of file (${hex(fileSize)} bytes)`,
        { where, offset: start <= fileSize ? Number(start) : undefined },
      );
    }
    return Number(start);
  }

  u8(offset: number, where: string): number {
    this.range(offset, 1, where);
    return this.view.getUint8(offset);
  }

  u16(offset: number, where: string): number {
    this.range(offset, 2, where);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, where: string): number {
    this.range(offset, 4, where);
    return this.view.getUint32(offset, true);
  }

  i32(offset: number, where: string): number {
    this.range(offset, 4, where);
    return this.view.getInt32(offset, true);
  }

  u64(offset: number, where: string): bigint {
    this.range(offset, 8, where);
    return this.view.getBigUint64(offset, true);
  }

  i64(offset: number, where: string): bigint {
    this.range(offset, 8, where);
    return this.view.getBigInt64(offset, true);
  }

  /** A copy-free view of [offset, offset+length). */
  slice(offset: bigint | number, length: bigint | number, where: string): Uint8Array {
    const start = this.range(offset, length, where);
    return this.bytes.subarray(start, start + Number(length));
  }
}

/** A NUL-terminated string table (.strtab, .dynstr, .shstrtab) with bounds-checked look-ups. */
/**
 * bytes[start, end) as text: symbol names are nearly always ASCII, built here without a
 * TextDecoder call each (thousands per libc, a tenth of a cold start's ELF parsing).
 */
function asciiOrDecode(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return StringTable.decode(bytes.subarray(start, end));
  let text = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return StringTable.decode(bytes.subarray(start, end));
    text += String.fromCharCode(c);
  }
  return text;
}

export class StringTable {
  private readonly bytes: Uint8Array;
  private readonly where: string;
  private readonly fileOffset: number;
  private readonly cache = new Map<number, string>();
  private static readonly decoder = new TextDecoder('utf-8', { fatal: false });

  static decode(bytes: Uint8Array): string {
    return StringTable.decoder.decode(bytes);
  }

  constructor(bytes: Uint8Array, where: string, fileOffset: number) {
    this.bytes = bytes;
    this.where = where;
    this.fileOffset = fileOffset;
  }

  get size(): number {
    return this.bytes.byteLength;
  }

  /** The string at `index`; `user` names who asked, for the error message. */
  get(index: number, user: string): string {
    const cached = this.cache.get(index);
    if (cached !== undefined) return cached;
    if (index >= this.bytes.byteLength) {
      throw new ElfError(
        'malformed',
        `name offset ${hex(index)} is outside ${this.where} (${hex(this.bytes.byteLength)} bytes)`,
        { where: user, offset: this.fileOffset },
      );
    }
    const end = this.bytes.indexOf(0, index);
    if (end < 0) {
      throw new ElfError('malformed', `name at offset ${hex(index)} of ${this.where} is not NUL-terminated`, {
        where: user,
        offset: this.fileOffset + index,
      });
    }
    const text = asciiOrDecode(this.bytes, index, end);
    this.cache.set(index, text);
    return text;
  }
}
