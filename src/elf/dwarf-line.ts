// DWARF .debug_line (versions 2 to 5): the line-number program of each unit, run to its
// rows, so an address in a -g build can be named as file:line. Only what source lines need:
// no .debug_info (a DWARF 4 unit's directory 0, the compilation directory, stays unnamed).

import { ElfError, hex } from './error.js';
import type { ElfFile } from './elf-file.js';

/** One row of the line table: the state machine's registers when a row was appended. */
export interface LineRow {
  address: bigint;
  /** The source file, directory joined as the unit recorded it (often relative to the build directory). */
  file: string;
  /** 0 for code the compiler attributes to no line. */
  line: number;
  column: number;
  isStmt: boolean;
  /** The row that ends a sequence: its address is one past the sequence's last byte. */
  endSequence: boolean;
}

/** A file:line answer for an address. */
export interface SourceLine {
  file: string;
  line: number;
  column?: number;
}

// Forms a v5 entry format may use (DWARF 5 §7.5.6).
const DW_FORM_block = 0x09;
const DW_FORM_block1 = 0x0a;
const DW_FORM_data1 = 0x0b;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_data8 = 0x07;
const DW_FORM_data16 = 0x1e;
const DW_FORM_string = 0x08;
const DW_FORM_strp = 0x0e;
const DW_FORM_line_strp = 0x1f;
const DW_FORM_udata = 0x0f;
const DW_FORM_strx = 0x1a;
const DW_FORM_strx1 = 0x25;
const DW_FORM_strx2 = 0x26;
const DW_FORM_strx4 = 0x28;
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

/** A bounds-checked cursor over one section's bytes; errors name the section and offset. */
class Cursor {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    private readonly section: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, end = this.bytes.length): void {
    if (this.at + n > end) throw new ElfError('truncated', `${n} bytes at ${hex(this.at)} run past the end`, { where: this.section, offset: this.at });
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }
  i8(): number {
    const v = this.u8();
    return v >= 0x80 ? v - 0x100 : v;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }
  offset(dwarf64: boolean): number {
    const v = dwarf64 ? this.u64() : BigInt(this.u32());
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError('malformed', `offset ${hex(v)} is too large`, { where: this.section, offset: this.at });
    return Number(v);
  }
  uleb(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = this.u8();
      if (shift < 64n) result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  }
  ulebNumber(): number {
    const v = this.uleb();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError('malformed', `value ${hex(v)} is too large`, { where: this.section, offset: this.at });
    return Number(v);
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
    if (shift < 64n && byte & 0x40) result -= 1n << shift;
    return BigInt.asIntN(64, result);
  }
  cstring(): string {
    const end = this.bytes.indexOf(0, this.at);
    if (end < 0) throw new ElfError('truncated', `string at ${hex(this.at)} has no terminating NUL`, { where: this.section, offset: this.at });
    const s = new TextDecoder().decode(this.bytes.subarray(this.at, end));
    this.at = end + 1;
    return s;
  }
  skip(n: number, end?: number): void {
    this.need(n, end);
    this.at += n;
  }
}

function stringAt(bytes: Uint8Array | undefined, offset: number, section: string): string {
  if (!bytes) throw new ElfError('malformed', `a line table refers to ${section}, which the file does not have`, { where: '.debug_line' });
  const c = new Cursor(bytes, offset, section);
  if (offset >= bytes.length) throw new ElfError('truncated', `string offset ${hex(offset)} past the end`, { where: section, offset });
  return c.cstring();
}

