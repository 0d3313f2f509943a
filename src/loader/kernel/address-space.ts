// The process's memory map, kept as Linux keeps VMAs: every mapping has a name
// (the ELF file, [stack], [heap], [anon]) and permissions that are the engine's real page
// permissions. mmap/munmap/mprotect follow the kernel's argument rules (EINVAL before ENOMEM)
// and change the engine, not just bookkeeping.

import { Perm, type Engine } from '../../engine/engine.js';
import { LoaderError } from '../error.js';
import { MMAP_TOP, PAGE, pageUp } from '../layout.js';
import { EINVAL, ENOMEM } from './errno.js';
import { hex } from '../../hex.js';
import { RESERVATION_FACTOR, mib } from '../limits.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_FIXED_NOREPLACE = 0x100000;

export interface Mapping {
  begin: bigint;
  end: bigint;
  perms: Perm;
  /** "main", "patch.so", "[stack]", "[heap]", "[anon]", "[libc stubs]"... */
  name: string;
  /** Ever mapped executable: a write here is a code modification the verifier wants to see. */
  everExecutable: boolean;
}

/** Linux PROT_* bits are the engine's Perm bits (R=1, W=2, X=4). */
export function permFromProt(prot: number): Perm {
  return (prot & 7) as Perm;
}

export function permText(perms: Perm): string {
  return `${perms & Perm.Read ? 'r' : '-'}${perms & Perm.Write ? 'w' : '-'}${perms & Perm.Exec ? 'x' : '-'}`;
}

export interface AddressSpaceState {
  readonly mappings: readonly Mapping[];
  readonly mmapCursor: bigint;
}

export class AddressSpace {
  private mappings: Mapping[] = [];
  private mmapCursor = MMAP_TOP;
  /** Bytes of address space the mappings may cover in all (RLIMIT_AS); mmap beyond it is ENOMEM. */
  reservationLimit = Number.MAX_SAFE_INTEGER;
  /** Called after a mapping's permissions change (for code-write watches). */
  onPermissionsChanged: ((begin: bigint, end: bigint, perms: Perm) => void) | undefined;

  constructor(private readonly engine: Engine) {}

  list(): readonly Mapping[] {
    return this.mappings;
  }

  find(address: bigint): Mapping | undefined {
    return this.mappings.find((m) => address >= m.begin && address < m.end);
  }

  /** Bytes the mappings cover. */
  reservedBytes(): bigint {
    let total = 0n;
    for (const m of this.mappings) total += m.end - m.begin;
    return total;
  }

  /** Whether `size` more bytes (not overlapping existing mappings) stay within reservationLimit. */
  canReserve(size: bigint): boolean {
    return this.reservedBytes() + pageUp(size) <= BigInt(this.reservationLimit);
  }

  /**
   * Maps [begin, begin+size) at a fixed address (the loader's own placements). Throws
   * LoaderError('limit') when the address space would exceed reservationLimit.
   */
  mapFixed(begin: bigint, size: bigint, perms: Perm, name: string): void {
    const end = pageUp(begin + size);
    if (end <= begin || end > 1n << 47n) throw new LoaderError('bad-input', `${name}: ${hex(begin)}+${hex(size)} is outside the 47-bit user address space`);
    if (!this.canReserve(end - begin)) {
      throw new LoaderError('limit', `${name}: mapping ${hex(end - begin)} bytes at ${hex(begin)} exceeds the guest's address-space limit of ${mib(this.reservationLimit)} (${RESERVATION_FACTOR} x --max-memory)`);
    }
    this.removeRange(begin, end);
    this.engine.map(begin, Number(end - begin), perms);
    this.insert({ begin, end, perms, name, everExecutable: (perms & Perm.Exec) !== 0 });
  }

  /** A free, page-aligned range below the previous one (the kernel's top-down mmap). */
  reserve(size: bigint): bigint {
    const length = pageUp(size);
    let candidate = this.mmapCursor - length;
    for (;;) {
      // Below the lowest overlapping mapping, not page by page (a huge request would crawl).
      const hit = this.mappings.filter((m) => m.begin < candidate + length && candidate < m.end);
      if (hit.length === 0) break;
      candidate = hit.reduce((low, m) => (m.begin < low ? m.begin : low), candidate) - length;
    }
    if (candidate < 0n) throw new LoaderError('limit', `no free range of ${hex(length)} bytes below ${hex(MMAP_TOP)}`);
    this.mmapCursor = candidate;
    return candidate;
  }

