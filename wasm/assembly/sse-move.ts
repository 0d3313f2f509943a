// SSE/SSE2 data movement: movups/movaps/movdqu/movdqa (and pd forms), movss/movsd, movlps/movhps/
// movlpd/movhpd, movhlps/movlhps, movd/movq, movmskps/pd, pmovmskb.

import { Insn, I_MEM } from './insn';
import { Cpu, readReg, writeReg } from './state';
import { writeMem, checkWritable } from './mmu';
import { ea, readE, writeE, hasRex } from './operands';
import { sourcePtr, destPtr, xmmPtr, generalProtection } from './sse-operands';

/** movaps/movapd (0F 28/29) and movdqa (66 0F 6F/7F) require 16-byte aligned memory. */
@inline function alignedForm(e: Insn): bool {
  return e.opcode == 0x28 || e.opcode == 0x29 || ((e.opcode == 0x6f || e.opcode == 0x7f) && (e.flags & 32) != 0 && (e.flags & 4) == 0);
}

export function movLoad128(e: Insn): void {
  const s = sourcePtr(e, 16, alignedForm(e));
  if (s == 0) return;
  const d = destPtr(e);
  store<u64>(d, load<u64>(s));
  store<u64>(d, load<u64>(s, 8), 8);
}

export function movStore128(e: Insn): void {
  const s = destPtr(e); // the reg field names the source register of a store
  if ((e.flags & I_MEM) == 0) {
    const d = xmmPtr(e.rm);
    store<u64>(d, load<u64>(s));
    store<u64>(d, load<u64>(s, 8), 8);
    return;
  }
  const a = ea(e);
  if (alignedForm(e) && (a & 15) != 0) return generalProtection();
  if (!checkWritable(a, 16)) return;
  writeMem(a, 8, load<u64>(s));
  writeMem(a + 8, 8, load<u64>(s, 8));
}

/** movss/movsd loads: from memory the upper part is zeroed; between registers it is kept. */
export function movScalarLoad(e: Insn, bytes: u32): void {
  const s = sourcePtr(e, bytes, false);
  if (s == 0) return;
  const d = destPtr(e);
  if (e.flags & I_MEM) {
    store<u64>(d, load<u64>(s));
    store<u64>(d, 0, 8);
  } else if (bytes == 4) store<u32>(d, load<u32>(s));
  else store<u64>(d, load<u64>(s));
}

export function movScalarStore(e: Insn, bytes: u32): void {
  const s = destPtr(e);
  if (e.flags & I_MEM) {
    writeMem(ea(e), bytes, bytes == 4 ? <u64>load<u32>(s) : load<u64>(s));
    return;
  }
  const d = xmmPtr(e.rm);
  if (bytes == 4) store<u32>(d, load<u32>(s));
  else store<u64>(d, load<u64>(s));
}

/** movlps/movlpd (high = false) and movhps/movhpd (high = true) loads from m64. */
export function movHalfLoad(e: Insn, high: bool): void {
  const s = sourcePtr(e, 8, false);
  if (s == 0) return;
  store<u64>(destPtr(e) + (high ? 8 : 0), load<u64>(s));
}

export function movHalfStore(e: Insn, high: bool): void {
  writeMem(ea(e), 8, load<u64>(destPtr(e) + (high ? 8 : 0)));
}

/** movhlps: dst.lo = src.hi; movlhps: dst.hi = src.lo. */
export function movHalves(e: Insn, highToLow: bool): void {
  const s = xmmPtr(e.rm), d = destPtr(e);
  if (highToLow) store<u64>(d, load<u64>(s, 8));
  else store<u64>(d, load<u64>(s), 8);
}

/** movd/movq xmm, r/m32|r/m64 (66 0F 6E) and movq xmm, xmm/m64 (F3 0F 7E): upper bits zeroed. */
export function movToXmm(e: Insn, bytes: u32): void {
  let v: u64;
  if (e.opcode == 0x7e) {
    const s = sourcePtr(e, 8, false);
    if (s == 0) return;
    v = load<u64>(s);
  } else {
    v = readE(e, bytes);
    if (Cpu.exit) return;
  }
  const d = destPtr(e);
  store<u64>(d, v);
  store<u64>(d, 0, 8);
}

/** movd/movq r/m32|r/m64, xmm (66 0F 7E). */
export function movFromXmm(e: Insn, bytes: u32): void {
  const v = load<u64>(destPtr(e));
  writeE(e, bytes, bytes == 4 ? v & 0xffffffff : v);
}

/** movq xmm/m64, xmm (66 0F D6): a register destination gets its upper half zeroed. */
export function movqStore(e: Insn): void {
  const v = load<u64>(destPtr(e));
  if (e.flags & I_MEM) {
    writeMem(ea(e), 8, v);
    return;
  }
  const d = xmmPtr(e.rm);
  store<u64>(d, v);
  store<u64>(d, 0, 8);
}

/** movmskps (lanes 4), movmskpd (2), pmovmskb (16): sign bits into a GPR. */
export function moveMask(e: Insn, lanes: u32): void {
  const s = xmmPtr(e.rm);
  const width = 16 / lanes;
  let m: u64 = 0;
  for (let i: u32 = 0; i < lanes; i++) {
    const top = load<u8>(s + (<usize>(i * width + width - 1)));
    m |= (<u64>(top >> 7)) << (<u64>i);
  }
  writeReg(e.reg, 8, m, hasRex(e));
}

