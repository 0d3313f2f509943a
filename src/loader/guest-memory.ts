// Typed little-endian access to guest memory through the Engine's host accessors
// (which ignore page permissions, as the kernel's copy_to_user does for our stubs).

import type { Engine } from '../engine/engine.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

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
    const b = this.read(address, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  i32(address: bigint): number {
    const b = this.read(address, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }

  u64(address: bigint): bigint {
    const b = this.read(address, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
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
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.write(address, b);
  }

  writeU64(address: bigint, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(address, b);
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
