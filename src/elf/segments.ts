// Program headers, and the virtual-address <-> file-offset mapping that PT_LOAD defines.

import { SEGMENT_TYPE_NAMES, SegmentFlag, SegmentType } from './constants.js';
import { ElfError, hex } from './error.js';
import type { FileBytes } from './file-bytes.js';
import type { ElfHeader, Segment } from './model.js';

/** End of the user address space of an x86-64 Linux process (4-level paging). */
export const USER_ADDRESS_END = 1n << 47n;

export function parseProgramHeaders(file: FileBytes, header: ElfHeader): Segment[] {
  const segments: Segment[] = [];
  for (let index = 0; index < header.programHeaderCount; index++) {
    const at = header.programHeaderOffset + index * 56;
    const where = `program header ${index}`;
    const type = file.u32(at, where);
    const flags = file.u32(at + 4, where);
    const offset = file.u64(at + 8, where);
    const fileSize = file.u64(at + 32, where);
    const typeName = SEGMENT_TYPE_NAMES[type] ?? hex(type);
    const segmentWhere = `program header ${index} (${typeName})`;
    // Every segment's file image must lie in the file; PT_LOAD may still be larger in memory.
    const checkedOffset = file.range(offset, fileSize, `${segmentWhere}: contents`);
    const segment: Segment = {
      index,
      type,
      typeName,
      flags,
      readable: (flags & SegmentFlag.R) !== 0,
      writable: (flags & SegmentFlag.W) !== 0,
      executable: (flags & SegmentFlag.X) !== 0,
      offset: checkedOffset,
      virtualAddress: file.u64(at + 16, where),
      physicalAddress: file.u64(at + 24, where),
      fileSize,
      memorySize: file.u64(at + 40, where),
      alignment: file.u64(at + 48, where),
    };
    if (type === SegmentType.Load) {
      if (segment.memorySize < segment.fileSize) {
        throw new ElfError('malformed', `memory size ${hex(segment.memorySize)} is smaller than file size ${hex(fileSize)}`, {
          where: segmentWhere,
          offset: at,
        });
      }
      if (segment.virtualAddress + segment.memorySize > 0xffff_ffff_ffff_ffffn) {
        throw new ElfError('malformed', `segment wraps around the end of the address space`, { where: segmentWhere, offset: at });
      }
      // Linux maps user space below 2^47 (the canonical lower half): nothing above can be loaded.
      if (segment.virtualAddress + segment.memorySize > USER_ADDRESS_END) {
        throw new ElfError('malformed', `segment ${hex(segment.virtualAddress)}+${hex(segment.memorySize)} ends beyond the 47-bit user address space (${hex(USER_ADDRESS_END)})`, {
          where: segmentWhere,
          offset: at,
        });
      }
      if ((segment.virtualAddress & 0xfffn) !== (BigInt(segment.offset) & 0xfffn)) {
        throw new ElfError('malformed', `p_vaddr ${hex(segment.virtualAddress)} and p_offset ${hex(segment.offset)} differ modulo the page size: the kernel cannot map it`, {
          where: segmentWhere,
          offset: at,
        });
      }
    }
    segments.push(segment);
  }
  return segments;
}

/** The file-backed part of each PT_LOAD, for translating addresses both ways. */
export class AddressMap {
  private readonly loads: readonly Segment[];

  constructor(segments: readonly Segment[]) {
    this.loads = segments.filter((s) => s.type === SegmentType.Load);
  }

  /** File offset of `address` if `length` bytes from it are file-backed in one PT_LOAD. */
  offsetOf(address: bigint, length: bigint = 1n): number | undefined {
    for (const load of this.loads) {
      if (address >= load.virtualAddress && address - load.virtualAddress + length <= load.fileSize) {
        return load.offset + Number(address - load.virtualAddress);
      }
    }
    return undefined;
  }

  /** Virtual address of file offset `offset`, if a PT_LOAD maps it. */
  addressOf(offset: number): bigint | undefined {
    for (const load of this.loads) {
      if (offset >= load.offset && BigInt(offset - load.offset) < load.fileSize) {
        return load.virtualAddress + BigInt(offset - load.offset);
      }
    }
    return undefined;
  }

  /** The PT_LOAD whose memory image (including .bss) contains `address`. */
  segmentAt(address: bigint): Segment | undefined {
    return this.loads.find((s) => address >= s.virtualAddress && address - s.virtualAddress < s.memorySize);
  }

  /** Like offsetOf, but a missing mapping is an ElfError naming `where`. */
  requireOffset(address: bigint, length: bigint, where: string): number {
    const offset = this.offsetOf(address, length);
    if (offset === undefined) {
      throw new ElfError('malformed', `address ${hex(address)} + ${hex(length)} bytes is not file-backed by any PT_LOAD segment`, { where });
    }
    return offset;
  }
}
