// Guest memory: 4 KiB pages over the 48-bit address space, a three-level page table (12+12+12 bits
// of page number) whose leaves map each guest page to a frame in wasm linear memory, a small
// direct-mapped TLB in front, and guest accessors that report faults as data (never trap).
//
// Page entry (u32): frame address (4 KiB aligned) | R=1 | W=2 | X=4 | CODE=8 (decoded code came from here)
// | COW=16 (the frame belongs to the process snapshot: copied before the first write, never freed here)
// | WATCH=32 (a write hook's range touches the page: writes take the logging path).
// Mapping is lazy: a new page points at the one shared zero frame, marked COW, so reserving costs
// a page entry and the first write gives it a frame. Frames in use are counted against a limit
// (the guest's touched memory); an allocation beyond it fails and sets memoryLimitHit.

import { reserve } from './layout';
import { Cpu, Exit, Fault, FaultKind, Access } from './state';
import { invalidateDecodedCode } from './icache';
import { logMemAccess, Hooks, rangesOverlap, RANGE_WRITE } from './hooks';

export const PERM_R: u32 = 1, PERM_W: u32 = 2, PERM_X: u32 = 4, PAGE_CODE: u32 = 8, PAGE_COW: u32 = 16, PAGE_WATCH: u32 = 32;

const L1: usize = memory.data(4096 * 4, 4096);
const TLB_SIZE: u32 = 256;
const TLB_TAG: usize = memory.data(256 * 8, 64);
const TLB_PTE: usize = memory.data(256 * 4, 64);
/** Pointers to page entries carrying PAGE_CODE, so invalidation clears exactly those bits. */
const CODE_PAGES_MAX: u32 = 16384;
const CODE_PAGES: usize = memory.data(16384 * 4, 64);
let codePageCount: u32 = 0;
let freeFrames: usize = 0;
let zeroFrame: usize = 0;
let framesInUse: u64 = 0;
let frameLimit: u64 = 0xffffffff;
export let memoryLimitHit: bool = false;

/** Limits the frames (touched pages) the guest may own; 0 lifts the limit. */
export function setFrameLimit(frames: u64): void {
  frameLimit = frames == 0 ? 0xffffffff : frames;
  memoryLimitHit = false;
}

export function frameCount(): u64 {
  return framesInUse;
}

/** The shared, never written, never freed frame every untouched page reads as. */
export function isZeroFrame(f: usize): bool {
  return f == zeroFrame;
}

/** The TLB's tag and entry arrays, for the inline hit path of compiled blocks (jit.ts). */
export function tlbTagBase(): usize { return TLB_TAG; }
export function tlbPteBase(): usize { return TLB_PTE; }

export function flushTlb(): void {
  memory.fill(TLB_TAG, 0xff, TLB_SIZE * 8);
}

/** Pointer to the page entry for a page number, optionally creating the table nodes; 0 if absent. */
export function entryPtr(vpn: u64, create: bool): usize {
  if (vpn >> 36) return 0;
  const p1 = L1 + ((<usize>(vpn >> 24)) << 2);
  let n2 = <usize>load<u32>(p1);
  if (n2 == 0) {
    if (!create) return 0;
    n2 = reserve(16384, 4096);
    if (n2 == 0) return 0;
    store<u32>(p1, <u32>n2);
  }
  const p2 = n2 + ((<usize>((vpn >> 12) & 0xfff)) << 2);
  let n3 = <usize>load<u32>(p2);
  if (n3 == 0) {
    if (!create) return 0;
    n3 = reserve(16384, 4096);
    if (n3 == 0) return 0;
    store<u32>(p2, <u32>n3);
  }
  return n3 + ((<usize>(vpn & 0xfff)) << 2);
}

/** The page entry for a page number (0 = unmapped), through the TLB. */
@inline export function pageEntry(vpn: u64): u32 {
  const i = <usize>(<u32>vpn & (TLB_SIZE - 1));
  if (load<u64>(TLB_TAG + (i << 3)) == vpn) return load<u32>(TLB_PTE + (i << 2));
  return pageEntrySlow(vpn, i);
}

