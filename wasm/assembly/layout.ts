// Linear-memory layout. Small fixed tables are static (memory.data); big and growing areas
// (decoded-instruction cache, page-table nodes, guest page frames) come from a bump pointer
// over __heap_base that grows wasm memory on demand. Nothing is ever handed back to wasm.

let bumpTop: usize = 0;

/** Reserves `size` bytes aligned to `align`; 0 when wasm memory cannot grow (host sees NOMEM). */
export function reserve(size: usize, align: usize): usize {
  if (bumpTop == 0) bumpTop = (__heap_base + 0xffff) & ~(<usize>0xffff);
  const p = (bumpTop + align - 1) & ~(align - 1);
  const end = p + size;
  if (end < p) return 0;
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    // Grow geometrically (an eighth, at least 16 MiB): growing by one 64 KiB page per frame
    // makes the engine reallocate and copy all of memory again and again (quadratic).
    const needed = <i32>((end - have + 0xffff) >> 16);
    let pages = <i32>(have >> 19);
    if (pages < 256) pages = 256;
    if (pages < needed) pages = needed;
    if (memory.grow(pages) < 0 && memory.grow(needed) < 0) return 0;
  }
  bumpTop = end;
  return p;
}
