// .eh_frame FDE pc ranges: function bounds that survive `strip`, since unwinding needs them.
// Only the CIE fields needed to decode pc_begin/pc_range are interpreted.

import { ElfError, hex } from './error.js';
import type { FileBytes } from './file-bytes.js';
import type { FrameRange } from './model.js';

const DW_EH_PE_omit = 0xff;

/** A cursor over .eh_frame bytes; `address` maps file offsets to addresses for pc-relative values. */
class FrameCursor {
  constructor(
    private readonly file: FileBytes,
    public at: number,
    private readonly end: number,
    private readonly sectionOffset: number,
    private readonly sectionAddress: bigint,
    private readonly where: string,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.end) {
      throw new ElfError('truncated', `record at ${hex(this.at)} runs past its end (${hex(this.end)})`, { where: this.where, offset: this.at });
    }
  }

  u8(): number {
    this.need(1);
    return this.file.u8(this.at++, this.where);
  }

  uleb(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = this.u8();
      if (shift < 64n) result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  }

  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      if (shift < 64n) result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    if (byte & 0x40 && shift < 64n) result -= 1n << shift;
    return result;
  }

  cstring(): string {
    let text = '';
    for (let c = this.u8(); c !== 0; c = this.u8()) text += String.fromCharCode(c);
    return text;
  }

  /** A DW_EH_PE-encoded pointer; `relative` false reads the raw value (pc_range). */
  pointer(encoding: number, relative: boolean): bigint {
    const fieldAddress = this.sectionAddress + BigInt(this.at - this.sectionOffset);
    let value: bigint;
    const read = (n: number, signed: boolean): bigint => {
      this.need(n);
      let v = 0n;
      for (let i = 0; i < n; i++) v |= BigInt(this.file.u8(this.at + i, this.where)) << BigInt(8 * i);
      this.at += n;
      if (signed && v >> BigInt(8 * n - 1)) v -= 1n << BigInt(8 * n);
      return v;
    };
    switch (encoding & 0x0f) {
      case 0x00: value = read(8, false); break;
      case 0x01: value = this.uleb(); break;
      case 0x02: value = read(2, false); break;
      case 0x03: value = read(4, false); break;
      case 0x04: value = read(8, false); break;
      case 0x09: value = this.sleb(); break;
      case 0x0a: value = read(2, true); break;
      case 0x0b: value = read(4, true); break;
      case 0x0c: value = read(8, true); break;
      default:
        throw new ElfError('unsupported', `pointer encoding ${hex(encoding)} is not supported`, { where: this.where, offset: this.at });
    }
    if (relative) {
      const application = encoding & 0x70;
      if (application === 0x10) value += fieldAddress;
      else if (application !== 0) {
        throw new ElfError('unsupported', `pointer application ${hex(application)} is not supported`, { where: this.where, offset: this.at });
      }
    }
    return BigInt.asUintN(64, value);
  }
}

interface CommonInformation {
  pointerEncoding: number;
  hasAugmentationData: boolean;
}