function pageEntrySlow(vpn: u64, i: usize): u32 {
  const p = entryPtr(vpn, false);
  if (p == 0) return 0;
  const e = load<u32>(p);
  if (e != 0) {
    store<u64>(TLB_TAG + (i << 3), vpn);
    store<u32>(TLB_PTE + (i << 2), e);
  }
  return e;
}

export function freeFrame(f: usize): void {
  if (f == zeroFrame) return;
  framesInUse--;
  store<u32>(f, <u32>freeFrames);
  freeFrames = f;
}

/** Level-2 table nodes, for walks over every page entry (snapshot.ts). */
export function forEachLeafNode(visit: (node: usize) => void): void {
  for (let i: usize = 0; i < 4096; i++) {
    const n2 = <usize>load<u32>(L1 + (i << 2));
    if (n2 == 0) continue;
    for (let j: usize = 0; j < 4096; j++) {
      const n3 = <usize>load<u32>(n2 + (j << 2));
      if (n3 != 0) visit(n3);
    }
  }
}

/**
 * Gives the page its own frame before a write when the snapshot still shares it, and drops
 * decoded code when the page holds some. Returns the entry to write through (0 when out of memory).
 */
function prepareWrite(vpn: u64, e: u32): u32 {
  if (e & PAGE_CODE) invalidateDecodedCode(); // clears PAGE_CODE in the table, not in `e`
  if ((e & PAGE_COW) == 0) return e;
  const p = entryPtr(vpn, false);
  const f = allocFrame();
  if (f == 0) return 0;
  if (<usize>(e & ~0xfff) != zeroFrame) memory.copy(f, <usize>(e & ~0xfff), 4096); // a new frame is already zero
  const ne = <u32>f | (load<u32>(p) & 0xfff & ~PAGE_COW);
  store<u32>(p, ne);
  // Only this page's TLB slot can hold the old entry.
  store<u64>(TLB_TAG + ((<usize>(<u32>vpn & (TLB_SIZE - 1))) << 3), 0xffffffffffffffff);
  return ne;
}

function allocFrame(): usize {
  if (framesInUse >= frameLimit) {
    memoryLimitHit = true;
    return 0;
  }
  let f: usize;
  if (freeFrames != 0) {
    f = freeFrames;
    freeFrames = <usize>load<u32>(f);
    memory.fill(f, 0, 4096);
  } else {
    f = reserve(4096, 4096);
    if (f == 0) return 0;
  }
  framesInUse++;
  return f;
}

/** Maps `count` pages from page number `vpn`, reading as zeros until written. 0 = ok, 1 = out of wasm memory. */
export function mapPages(vpn: u64, count: u64, perms: u32): u32 {
  if (zeroFrame == 0) {
    zeroFrame = reserve(4096, 4096);
    if (zeroFrame == 0) return 1;
  }
  for (let k: u64 = 0; k < count; k++) {
    const p = entryPtr(vpn + k, true);
    if (p == 0) return 1;
    if (load<u32>(p) != 0) continue; // host checked overlap; keep existing contents
    store<u32>(p, <u32>zeroFrame | PAGE_COW | (perms & 7) | watchBit(vpn + k));
  }
  flushTlb();
  return 0;
}

@inline function watchBit(vpn: u64): u32 {
  return Hooks.memWriteOn && rangesOverlap(RANGE_WRITE, vpn << 12, (vpn << 12) | 0xfff) ? PAGE_WATCH : 0;
}

function rewatchNode(node: usize): void {
  // The node's first page number is not stored: recover it from the walk's order (see applyWriteWatch).
  for (let k: usize = 0; k < 4096; k++) {
    const p = node + (k << 2);
    const e = load<u32>(p);
    if (e == 0) continue;
    const w = watchBit(watchNodeBase + <u64>k);
    if ((e & PAGE_WATCH) != w) store<u32>(p, (e & ~PAGE_WATCH) | w);
  }
}
let watchNodeBase: u64 = 0;