  /** mmap(2) for anonymous memory; file mappings are refused by the callers. Returns address or -errno. */
  mmap(address: bigint, length: bigint, prot: number, flags: number, name = '[anon]'): bigint {
    if (length === 0n || (address & (PAGE - 1n)) !== 0n) return -BigInt(EINVAL);
    if ((flags & (MAP_PRIVATE | MAP_SHARED)) === 0) return -BigInt(EINVAL);
    if ((prot & ~7) !== 0) return -BigInt(EINVAL);
    const size = pageUp(length);
    if (size > 1n << 40n || !this.canReserve(size)) return -BigInt(ENOMEM);
    let begin: bigint;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
      if ((flags & MAP_FIXED_NOREPLACE) && this.overlaps(address, address + size)) return -17n; // EEXIST
      begin = address;
    } else if (address !== 0n && !this.overlaps(address, address + size) && address + size <= MMAP_TOP) {
      begin = address;
    } else {
      begin = this.reserve(size);
    }
    this.mapFixed(begin, size, permFromProt(prot), name);
    return begin;
  }

  munmap(address: bigint, length: bigint): number {
    if ((address & (PAGE - 1n)) !== 0n || length === 0n) return -EINVAL;
    this.removeRange(address, address + pageUp(length));
    return 0;
  }

  /**
   * mprotect(2): EINVAL for misalignment, unknown bits, or a wrapping range; ENOMEM when any
   * page of the range is unmapped (nothing is changed then, as Linux checks first).
   */
  mprotect(address: bigint, length: bigint, prot: number): number {
    if ((address & (PAGE - 1n)) !== 0n) return -EINVAL;
    if ((prot & ~(7 | PROT_GROWSDOWN | PROT_GROWSUP)) !== 0) return -EINVAL;
    if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) return -EINVAL;
    if (length === 0n) return 0;
    const end = pageUp(address + length);
    if (end <= address || end > 1n << 47n) return -ENOMEM;
    if (!this.covered(address, end)) return -ENOMEM;
    const perms = permFromProt(prot);
    this.mprotectInternal(address, end - address, perms);
    this.onPermissionsChanged?.(address, end, perms);
    return 0;
  }

  /**
   * MADV_DONTNEED on private memory: [begin, end) reads back as zeros. The engine's pages are
   * dropped and mapped again (untouched: no host memory, nothing to write), not filled with
   * zeros: glibc discards most of a thread's 8 MiB stack when the thread exits.
   */
  discard(begin: bigint, end: bigint): void {
    for (const m of this.mappings) {
      const from = m.begin > begin ? m.begin : begin;
      const to = m.end < end ? m.end : end;
      if (from >= to) continue;
      this.engine.unmap(from, Number(to - from));
      this.engine.map(from, Number(to - from), m.perms);
    }
  }

  /** The loader's own permission changes (segment permissions, RELRO): no argument checks, no event. */
  mprotectInternal(address: bigint, length: bigint, perms: Perm): void {
    const end = pageUp(address + length);
    this.splitAt(address);
    this.splitAt(end);
    for (const m of this.mappings) {
      if (m.begin >= address && m.end <= end) {
        m.perms = perms;
        if (perms & Perm.Exec) m.everExecutable = true;
        this.engine.protect(m.begin, Number(m.end - m.begin), perms);
      }
    }
  }

  /** The bookkeeping at one point (mappings and the mmap placement cursor), for snapshots. */
  saveState(): AddressSpaceState {
    return { mappings: this.mappings.map((m) => ({ ...m })), mmapCursor: this.mmapCursor };
  }

  /** Bookkeeping back to a saved state (the engine restores its own pages). */
  restoreState(state: AddressSpaceState): void {
    this.mappings = state.mappings.map((m) => ({ ...m }));
    this.mmapCursor = state.mmapCursor;
  }

  /** Whether every page of [begin, end) is mapped. */
  covered(begin: bigint, end: bigint): boolean {
    let at = begin;
    for (const m of this.mappings) { // in address order (insert keeps it)
      if (m.end <= at) continue;
      if (m.begin > at) return false;
      at = m.end;
      if (at >= end) return true;
    }
    return at >= end;
  }

  private overlaps(begin: bigint, end: bigint): boolean {
    return this.mappings.some((m) => m.begin < end && begin < m.end);
  }

  private insert(mapping: Mapping): void {
    this.mappings.push(mapping);
    this.mappings.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : 0));
  }

  private splitAt(address: bigint): void {
    const m = this.find(address);
    if (!m || m.begin === address) return;
    const tail: Mapping = { ...m, begin: address };
    m.end = address;
    this.insert(tail);
  }

  private removeRange(begin: bigint, end: bigint): void {
    this.splitAt(begin);
    this.splitAt(end);
    const keep: Mapping[] = [];
    for (const m of this.mappings) {
      if (m.begin >= begin && m.end <= end) this.engine.unmap(m.begin, Number(m.end - m.begin));
      else keep.push(m);
    }
    this.mappings = keep;
  }
}
