// Which registers an instruction reads and which it (fully) defines, in 64-bit names
// (eax -> rax, ymm3 -> xmm3), for liveness analysis and for naming the register a fault used.
// A write of a 32- or 64-bit GPR, or a plain write of an xmm/ymm register, defines the whole
// register; 8/16-bit writes and conditional writes merge with the old value, so they read it.

import * as iced from 'iced-x86';

export interface RegisterEffect {
  address: bigint;
  length: number;
  reads: Set<string>;
  /** Registers whose whole old value is replaced. */
  defines: Set<string>;
  /** Registers changed at all (partial and conditional writes included). */
  writes: Set<string>;
}

const GPR64 = new Set(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']);
const ZERO_IDIOMS = new Set(['xor', 'sub', 'pxor', 'xorps', 'xorpd', 'vpxor', 'vxorps', 'vxorpd', 'pcmpeqd', 'psubd', 'psubq', 'sbb']);

function fullName(register: iced.Register): string | null {
  const full = iced.RegisterExt.fullRegister(register);
  const name = (iced.Register[full] ?? '').toLowerCase();
  if (GPR64.has(name)) return name;
  const vector = /^[xyz]mm(\d+)$/.exec(name);
  return vector ? `xmm${vector[1]}` : null;
}

function sizeOf(register: iced.Register): number {
  return iced.RegisterExt.size(register);
}

/** Effects of each instruction in `bytes` placed at `address` (undecodable bytes end the list). */
export function registerEffects(bytes: Uint8Array, address: bigint, maxCount = Number.POSITIVE_INFINITY): RegisterEffect[] {
  const out: RegisterEffect[] = [];
  if (bytes.length === 0) return out;
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  decoder.ip = address;
  const instruction = new iced.Instruction();
  const factory = new iced.InstructionInfoFactory();
  try {
    while (decoder.canDecode && out.length < maxCount) {
      const position = decoder.position;
      decoder.decodeOut(instruction);
      if (instruction.isInvalid) break;
      const reads = new Set<string>();
      const defines = new Set<string>();
      const writes = new Set<string>();
      const mnemonic = (iced.Mnemonic[instruction.mnemonic] ?? '').toLowerCase();
      const zeroIdiom = ZERO_IDIOMS.has(mnemonic) && instruction.opCount >= 2 && instruction.op0Kind === iced.OpKind.Register && instruction.op1Kind === iced.OpKind.Register &&
        (instruction.op0Register === instruction.op1Register || (instruction.opCount === 3 && instruction.op2Kind === iced.OpKind.Register && instruction.op1Register === instruction.op2Register));
      const info = factory.info(instruction);
      for (const used of info.usedRegisters() as { register: iced.Register; access: iced.OpAccess }[]) {
        const name = fullName(used.register);
        if (name === null) continue;
        const a = used.access;
        const read = a === iced.OpAccess.Read || a === iced.OpAccess.CondRead || a === iced.OpAccess.ReadWrite || a === iced.OpAccess.ReadCondWrite;
        const write = a === iced.OpAccess.Write || a === iced.OpAccess.CondWrite || a === iced.OpAccess.ReadWrite || a === iced.OpAccess.ReadCondWrite;
        if (write) writes.add(name);
        const size = sizeOf(used.register);
        const whole = a === iced.OpAccess.Write && (GPR64.has(name) ? size >= 4 : true);
        if (whole) defines.add(name);
        else if (write && !read && !zeroIdiom) reads.add(name); // a partial write keeps the rest of the old value
        if (read && !zeroIdiom) reads.add(name);
      }
      if (zeroIdiom) {
        const name = fullName(instruction.op0Register);
        if (name) {
          defines.add(name);
          writes.add(name);
          reads.delete(name);
        }
      }
      out.push({ address: address + BigInt(position), length: instruction.length, reads, defines, writes });
    }
  } finally {
    factory.free();
    instruction.free();
    decoder.free();
  }
  return out;
}
