// x86-64 decoder: legacy prefixes, REX, opcode maps (one-byte, 0F, 0F38, 0F3A), ModRM/SIB,
// displacements, immediates, RIP-relative operands. The opcode table (ops.ts) supplies the
// handler and operand form; this file only turns bytes into an Insn. Never traps: bad or
// unsupported encodings become Op.Invalid with their length when it is known.

import { x87Known } from './x87';
import { Insn, I_MEM, I_REX, I_REP, I_REPNE, I_LOCK, I_OPSZ, I_ADDR32, I_REXW, NO_REG } from './insn';
import {
  Op, M, IMM_MASK, IB, IW, IZ, IV, IENTER, REL8, REL32, MOFFS, BYTE, D64, SSE, MEMONLY, REGONLY,
  EXT_OP, EXT_CC, PLUS_R, KNOWN, BAD_REG_SHIFT, formOf, opOf,
} from './ops';

/** The instruction bytes being decoded (up to 15, copied from guest memory or the host). */
export const DECODE_BUF: usize = memory.data(32, 16);

let pos: u32 = 0;
let avail: u32 = 0;
let truncated: bool = false;

@inline function next8(): u64 {
  if (pos >= avail) {
    truncated = true;
    return 0;
  }
  return <u64>load<u8>(DECODE_BUF + <usize>(pos++));
}
function next16(): u64 {
  const lo = next8();
  return lo | (next8() << 8);
}
function next32(): u64 {
  const lo = next16();
  return lo | (next16() << 16);
}
function next64(): u64 {
  const lo = next32();
  return lo | (next32() << 32);
}
@inline function sx8(v: u64): u64 {
  return <u64>(<i64>(<i8>v));
}
@inline function sx16(v: u64): u64 {
  return <u64>(<i64>(<i16>v));
}
@inline function sx32(v: u64): u64 {
  return <u64>(<i64>(<i32>v));
}

export const DECODE_OK: u32 = 0, DECODE_TRUNCATED: u32 = 1;

/** Whether `lock` is allowed on this instruction (memory destination of a read-modify-write). */
function lockable(op: u32, ext: u32, mem: bool): bool {
  if (!mem) return false;
  switch (op) {
    case Op.AluEG: case Op.AluEI: return ext != 7;
    case Op.XchgEG: case Op.Cmpxchg: case Op.Xadd: case Op.Cmpxchg8b: return true;
    case Op.Grp3: return ext == 2 || ext == 3;
    case Op.Grp4: case Op.Grp5: return ext <= 1;
    case Op.BtEG: case Op.BtEI: return ext != 0;
    default: return false;
  }
}

/**
 * Decodes the `bytes` available in DECODE_BUF as the instruction at `rip` into `e`.
 * Returns DECODE_TRUNCATED when the instruction needs more bytes than available.
 */
