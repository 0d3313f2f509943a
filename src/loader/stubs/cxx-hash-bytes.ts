// std::_Hash_bytes(ptr, len, seed): libstdc++'s 64-bit string hash (a MurmurHash2
// variant; std::hash<std::string> calls it with seed 0xc70f6907). The exact function
// matters: bucket indices, and so unordered_map iteration order, derive from it.

import { ret, type StubCall, type StubDefinition } from './stub.js';

const MASK = (1n << 64n) - 1n;
const MUL = (0xc6a4a793n << 32n) + 0x5bd1e995n;

const shiftMix = (v: bigint): bigint => v ^ (v >> 47n);
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;

/** Little-endian value of `bytes[from, from + n)`. */
function loadLittleEndian(bytes: Uint8Array, from: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[from + i]!);
  return v;
}

export function hashBytes(bytes: Uint8Array, seed: bigint): bigint {
  const len = bytes.length;
  const whole = len & ~7;
  let hash = (seed ^ mul(BigInt(len), MUL)) & MASK;
  for (let p = 0; p < whole; p += 8) {
    hash ^= mul(shiftMix(mul(loadLittleEndian(bytes, p, 8), MUL)), MUL);
    hash = mul(hash, MUL);
  }
  if ((len & 7) !== 0) {
    hash ^= loadLittleEndian(bytes, whole, len & 7);
    hash = mul(hash, MUL);
  }
  return shiftMix(mul(shiftMix(hash), MUL));
}

export const CXX_HASH_BYTES_STUBS: StubDefinition[] = [
  {
    name: '_ZSt11_Hash_bytesPKvmm',
    area: 'cxx',
    summary: 'std::_Hash_bytes(ptr, len, seed): libstdc++\'s exact 64-bit hash',
    run: (c: StubCall) => ret(hashBytes(c.libc.read(c.arg(0), Number(c.arg(1))), c.arg(2))),
  },
];
