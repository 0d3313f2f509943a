// A minimal WebAssembly binary writer for the block compiler (wasm-jit.ts): LEB128 numbers, the
// opcodes it emits, and one module layout: memory and helper functions imported from "core",
// one exported function `b<i>: (left: i32, entry: i32) -> retired: i32` per compiled region.

export const I32 = 0x7f, I64 = 0x7e, EMPTY = 0x40;

/** The opcodes the compiler emits (WebAssembly 1.0 plus sign extension). */
export const W = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i64Load8S: 0x30, i64Load8U: 0x31, i64Load16S: 0x32, i64Load16U: 0x33, i64Load32S: 0x34, i64Load32U: 0x35,
  i32Store: 0x36, i64Store: 0x37, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32GtU: 0x4b,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64LeS: 0x57, i64LeU: 0x58,
  i32Add: 0x6a, i32And: 0x71, i32Or: 0x72, i32Shl: 0x74,
  i64Popcnt: 0x7b, i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  i64Extend8S: 0xc2, i64Extend16S: 0xc3, i64Extend32S: 0xc4,
} as const;

export class Bytes {
  readonly out: number[] = [];
  byte(...b: number[]): this {
    for (const x of b) this.out.push(x);
    return this;
  }
  /** Appends an array of any length (no spread: a region's code can exceed the argument limit). */
  append(b: readonly number[]): this {
    for (let i = 0; i < b.length; i++) this.out.push(b[i]!);
    return this;
  }
  u32(v: number): this {
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.out.push(b);
    } while (v !== 0);
    return this;
  }
  s64(v: bigint): this {
    v = BigInt.asIntN(64, v);
    if (v >= -0x8000000000000n && v < 0x8000000000000n) return this.s53(Number(v));
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.out.push(b);
        return this;
      }
      this.out.push(b | 0x80);
    }
  }
  s32(v: number): this {
    return this.s53(v | 0);
  }
  /** Signed LEB128 of a safe integer, without BigInt arithmetic. */
  private s53(v: number): this {
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.out.push(b);
        return this;
      }
      this.out.push(b | 0x80);
    }
  }
  name(s: string): this {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.out.push(s.charCodeAt(i));
    return this;
  }
  vec(items: number[][]): this {
    this.u32(items.length);
    for (const it of items) for (const b of it) this.out.push(b);
    return this;
  }
  section(id: number, body: Bytes): this {
    this.out.push(id);
    this.u32(body.out.length);
    for (const b of body.out) this.out.push(b);
    return this;
  }
}

export interface ImportedFunction {
  name: string;
  params: number[];
  results: number[];
}

/** One module: `memory` and `helpers` imported from "core" (function indices 0..), the bodies exported as b0, b1, ... */
export function encodeModule(helpers: readonly ImportedFunction[], bodies: number[][]): Uint8Array<ArrayBuffer> {
  const m = new Bytes().byte(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  const types = helpers.map((h) => [0x60, h.params.length, ...h.params, h.results.length, ...h.results]);
  types.push([0x60, 2, I32, I32, 1, I32]); // a region: (window left, entry block) -> retired
  const blockType = types.length - 1;
  m.section(1, new Bytes().vec(types));
  const imports = new Bytes().u32(helpers.length + 1);
  imports.name('core').name('memory').byte(0x02, 0x00).u32(0);
  helpers.forEach((h, i) => imports.name('core').name(h.name).byte(0x00).u32(i));
  m.section(2, imports);
  m.section(3, new Bytes().vec(bodies.map(() => new Bytes().u32(blockType).out)));
  const exports = new Bytes().u32(bodies.length);
  bodies.forEach((_, i) => exports.name(`b${i}`).byte(0x00).u32(helpers.length + i));
  m.section(7, exports);
  const code = new Bytes().u32(bodies.length);
  for (const b of bodies) code.u32(b.length).append(b);
  m.section(10, code);
  return new Uint8Array(m.out);
}