export function decode(rip: u64, e: Insn, bytes: u32): u32 {
  pos = 0;
  avail = bytes;
  truncated = false;
  let flags: u32 = 0, seg: u32 = 0, rex: u32 = 0;
  let b = <u32>next8();
  for (let n = 0; n < 15; n++) {
    if (b == 0x66) flags |= I_OPSZ;
    else if (b == 0x67) flags |= I_ADDR32;
    else if (b == 0xf3) flags = (flags & ~(<u32>I_REPNE)) | I_REP;
    else if (b == 0xf2) flags = (flags & ~(<u32>I_REP)) | I_REPNE;
    else if (b == 0xf0) flags |= I_LOCK;
    else if (b == 0x64) seg = 4;
    else if (b == 0x65) seg = 5;
    else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e) { /* null segments in 64-bit mode */ }
    else if ((b & 0xf0) == 0x40) {
      rex = b;
      b = <u32>next8();
      continue;
    } else break;
    rex = 0; // a REX prefix is only honoured immediately before the opcode
    b = <u32>next8();
  }
  if (rex) flags |= I_REX;
  if (rex & 8) flags |= I_REXW;
  let map: u32 = 0;
  if (b == 0x0f) {
    map = 1;
    b = <u32>next8();
    if (b == 0x38) {
      map = 2;
      b = <u32>next8();
    } else if (b == 0x3a) {
      map = 3;
      b = <u32>next8();
    }
  }
  const opcode = b;
  const form = formOf(map, opcode);
  let variant: u32 = 0;
  if (form & SSE) {
    if (flags & I_REP) variant = 2;
    else if (flags & I_REPNE) variant = 3;
    else if (flags & I_OPSZ) variant = 1;
  }
  let op = opOf(map, opcode, variant);
  let size: u32;
  if (form & BYTE) size = 1;
  else if (rex & 8) size = 8;
  else if (form & SSE) size = (op == Op.Popcnt || op == Op.Crc32) && (flags & I_OPSZ) ? 2 : 4;
  else if (flags & I_OPSZ) size = 2;
  else if (form & D64) size = 8;
  else size = 4;

  let mod: u32 = 3, reg: u32 = 0, rm: u32 = 0, base: u32 = NO_REG, index: u32 = NO_REG, scale: u32 = 0;
  let disp: u64 = 0, ripRelative = false;
  if (form & M) {
    const m = <u32>next8();
    mod = m >> 6;
    reg = ((m >> 3) & 7) | ((rex & 4) << 1);
    const low = m & 7;
    if (mod == 3) {
      rm = low | ((rex & 1) << 3);
    } else {
      flags |= I_MEM;
      if (low == 4) {
        const sib = <u32>next8();
        scale = sib >> 6;
        const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
        if (idx != 4) index = idx;
        if ((sib & 7) == 5 && mod == 0) disp = sx32(next32());
        else base = (sib & 7) | ((rex & 1) << 3);
      } else if (low == 5 && mod == 0) {
        ripRelative = true;
        disp = sx32(next32());
      } else {
        base = low | ((rex & 1) << 3);
      }
      if (mod == 1) disp = sx8(next8());
      else if (mod == 2) disp = sx32(next32());
    }
  }
  if (form & PLUS_R) rm = (opcode & 7) | ((rex & 1) << 3);

  let imm: u64 = 0, imm2: u64 = 0;
  let kind = form & IMM_MASK;
  // test Eb,Ib / Ev,Iz hide in group 3 (/0 and /1); the other members take no immediate.
  if (op == Op.Grp3 && (reg & 7) <= 1) kind = size == 1 ? IB : IZ;
  if (kind == IB) imm = sx8(next8());
  else if (kind == IW) imm = next16();
  else if (kind == IZ) imm = size == 2 ? sx16(next16()) : sx32(next32());
  else if (kind == IV) imm = size == 8 ? next64() : size == 2 ? next16() : next32();
  else if (kind == IENTER) {
    imm = next16();
    imm2 = next8();
  } else if (kind == REL8) imm = sx8(next8());
  else if (kind == REL32) imm = sx32(next32());
  else if (kind == MOFFS) {
    disp = (flags & I_ADDR32) ? next32() : next64();
    flags |= I_MEM;
  }

  const len = pos;
  e.rip = rip;
  e.len = <u8>len;
  if (truncated) {
    e.op = <u16>Op.Invalid;
    return avail < 15 ? DECODE_TRUNCATED : DECODE_OK;
  }
  if (ripRelative) disp += rip + <u64>len;
  if (kind == REL8 || kind == REL32) imm += rip + <u64>len;

  let ext: u32 = reg & 7;
  if (form & EXT_OP) ext = (opcode >> 3) & 7;
  else if (form & EXT_CC) ext = opcode & 15;
  else if (op == Op.BtEG) ext = (opcode >> 3) & 3;
  else if (op == Op.BtEI) ext = (reg & 7) - 4;

  // Encodings whose meaning depends on mod, /reg or a prefix beyond what the table expresses.
  if (map == 0 && opcode == 0x90 && (rex & 1) == 0) op = (flags & I_REP) ? Op.Pause : Op.Nop;
  else if (map == 1 && (opcode == 0xbc || opcode == 0xbd) && (flags & I_REP)) op = opcode == 0xbc ? Op.Tzcnt : Op.Lzcnt;
  else if (op == Op.MovlpLoad && mod == 3) op = variant == 0 ? Op.Movhlps : Op.Invalid;
  else if (op == Op.MovhpLoad && mod == 3) op = variant == 0 ? Op.Movlhps : Op.Invalid;
  else if (op == Op.Grp15) {
    if (mod == 3 ? ext < 5 : ext > 3) op = Op.Invalid; // memory: fxsave fxrstor ldmxcsr stmxcsr
  } else if (op == Op.MovdToXmm && (rex & 8)) op = Op.MovqToXmm;
  else if (op == Op.X87) {
    if (!x87Known(opcode, mod, reg & 7, rm & 7)) op = Op.Invalid;
  } else if (op == Op.Cmpxchg8b) {
    if (mod == 3) op = (reg & 7) == 6 && (flags & (I_REP | I_REPNE)) == 0 ? Op.Rdrand : Op.Invalid; // rdseed: cpuid says absent
    else if ((reg & 7) != 1) op = Op.Invalid;
  } else if (op == Op.Movbe && mod == 3) op = Op.Invalid;
  else if (op == Op.MovdFromXmm && (rex & 8)) op = Op.MovqFromXmm;
  if ((form & MEMONLY) && mod == 3) op = Op.Invalid;
  if ((form & REGONLY) && mod != 3) op = Op.Invalid;
  if ((form >> BAD_REG_SHIFT) & (1 << (reg & 7))) op = Op.Invalid;
  if ((flags & I_LOCK) && !lockable(op, ext, mod != 3)) op = Op.Invalid;
  if (len > 15 || (form & KNOWN) == 0) op = Op.Invalid;
  if (op == Op.Cmpxchg8b && (rex & 8)) size = 8; // cmpxchg16b: size says which

  e.op = <u16>op;
  e.realOp = <u16>op;
  e.size = <u8>size;
  e.reg = <u8>reg;
  e.rm = <u8>rm;
  e.base = <u8>base;
  e.index = <u8>index;
  e.scale = <u8>scale;
  e.flags = <u8>flags;
  e.seg = <u8>seg;
  e.ext = <u8>ext;
  e.mod = <u8>mod;
  e.opcode = <u8>opcode;
  e.disp = disp;
  e.imm = imm;
  e.imm2 = imm2;
  return DECODE_OK;
}