/** Sets PAGE_WATCH on exactly the mapped pages a write range touches (after the ranges change, or a restore). */
export function applyWriteWatch(): void {
  for (let i: usize = 0; i < 4096; i++) {
    const n2 = <usize>load<u32>(L1 + (i << 2));
    if (n2 == 0) continue;
    for (let j: usize = 0; j < 4096; j++) {
      const n3 = <usize>load<u32>(n2 + (j << 2));
      if (n3 == 0) continue;
      watchNodeBase = ((<u64>i) << 24) | ((<u64>j) << 12);
      rewatchNode(n3);
    }
  }
  flushTlb();
}

export function unmapPages(vpn: u64, count: u64): void {
  for (let k: u64 = 0; k < count; k++) {
    const p = entryPtr(vpn + k, false);
    if (p == 0) continue;
    const e = load<u32>(p);
    if (e == 0) continue;
    if ((e & PAGE_COW) == 0) freeFrame(<usize>(e & ~0xfff)); // a snapshot frame stays with the snapshot
    store<u32>(p, 0);
  }
  invalidateDecodedCode();
}

export function protectPages(vpn: u64, count: u64, perms: u32): void {
  for (let k: u64 = 0; k < count; k++) {
    const p = entryPtr(vpn + k, false);
    if (p == 0) continue;
    const e = load<u32>(p);
    if (e != 0) store<u32>(p, (e & ~15) | (perms & 7));
  }
  // Any permission change may remove exec (or make code writable): decoded code is dropped.
  invalidateDecodedCode();
}

/** Page permissions, or -1 when unmapped (host uses it for consistency checks). */
export function pagePerms(vpn: u64): i32 {
  const p = entryPtr(vpn, false);
  if (p == 0) return -1;
  const e = load<u32>(p);
  return e == 0 ? -1 : <i32>(e & 7);
}

/** Marks a page as holding decoded code (writes to it must invalidate the instruction cache). */
export function markCodePage(vpn: u64): void {
  const p = entryPtr(vpn, false);
  if (p == 0) return;
  const e = load<u32>(p);
  if (e == 0 || (e & PAGE_CODE) != 0) return;
  if (codePageCount == CODE_PAGES_MAX) invalidateDecodedCode();
  store<u32>(p, e | PAGE_CODE);
  store<u32>(CODE_PAGES + ((<usize>codePageCount) << 2), <u32>p);
  codePageCount++;
  flushTlb();
}

/** Clears every PAGE_CODE bit (called when the decoded-instruction cache is dropped). */
export function clearCodePages(): void {
  for (let i: u32 = 0; i < codePageCount; i++) {
    const p = <usize>load<u32>(CODE_PAGES + ((<usize>i) << 2));
    store<u32>(p, load<u32>(p) & ~PAGE_CODE);
  }
  codePageCount = 0;
  flushTlb();
}

function raise(kind: u32, access: u32, addr: u64, size: u32): void {
  Fault.kind = kind;
  Fault.access = access;
  Fault.address = addr;
  Fault.size = size;
  Cpu.exit = Exit.Fault;
}

/** Host address of guest byte `addr` if its page grants `need`; 0 with a fault raised otherwise. */
@inline function translate(addr: u64, need: u32, access: u32, size: u32, report: u64): usize {
  const e = pageEntry(addr >> 12);
  if ((e & need) == 0) {
    raise(e == 0 ? FaultKind.Unmapped : FaultKind.Protection, access, report, size);
    return 0;
  }
  return <usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff);
}

@inline function loadSized(h: usize, size: u32): u64 {
  if (size == 8) return load<u64>(h);
  if (size == 4) return <u64>load<u32>(h);
  if (size == 2) return <u64>load<u16>(h);
  return <u64>load<u8>(h);
}