function joinPath(dir: string | undefined, name: string): string {
  if (name.startsWith('/') || dir === undefined || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

interface Sections {
  lineStr: Uint8Array | undefined;
  str: Uint8Array | undefined;
}

interface EntryFormat {
  type: number;
  form: number;
}

function readEntryFormats(c: Cursor): EntryFormat[] {
  const count = c.u8();
  const formats: EntryFormat[] = [];
  for (let i = 0; i < count; i++) formats.push({ type: c.ulebNumber(), form: c.ulebNumber() });
  return formats;
}

/** One v5 directory or file entry: its path and directory index; other fields skipped by form. */
function readEntry(c: Cursor, formats: readonly EntryFormat[], dwarf64: boolean, sections: Sections): { path: string; dir: number } {
  let path = '';
  let dir = 0;
  for (const { type, form } of formats) {
    let text: string | undefined;
    let value: number | undefined;
    switch (form) {
      case DW_FORM_string: text = c.cstring(); break;
      case DW_FORM_line_strp: text = stringAt(sections.lineStr, c.offset(dwarf64), '.debug_line_str'); break;
      case DW_FORM_strp: text = stringAt(sections.str, c.offset(dwarf64), '.debug_str'); break;
      case DW_FORM_udata: value = c.ulebNumber(); break;
      case DW_FORM_data1: value = c.u8(); break;
      case DW_FORM_data2: value = c.u16(); break;
      case DW_FORM_data4: value = c.u32(); break;
      case DW_FORM_data8: c.skip(8); break;
      case DW_FORM_data16: c.skip(16); break;
      case DW_FORM_block: c.skip(c.ulebNumber()); break;
      case DW_FORM_block1: c.skip(c.u8()); break;
      // String-offset indices need .debug_str_offsets and the unit's base: not read here.
      case DW_FORM_strx: c.uleb(); break;
      case DW_FORM_strx1: c.skip(1); break;
      case DW_FORM_strx2: c.skip(2); break;
      case DW_FORM_strx4: c.skip(4); break;
      default:
        throw new ElfError('unsupported', `line table entry form ${hex(form)} is not one DWARF 5 allows there`, { where: '.debug_line', offset: c.at });
    }
    if (type === DW_LNCT_path && text !== undefined) path = text;
    if (type === DW_LNCT_directory_index && value !== undefined) dir = value;
  }
  return { path, dir };
}

/** Runs every unit's line-number program in `.debug_line` and returns all rows, in section order. */
export function readLineRows(debugLine: Uint8Array, sections: Partial<Sections> = {}): LineRow[] {
  const strings: Sections = { lineStr: sections.lineStr, str: sections.str };
  const rows: LineRow[] = [];
  const c = new Cursor(debugLine, 0, '.debug_line');
  while (c.at < debugLine.length) {
    const unitStart = c.at;
    let length: number = c.u32();
    const dwarf64 = length === 0xffffffff;
    if (dwarf64) length = c.offset(true);
    else if (length >= 0xfffffff0) throw new ElfError('malformed', `reserved unit length ${hex(length)}`, { where: '.debug_line', offset: unitStart });
    const unitEnd = c.at + length;
    if (unitEnd > debugLine.length) throw new ElfError('truncated', `unit at ${hex(unitStart)} (${length} bytes) runs past the section's end`, { where: '.debug_line', offset: unitStart });
    const version = c.u16();
    if (version < 2 || version > 5) throw new ElfError('unsupported', `line table version ${version} (only 2 to 5 are known)`, { where: '.debug_line', offset: unitStart });
    let addressSize = 8;
    if (version >= 5) {
      addressSize = c.u8();
      c.u8(); // segment selector size
    }
    const headerLength = c.offset(dwarf64);
    const programStart = c.at + headerLength;
    const minInstructionLength = c.u8();
    if (version >= 4) c.u8(); // maximum_operations_per_instruction: 1 on x86 (no VLIW)
    const defaultIsStmt = c.u8() !== 0;
    const lineBase = c.i8();
    const lineRange = c.u8();
    const opcodeBase = c.u8();
    if (lineRange === 0) throw new ElfError('malformed', 'line_range is 0', { where: '.debug_line', offset: unitStart });
    const argCounts = [0];
    for (let i = 1; i < opcodeBase; i++) argCounts.push(c.u8());

    const dirs: string[] = [];
    const files: string[] = [];
    if (version >= 5) {
      const dirFormats = readEntryFormats(c);
      const dirCount = c.ulebNumber();
      for (let i = 0; i < dirCount; i++) dirs.push(readEntry(c, dirFormats, dwarf64, strings).path);
      const fileFormats = readEntryFormats(c);
      const fileCount = c.ulebNumber();
      for (let i = 0; i < fileCount; i++) {
        const e = readEntry(c, fileFormats, dwarf64, strings);
        files.push(joinPath(dirs[e.dir], e.path));
      }
    } else {
      // v2-4: directory 0 is the compilation directory (in .debug_info), file 0 does not exist.
      dirs.push('');
      for (let d = c.cstring(); d !== ''; d = c.cstring()) dirs.push(d);
      files.push('');
      for (let name = c.cstring(); name !== ''; name = c.cstring()) {
        const dir = c.ulebNumber();
        c.uleb(); // modification time
        c.uleb(); // length
        files.push(joinPath(dirs[dir], name));
      }
    }
    c.at = programStart;

    // A name this reader cannot see (a v5 string index, a missing entry) is said as such, never ''.
    const fileName = (index: number): string => files[index] || `<file ${index}>`;
    let address = 0n;
    let file = 1;
    let line = 1;
    let column = 0;
    let isStmt = defaultIsStmt;
    const reset = (): void => {
      address = 0n;
      file = 1;
      line = 1;
      column = 0;
      isStmt = defaultIsStmt;
    };
    const emit = (endSequence: boolean): void => {
      rows.push({ address, file: fileName(file), line, column, isStmt, endSequence });
    };
    const advance = (operations: bigint): void => {
      address = BigInt.asUintN(64, address + operations * BigInt(minInstructionLength));
    };
    while (c.at < unitEnd) {
      const op = c.u8();
      if (op >= opcodeBase) {
        const adjusted = op - opcodeBase;
        advance(BigInt(Math.floor(adjusted / lineRange)));
        line += lineBase + (adjusted % lineRange);
        emit(false);
        continue;
      }
      switch (op) {
        case 0: {
          const len = c.ulebNumber();
          const end = c.at + len;
          if (len === 0 || end > unitEnd) throw new ElfError('malformed', `extended opcode of length ${len} at ${hex(c.at)}`, { where: '.debug_line', offset: c.at });
          const sub = c.u8();
          if (sub === 1) {
            emit(true);
            reset();
          } else if (sub === 2) {
            address = addressSize === 8 ? c.u64() : BigInt(c.u32());
          } else if (sub === 3 && version <= 4) {
            const name = c.cstring();
            const dir = c.ulebNumber();
            files.push(joinPath(dirs[dir], name));
          }
          // DW_LNE_set_discriminator and vendor extensions: not needed for file:line.
          c.at = end;
          break;
        }
        case 1: emit(false); break; // DW_LNS_copy
        case 2: advance(c.uleb()); break; // DW_LNS_advance_pc
        case 3: line += Number(c.sleb()); break; // DW_LNS_advance_line
        case 4: file = c.ulebNumber(); break; // DW_LNS_set_file
        case 5: column = c.ulebNumber(); break; // DW_LNS_set_column
        case 6: isStmt = !isStmt; break; // DW_LNS_negate_stmt
        case 7: break; // DW_LNS_set_basic_block
        case 8: advance(BigInt(Math.floor((255 - opcodeBase) / lineRange))); break; // DW_LNS_const_add_pc
        case 9: address = BigInt.asUintN(64, address + BigInt(c.u16())); break; // DW_LNS_fixed_advance_pc
        case 10: case 11: break; // prologue_end, epilogue_begin
        default:
          for (let i = 0; i < argCounts[op]!; i++) c.uleb(); // DW_LNS_set_isa and unknown standard opcodes
      }
    }
    c.at = unitEnd;
  }
  return rows;
}

/** Address -> file:line for one ELF file, built from its `.debug_line` (empty when it has none). */
export class LineTable {
  /** Non-end rows sorted by address, each valid up to `until` (the next row's address in its sequence). */
  private readonly ranges: { start: bigint; until: bigint; row: LineRow }[];

  constructor(readonly rows: readonly LineRow[]) {
    const ranges: { start: bigint; until: bigint; row: LineRow }[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const next = rows[i + 1];
      if (row.endSequence || !next || next.address <= row.address) continue;
      ranges.push({ start: row.address, until: next.address, row });
    }
    ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.ranges = ranges;
  }

  /** Reads the file's `.debug_line` (and `.debug_line_str`/`.debug_str`); an empty table without it. Throws ElfError on a damaged table. */
  static fromElf(elf: ElfFile): LineTable {
    const section = (name: string): Uint8Array | undefined => {
      const s = elf.sectionNamed(name);
      if (!s || s.type === 8 /* SHT_NOBITS */) return undefined;
      if ((s.flags & 0x800n) !== 0n /* SHF_COMPRESSED */) {
        throw new ElfError('unsupported', 'compressed debug sections (-gz) are not read: build without -gz for source lines', { where: name });
      }
      if (s.offset + Number(s.size) > elf.bytes.length) throw new ElfError('truncated', `section runs past the end of the file`, { where: name });
      return elf.bytes.subarray(s.offset, s.offset + Number(s.size));
    };
    const debugLine = section('.debug_line');
    if (!debugLine) return new LineTable([]);
    return new LineTable(readLineRows(debugLine, { lineStr: section('.debug_line_str'), str: section('.debug_str') }));
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** The line of the instruction at `address` (a link-time address of the file), or undefined. */
  lookup(address: bigint): SourceLine | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]!.start <= address) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    // Several rows may start at one address (views); the last one wins, as in addr2line.
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const r = this.ranges[i]!;
      if (address >= r.start && address < r.until && r.row.line !== 0) {
        return { file: r.row.file, line: r.row.line, ...(r.row.column !== 0 ? { column: r.row.column } : {}) };
      }
    }
    return undefined;
  }
}

export function formatSourceLine(s: SourceLine): string {
  return `${s.file}:${s.line}`;
}
