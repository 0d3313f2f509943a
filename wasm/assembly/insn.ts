// A decoded instruction, as stored in the decoded-instruction cache (64-byte slots).

export const INSN_SIZE: usize = 64;

/** Insn.flags bits. */
export const I_MEM: u8 = 1, I_REX: u8 = 2, I_REP: u8 = 4, I_REPNE: u8 = 8, I_LOCK: u8 = 16, I_OPSZ: u8 = 32, I_ADDR32: u8 = 64, I_REXW: u8 = 128;
export const NO_REG: u8 = 0xff;

@unmanaged export class Insn {
  /** Address of the instruction (cache tag). */
  rip: u64;
  /** Memory displacement; for RIP-relative operands the absolute address (base = NO_REG). */
  disp: u64;
  /** Immediate, sign-extended; for relative branches the absolute target. */
  imm: u64;
  /** Second immediate (enter's nesting level, or the second byte of an SSE imm form). */
  imm2: u64;
  /** Decoded-cache epoch at decode time; stale when it differs from the current epoch. */
  epoch: u32;
  /** Handler (Op). */
  op: u16;
  /** The real handler when `op` is the breakpoint pseudo-op. */
  realOp: u16;
  len: u8;
  /** Operand size in bytes (1, 2, 4, 8). */
  size: u8;
  /** ModRM reg field with REX.R. */
  reg: u8;
  /** ModRM rm field with REX.B (register operand when not I_MEM), or the register of +r opcodes. */
  rm: u8;
  base: u8;
  index: u8;
  scale: u8;
  flags: u8;
  /** Segment override: 0 none, 4 fs, 5 gs. */
  seg: u8;
  /** Sub-operation: ALU kind, condition code, group /reg, ... */
  ext: u8;
  /** ModRM mod field (3 = register operand). */
  mod: u8;
  opcode: u8;
}