@inline function storeSized(h: usize, size: u32, v: u64): void {
  if (size == 8) store<u64>(h, v);
  else if (size == 4) store<u32>(h, <u32>v);
  else if (size == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

/** Guest load of 1/2/4/8 bytes needing `need` (R for data); returns 0 with Cpu.exit = Fault on failure. */
export function loadGuest(addr: u64, size: u32, need: u32): u64 {
  let v: u64;
  if ((<u32>addr & 0xfff) + size <= 4096) {
    const h = translate(addr, need, Access.Read, size, addr);
    if (h == 0) return 0;
    v = loadSized(h, size);
  } else {
    const second = (addr | 0xfff) + 1;
    const h1 = translate(addr, need, Access.Read, size, addr);
    if (h1 == 0) return 0;
    const h2 = translate(second, need, Access.Read, size, second);
    if (h2 == 0) return 0;
    const n1 = <u32>(second - addr);
    v = 0;
    for (let i: u32 = 0; i < size; i++) {
      const b = i < n1 ? load<u8>(h1 + i) : load<u8>(h2 + (i - n1));
      v |= (<u64>b) << (<u64>(i << 3));
    }
  }
  if (Hooks.memReadOn) logMemAccess(Access.Read, addr, size, v);
  return v;
}

/** Guest load of 1/2/4/8 bytes with the common case inline: inside one page, TLB hit, readable, no read hooks. */
@inline export function readMem(addr: u64, size: u32): u64 {
  const vpn = addr >> 12;
  const i = <usize>(<u32>vpn & (TLB_SIZE - 1));
  if ((<u32>addr & 0xfff) + size <= 4096 && load<u64>(TLB_TAG + (i << 3)) == vpn && !Hooks.memReadOn) {
    const e = load<u32>(TLB_PTE + (i << 2));
    if (e & PERM_R) return loadSized(<usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff), size);
  }
  return loadGuest(addr, size, PERM_R);
}

/** 8-byte guest load with the common case inline: inside one page, TLB hit, readable, no hooks. */
@inline export function readMem64(addr: u64): u64 {
  const vpn = addr >> 12;
  const i = <usize>(<u32>vpn & (TLB_SIZE - 1));
  if ((<u32>addr & 0xfff) <= 4088 && load<u64>(TLB_TAG + (i << 3)) == vpn && !Hooks.memReadOn) {
    const e = load<u32>(TLB_PTE + (i << 2));
    if (e & PERM_R) return load<u64>(<usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff));
  }
  return loadGuest(addr, 8, PERM_R);
}

/** 8-byte guest store with the common case inline (as readMem64, and not a code, snapshot or watched page). */
@inline export function writeMem64(addr: u64, v: u64): bool {
  const vpn = addr >> 12;
  const i = <usize>(<u32>vpn & (TLB_SIZE - 1));
  if ((<u32>addr & 0xfff) <= 4088 && load<u64>(TLB_TAG + (i << 3)) == vpn) {
    const e = load<u32>(TLB_PTE + (i << 2));
    if ((e & (PERM_W | PAGE_CODE | PAGE_COW | PAGE_WATCH)) == PERM_W) {
      store<u64>(<usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff), v);
      return true;
    }
  }
  return writeMemSlow(addr, 8, v);
}

/** Checks that [addr, addr+size) is writable (both pages when it crosses); raises the fault if not. */
export function checkWritable(addr: u64, size: u32): bool {
  if (translate(addr, PERM_W, Access.Write, size, addr) == 0) return false;
  const last = addr + <u64>(size - 1);
  if ((last ^ addr) >> 12) {
    const second = last & ~(<u64>0xfff);
    if (translate(second, PERM_W, Access.Write, size, second) == 0) return false;
  }
  return true;
}

/** Guest store of 1/2/4/8 bytes; nothing is written unless every byte is writable. The common case inline (as writeMem64). */
@inline export function writeMem(addr: u64, size: u32, v: u64): bool {
  const vpn = addr >> 12;
  const i = <usize>(<u32>vpn & (TLB_SIZE - 1));
  if ((<u32>addr & 0xfff) + size <= 4096 && load<u64>(TLB_TAG + (i << 3)) == vpn) {
    const e = load<u32>(TLB_PTE + (i << 2));
    if ((e & (PERM_W | PAGE_CODE | PAGE_COW | PAGE_WATCH)) == PERM_W) {
      storeSized(<usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff), size, v);
      return true;
    }
  }
  return writeMemSlow(addr, size, v);
}

