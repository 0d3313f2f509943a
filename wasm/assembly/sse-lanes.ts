// Element access inside a 16-byte xmm image: lane i of width w bytes (1, 2, 4 or 8), shared by
// the packed integer instruction files.

@inline export function lane(p: usize, i: u32, w: u32): u64 {
  if (w == 1) return <u64>load<u8>(p + i);
  if (w == 2) return <u64>load<u16>(p + (<usize>i << 1));
  if (w == 4) return <u64>load<u32>(p + (<usize>i << 2));
  return load<u64>(p + (<usize>i << 3));
}

@inline export function setLane(p: usize, i: u32, w: u32, v: u64): void {
  if (w == 1) store<u8>(p + i, <u8>v);
  else if (w == 2) store<u16>(p + (<usize>i << 1), <u16>v);
  else if (w == 4) store<u32>(p + (<usize>i << 2), <u32>v);
  else store<u64>(p + (<usize>i << 3), v);
}

/** The w-byte value v sign-extended to 64 bits. */
@inline export function signed(v: u64, w: u32): i64 {
  const sh = <u64>(64 - (w << 3));
  return (<i64>(v << sh)) >> sh;
}
