// Fast forms of the hottest instructions: register operands at 32/64 bits and 64-bit loads and
// stores, with the operand size known to the handler so masks and branches fold away. A record
// is switched to one of these Ops when it enters the block cache (fastForm); the semantics are
// those of the general handlers in alu.ts and mov.ts, which a differential test compares.

import { Insn } from './insn';
import { Op } from './ops';
import { Cpu, GPR } from './state';
import { Flags, Lazy, ARITH, CF, setArith, getCF } from './flags';
import { alu, ALU_CMP } from './alu';
import { ea } from './operands';
import { readMem64, writeMem64 } from './mmu';

@inline function gpr(n: u32): usize {
  return GPR + ((<usize>n) << 3);
}

/** The fast Op for a freshly decoded record, or its own Op when none applies. */
export function fastForm(e: Insn): u32 {
  const op = <u32>e.op;
  const size = <u32>e.size;
  if (size != 8 && size != 4) return op;
  const reg = e.mod == 3;
  const wide = size == 8;
  switch (op) {
    case Op.AluEG: if (reg) return wide ? Op.AluRR64 : Op.AluRR32; break;
    case Op.AluGE: if (reg) return wide ? Op.AluRRG64 : Op.AluRRG32; break;
    case Op.AluEI: if (reg) return wide ? Op.AluRI64 : Op.AluRI32; break;
    case Op.Grp4: case Op.Grp5:
      if (reg && e.ext <= 1) return e.ext == 0 ? (wide ? Op.IncR64 : Op.IncR32) : (wide ? Op.DecR64 : Op.DecR32);
      break;
    case Op.MovEG: case Op.MovGE:
      if (reg) {
        // MovRR copies reg into rm: mov G,E swaps them (realOp keeps the decoded meaning, and a
        // record carrying a breakpoint is never given a fast form).
        if (op == Op.MovGE) { const t = e.rm; e.rm = e.reg; e.reg = t; }
        return wide ? Op.MovRR64 : Op.MovRR32;
      }
      if (wide && e.seg == 0) return op == Op.MovGE ? Op.LoadR64 : Op.StoreR64;
      break;
  }
  return op;
}

/** alu dst, src on registers (dst = rm for E,G; dst = reg for G,E). */
@inline export function aluRegisters(kind: u32, dst: u32, b: u64, size: u32): void {
  const r = alu(kind, load<u64>(gpr(dst)), b, size);
  if (kind != ALU_CMP) store<u64>(gpr(dst), r); // a 32-bit result is already zero-extended
}

/** inc/dec register: CF is kept, the rest comes from the lazy add/sub record. */
@inline export function incDecRegister(e: Insn, dec: bool, size: u32): void {
  const p = gpr(e.rm);
  const m: u64 = size == 8 ? <u64>-1 : 0xffffffff;
  const d = load<u64>(p) & m;
  const r = (dec ? d - 1 : d + 1) & m;
  Flags.base = (Flags.base & ~CF) | getCF();
  setArith(dec ? Lazy.Sub : Lazy.Add, d, 1, r, size == 8 ? 0x8000000000000000 : 0x80000000);
  Flags.mask = ARITH & ~CF;
  store<u64>(p, r);
}

@inline export function loadRegister64(e: Insn): void {
  const v = readMem64(ea(e));
  if (Cpu.exit) return;
  store<u64>(gpr(e.reg), v);
}

@inline export function storeRegister64(e: Insn): void {
  writeMem64(ea(e), load<u64>(gpr(e.reg)));
}