function writeMemSlow(addr: u64, size: u32, v: u64): bool {
  if ((<u32>addr & 0xfff) + size <= 4096) {
    const e = pageEntry(addr >> 12);
    if ((e & PERM_W) == 0) {
      raise(e == 0 ? FaultKind.Unmapped : FaultKind.Protection, Access.Write, addr, size);
      return false;
    }
    let w = e;
    if (e & (PAGE_CODE | PAGE_COW)) {
      w = prepareWrite(addr >> 12, e);
      if (w == 0) {
        raise(FaultKind.Protection, Access.Write, addr, size);
        return false;
      }
    }
    storeSized(<usize>(w & ~0xfff) + <usize>(<u32>addr & 0xfff), size, v);
    if (e & PAGE_WATCH) logMemAccess(Access.Write, addr, size, v);
  } else {
    if (!checkWritable(addr, size)) return false;
    for (let i: u32 = 0; i < size; i++) writeByteChecked(addr + i, <u8>(v >> (<u64>(i << 3))));
    if (Hooks.memWriteOn) logMemAccess(Access.Write, addr, size, v);
  }
  return true;
}

/** Writes one byte known to be writable (after checkWritable). */
function writeByteChecked(addr: u64, b: u8): void {
  let e = pageEntry(addr >> 12);
  if (e & (PAGE_CODE | PAGE_COW)) e = prepareWrite(addr >> 12, e);
  if (e == 0) return;
  store<u8>(<usize>(e & ~0xfff) + <usize>(<u32>addr & 0xfff), b);
}

/** Read half of a read-modify-write: the read must succeed and the write must be allowed. */
export function rmwRead(addr: u64, size: u32): u64 {
  const v = readMem(addr, size);
  if (Cpu.exit) return 0;
  checkWritable(addr, size);
  return v;
}

/**
 * Copies up to 15 instruction bytes at `addr` into `dst` for the decoder, marking their pages as
 * code. Returns how many bytes are fetchable; a fetch fault is raised only if that is 0.
 */
export function fetchCode(addr: u64, dst: usize): u32 {
  const e = pageEntry(addr >> 12);
  if ((e & PERM_X) == 0) {
    raise(e == 0 ? FaultKind.Unmapped : FaultKind.Protection, Access.Fetch, addr, 1);
    return 0;
  }
  const off = <u32>addr & 0xfff;
  let n1: u32 = 4096 - off;
  if (n1 > 15) n1 = 15;
  memory.copy(dst, <usize>(e & ~0xfff) + off, n1);
  if ((e & PAGE_CODE) == 0) markCodePage(addr >> 12);
  if (n1 == 15) return 15;
  const second = (addr | 0xfff) + 1;
  const e2 = pageEntry(second >> 12);
  if ((e2 & PERM_X) == 0) {
    // Remember why the rest is missing, in case the decoder needs those bytes.
    Fault.kind = e2 == 0 ? FaultKind.Unmapped : FaultKind.Protection;
    Fault.access = Access.Fetch;
    Fault.address = second;
    Fault.size = 1;
    return n1;
  }
  memory.copy(dst + n1, <usize>(e2 & ~0xfff), 15 - n1);
  if ((e2 & PAGE_CODE) == 0) markCodePage(second >> 12);
  return 15;
}

// Host access: ignores permissions; the whole range must be mapped (checked before copying).

export function hostRangeMapped(addr: u64, len: u32): bool {
  if (len == 0) return true;
  const last = addr + <u64>(len - 1);
  if (last < addr) return false;
  for (let vpn = addr >> 12; vpn <= (last >> 12); vpn++) {
    if (pageEntry(vpn) == 0) return false;
  }
  return true;
}

/** Copies between guest memory and a wasm buffer; toGuest writes invalidate decoded code when needed. */
export function hostCopy(addr: u64, buf: usize, len: u32, toGuest: bool): bool {
  if (!hostRangeMapped(addr, len)) return false;
  let done: u32 = 0;
  while (done < len) {
    const a = addr + done;
    let e = pageEntry(a >> 12);
    const off = <u32>a & 0xfff;
    let n: u32 = 4096 - off;
    if (n > len - done) n = len - done;
    if (toGuest) {
      if (e & (PAGE_CODE | PAGE_COW)) e = prepareWrite(a >> 12, e);
      if (e == 0) return false;
      memory.copy(<usize>(e & ~0xfff) + off, buf + done, n);
    } else {
      memory.copy(buf + done, <usize>(e & ~0xfff) + off, n);
    }
    done += n;
  }
  return true;
}