export function parseFrameRanges(file: FileBytes, offset: number, size: number, address: bigint, where: string): FrameRange[] {
  const end = offset + size;
  const cies = new Map<number, CommonInformation>();
  const ranges: FrameRange[] = [];
  let at = offset;
  while (at + 4 <= end) {
    let length = file.u32(at, where);
    if (length === 0) break; // terminator
    let contentAt = at + 4;
    if (length === 0xffff_ffff) {
      const longLength = file.u64(at + 4, where);
      if (longLength > BigInt(end)) throw new ElfError('malformed', `record length ${hex(longLength)} is absurd`, { where, offset: at });
      length = Number(longLength);
      contentAt = at + 12;
    }
    const recordEnd = contentAt + length;
    if (recordEnd > end || length < 4) {
      throw new ElfError('malformed', `record at ${hex(at)} of ${hex(length)} bytes extends past the section end (${hex(end)})`, { where, offset: at });
    }
    const id = file.u32(contentAt, where);
    const cursor = new FrameCursor(file, contentAt + 4, recordEnd, offset, address, where);
    if (id === 0) {
      cies.set(at, parseCie(cursor));
    } else {
      const cieAt = contentAt - id;
      const cie = cies.get(cieAt);
      if (!cie) {
        throw new ElfError('malformed', `FDE at ${hex(at)} points to ${hex(cieAt)}, which is not a CIE seen before it`, { where, offset: at });
      }
      const start = cursor.pointer(cie.pointerEncoding, true);
      const rangeLength = cursor.pointer(cie.pointerEncoding & 0x0f, false);
      if (rangeLength > 0n) ranges.push({ start, end: BigInt.asUintN(64, start + rangeLength), fdeOffset: at });
    }
    at = recordEnd;
  }
  return ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function parseCie(cursor: FrameCursor): CommonInformation {
  const version = cursor.u8();
  if (version !== 1 && version !== 3) {
    throw new ElfError('unsupported', `CIE version ${version} is not supported`, { offset: cursor.at });
  }
  const augmentation = cursor.cstring();
  cursor.uleb(); // code alignment
  cursor.sleb(); // data alignment
  if (version === 1) cursor.u8();
  else cursor.uleb(); // return address register
  const info: CommonInformation = { pointerEncoding: 0, hasAugmentationData: augmentation.startsWith('z') };
  if (!info.hasAugmentationData) return info;
  cursor.uleb(); // augmentation data length
  for (const letter of augmentation.slice(1)) {
    if (letter === 'R') info.pointerEncoding = cursor.u8();
    else if (letter === 'L') cursor.u8();
    else if (letter === 'P') {
      const encoding = cursor.u8();
      if (encoding !== DW_EH_PE_omit) cursor.pointer(encoding & 0x7f, false);
    } else if (letter === 'S' || letter === 'B') continue;
    else break; // unknown letters: the remaining data cannot be interpreted, but R came first in practice
  }
  return info;
}

/** How to find the caller's frame at one pc: CFA = register + offset, saved registers at CFA + offset. */
export interface UnwindRule {
  /** DWARF register number of the CFA's base (7 = rsp, 6 = rbp). */
  cfaRegister: number;
  cfaOffset: bigint;
  /** DWARF register number -> offset from the CFA where the caller's value is saved (16 = return address). */
  saved: Map<number, bigint>;
}

interface CieRules {
  codeAlignment: bigint;
  dataAlignment: bigint;
  returnRegister: number;
  pointerEncoding: number;
  hasAugmentationData: boolean;
  initialInstructions: { from: number; to: number };
}

function parseCieRules(file: FileBytes, cieAt: number, sectionOffset: number, address: bigint, where: string): CieRules {
  const length = file.u32(cieAt, where);
  const cursor = new FrameCursor(file, cieAt + 8, cieAt + 4 + length, sectionOffset, address, where);
  const version = cursor.u8();
  const augmentation = cursor.cstring();
  const codeAlignment = cursor.uleb();
  const dataAlignment = cursor.sleb();
  const returnRegister = version === 1 ? cursor.u8() : Number(cursor.uleb());
  let pointerEncoding = 0;
  if (augmentation.startsWith('z')) {
    const dataLength = Number(cursor.uleb());
    const dataEnd = cursor.at + dataLength;
    for (const letter of augmentation.slice(1)) {
      if (letter === 'R') pointerEncoding = cursor.u8();
      else if (letter === 'L') cursor.u8();
      else if (letter === 'P') {
        const encoding = cursor.u8();
        if (encoding !== DW_EH_PE_omit) cursor.pointer(encoding & 0x7f, false);
      } else if (letter !== 'S' && letter !== 'B') break;
    }
    cursor.at = dataEnd;
  }
  return { codeAlignment, dataAlignment, returnRegister, pointerEncoding, hasAugmentationData: augmentation.startsWith('z'), initialInstructions: { from: cursor.at, to: cieAt + 4 + length } };
}

/**
 * The unwind rule at `pc` from the FDE at `fdeOffset` (a FrameRange's): the CIE's initial
 * instructions, then the FDE's up to pc. null when the rules use DWARF expressions (PLT
 * entries, signal trampolines) or an opcode this interpreter does not know.
 */
export function unwindRuleAt(file: FileBytes, sectionOffset: number, address: bigint, where: string, fdeOffset: number, pc: bigint, checkRange = false): UnwindRule | null {
  const length = file.u32(fdeOffset, where);
  if (length === 0xffff_ffff) return null;
  const contentAt = fdeOffset + 4;
  const cieAt = contentAt - file.u32(contentAt, where);
  const cie = parseCieRules(file, cieAt, sectionOffset, address, where);
  const cursor = new FrameCursor(file, contentAt + 4, contentAt + length, sectionOffset, address, where);
  const start = cursor.pointer(cie.pointerEncoding, true);
  const rangeLength = cursor.pointer(cie.pointerEncoding & 0x0f, false);
  // An FDE found through .eh_frame_hdr's table starts at or below pc; it may still end before it.
  if (checkRange && (pc < start || pc - start >= rangeLength)) return null;
  if (cie.hasAugmentationData) {
    const augmentationLength = Number(cursor.uleb());
    cursor.at += augmentationLength;
  }
  const rule: UnwindRule = { cfaRegister: 7, cfaOffset: 8n, saved: new Map() };
  const initial = new Map<number, bigint>();
  const stack: UnwindRule[] = [];
  const run = (c: FrameCursor, end: number, limit: bigint | null): boolean => {
    let loc = start;
    while (c.at < end) {
      const op = c.u8();
      const high = op & 0xc0;
      const low = op & 0x3f;
      let advance = -1n;
      if (high === 0x40) advance = BigInt(low) * cie.codeAlignment;
      else if (high === 0x80) rule.saved.set(low, c.uleb() * cie.dataAlignment);
      else if (high === 0xc0) {
        if (initial.has(low)) rule.saved.set(low, initial.get(low)!);
        else rule.saved.delete(low);
      } else {
        switch (op) {
          case 0x00: break; // nop
          case 0x02: advance = BigInt(c.u8()) * cie.codeAlignment; break;
          case 0x03: advance = (BigInt(c.u8()) | (BigInt(c.u8()) << 8n)) * cie.codeAlignment; break;
          case 0x04: { let v = 0n; for (let i = 0n; i < 4n; i++) v |= BigInt(c.u8()) << (8n * i); advance = v * cie.codeAlignment; break; }
          case 0x05: { const r = Number(c.uleb()); rule.saved.set(r, c.uleb() * cie.dataAlignment); break; }
          case 0x06: case 0x07: case 0x08: rule.saved.delete(Number(c.uleb())); break;
          case 0x09: c.uleb(); c.uleb(); return false; // value in another register: not followed
          case 0x0a: stack.push({ cfaRegister: rule.cfaRegister, cfaOffset: rule.cfaOffset, saved: new Map(rule.saved) }); break;
          case 0x0b: { const s = stack.pop(); if (!s) return false; rule.cfaRegister = s.cfaRegister; rule.cfaOffset = s.cfaOffset; rule.saved = s.saved; break; }
          case 0x0c: rule.cfaRegister = Number(c.uleb()); rule.cfaOffset = c.uleb(); break;
          case 0x0d: rule.cfaRegister = Number(c.uleb()); break;
          case 0x0e: rule.cfaOffset = c.uleb(); break;
          case 0x11: { const r = Number(c.uleb()); rule.saved.set(r, c.sleb() * cie.dataAlignment); break; }
          case 0x12: rule.cfaRegister = Number(c.uleb()); rule.cfaOffset = c.sleb() * cie.dataAlignment; break;
          case 0x13: rule.cfaOffset = c.sleb() * cie.dataAlignment; break;
          case 0x2e: c.uleb(); break; // GNU_args_size
          default: return false; // expressions (0x0f, 0x10, 0x16) and the rest
        }
      }
      if (advance >= 0n) {
        loc += advance;
        if (limit !== null && loc > limit) return true;
      }
    }
    return true;
  };
  const cieCursor = new FrameCursor(file, cie.initialInstructions.from, cie.initialInstructions.to, sectionOffset, address, where);
  if (!run(cieCursor, cie.initialInstructions.to, null)) return null;
  for (const [k, v] of rule.saved) initial.set(k, v);
  if (!run(cursor, contentAt + length, pc)) return null;
  return rule;
}

/**
 * .eh_frame_hdr's binary search table (PT_GNU_EH_FRAME): the FDE for a pc in a few reads, where
 * parsing all of libc.so.6's .eh_frame (3,700 FDEs) cost a cold start ~25 ms for one unwind.
 */
export class FrameIndex {
  private constructor(
    private readonly file: FileBytes,
    private readonly tableOffset: number,
    private readonly count: number,
    private readonly headerAddress: bigint,
    private readonly where: string,
  ) {}

  /**
   * The index of the header at `offset` (mapped at `address`); null when it has no table or
   * encodes it other than as every linker writes it (udata4 count, datarel sdata4 entries).
   */
  static parse(file: FileBytes, offset: number, size: number, address: bigint, where: string): FrameIndex | null {
    if (size < 12) return null;
    const version = file.u8(offset, where);
    const countEncoding = file.u8(offset + 2, where);
    const tableEncoding = file.u8(offset + 3, where);
    // eh_frame_ptr is 4 bytes in every encoding accepted here (pcrel/absolute sdata4/udata4).
    const framePointerEncoding = file.u8(offset + 1, where);
    if (version !== 1 || (framePointerEncoding & 0x0f) !== 0x0b || countEncoding !== 0x03 || tableEncoding !== 0x3b) return null;
    const count = file.u32(offset + 8, where);
    file.range(offset + 12, count * 8, `${where}: ${count} table entries`);
    return new FrameIndex(file, offset + 12, count, address, where);
  }

  /** The address of the FDE with the greatest initial location at or below `pc`, if any. */
  fdeAddressFor(pc: bigint): bigint | undefined {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const start = this.headerAddress + BigInt(this.file.i32(this.tableOffset + mid * 8, this.where));
      if (start <= pc) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0) return undefined;
    return this.headerAddress + BigInt(this.file.i32(this.tableOffset + found * 8 + 4, this.where));
  }
}
