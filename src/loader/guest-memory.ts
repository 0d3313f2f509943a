// Typed little-endian access to guest memory through the Engine's host accessors
// (which ignore page permissions, as the kernel's copy_to_user does for our stubs).

import type { Engine } from '../engine/engine.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** The little-endian u32 in the first 4 bytes. */
export function le32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

/** The little-endian u64 in the first 8 bytes. */
export function le64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

export function bytesOfU32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}

export function bytesOfU64(value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return b;
}

export class GuestMemory {
  constructor(private readonly engine: Engine) {}

  read(address: bigint, size: number): Uint8Array {
    return size === 0 ? new Uint8Array(0) : this.engine.readMemory(address, size);
  }

  write(address: bigint, data: Uint8Array): void {
    if (data.length > 0) this.engine.writeMemory(address, data);
  }

  u8(address: bigint): number {
    return this.read(address, 1)[0]!;
  }

  u32(address: bigint): number {
    return le32(this.read(address, 4));
  }

  i32(address: bigint): number {
    const b = this.read(address, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }

  u64(address: bigint): bigint {
    return le64(this.read(address, 8));
  }

  writeU8(address: bigint, value: number): void {
    this.write(address, Uint8Array.of(value & 0xff));
  }

  writeU16(address: bigint, value: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, value, true);
    this.write(address, b);
  }

  writeU32(address: bigint, value: number): void {
    this.write(address, bytesOfU32(value));
  }

  writeU64(address: bigint, value: bigint): void {
    this.write(address, bytesOfU64(value));
  }

  /** Bytes of a NUL-terminated string (without the NUL), read in chunks that stay inside a page. */
  cstringBytes(address: bigint, limit = 1 << 20): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    let at = address;
    while (total < limit) {
      const toPageEnd = Number(0x1000n - (at & 0xfffn));
      const chunk = this.read(at, toPageEnd);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        total += nul;
        break;
      }
      parts.push(chunk);
      total += chunk.length;
      at += BigInt(toPageEnd);
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p.subarray(0, Math.min(p.length, total - o)), o);
      o += p.length;
    }
    return out;
  }

  cstring(address: bigint): string {
    return utf8.decode(this.cstringBytes(address));
  }

  writeCString(address: bigint, text: string | Uint8Array): number {
    const bytes = typeof text === 'string' ? utf8Encoder.encode(text) : text;
    const withNul = new Uint8Array(bytes.length + 1);
    withNul.set(bytes);
    this.write(address, withNul);
    return withNul.length;
  }
}

export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
