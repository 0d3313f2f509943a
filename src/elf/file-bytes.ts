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
export class StringTable {
  private readonly bytes: Uint8Array;
  private readonly where: string;
  private readonly fileOffset: number;
  /**
   * The whole table as one string (one decoder call), of which a name is a substring: cheaper
   * than decoding thousands of names one by one. Bytes >= 0x80 decode per name, as UTF-8.
   */
  private text: string | undefined;
  private hasNonAscii = false;
  private static readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private static readonly latin1 = new TextDecoder('latin1');

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

  /**
   * The string at `index`; `user` (and `entry`, an entry number after it) names who asked, for
   * the error message, built only when there is one.
   */
  get(index: number, user: string, entry?: number): string {
    if (this.text === undefined) {
      this.text = StringTable.latin1.decode(this.bytes);
      this.hasNonAscii = /[^\x00-\x7f]/.test(this.text);
    }
    const who = (): string => (entry === undefined ? user : `${user} symbol ${entry}`);
    if (index >= this.bytes.byteLength) {
      throw new ElfError(
        'malformed',
        `name offset ${hex(index)} is outside ${this.where} (${hex(this.bytes.byteLength)} bytes)`,
        { where: who(), offset: this.fileOffset },
      );
    }
    const end = this.text.indexOf('\0', index);
    if (end < 0) {
      throw new ElfError('malformed', `name at offset ${hex(index)} of ${this.where} is not NUL-terminated`, {
        where: who(),
        offset: this.fileOffset + index,
      });
    }
    const name = this.text.slice(index, end);
    return this.hasNonAscii && /[^\x00-\x7f]/.test(name) ? StringTable.decode(this.bytes.subarray(index, end)) : name;
  }
}
