// Reading back what a program's own patcher wrote over the target: the instructions, and
// where control goes. Covers the forms patchers write (movabs reg + jmp/call reg, jmp rel32,
// jmp [rip+0] + address); anything else is shown but has no known destination.

import { disassemble } from '../asm/disasm.js';
import type { InstructionLine } from './result.js';

export interface WrittenTrampoline {
  instructions: InstructionLine[];
  /** Where the first control transfer goes, when the bytes determine it. */
  destination: bigint | null;
  transferText: string | null;
  transferAt: bigint | null;
  transfersWithCall: boolean;
}

const REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function u64(bytes: Uint8Array, at: number): bigint | null {
  if (at + 8 > bytes.length) return null;
  return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
}

export function readWrittenTrampoline(bytes: Uint8Array, site: bigint): WrittenTrampoline {
  const decoded = disassemble(bytes, site);
  const registers = new Map<string, bigint>();
  const instructions: InstructionLine[] = [];
  for (const insn of decoded) {
    instructions.push({ address: insn.address, bytes: insn.bytes, text: insn.text });
    if (insn.codeName === 'Mov_r64_imm64') {
      const rex = insn.bytes[0]!;
      const reg = (insn.bytes[1]! - 0xb8) + ((rex & 1) << 3);
      const value = u64(insn.bytes, 2);
      if (value !== null) registers.set(REGISTERS[reg]!, value);
      continue;
    }
    const isCall = insn.flowControl === 'call' || insn.flowControl === 'indirect-call';
    if (insn.flowControl === 'branch' || insn.flowControl === 'call') {
      return { instructions, destination: insn.branchTarget ?? null, transferText: insn.text, transferAt: insn.address, transfersWithCall: isCall };
    }
    if (insn.flowControl === 'indirect-branch' || insn.flowControl === 'indirect-call') {
      let destination: bigint | null = null;
      const operand = insn.text.split(/\s+/).slice(1).join(' ').trim();
      if (registers.has(operand)) destination = registers.get(operand)!;
      else if (insn.ripRelativeTarget !== undefined) {
        const at = Number(insn.ripRelativeTarget - site);
        destination = at >= 0 ? u64(bytes, at) : null;
      }
      return { instructions, destination, transferText: insn.text, transferAt: insn.address, transfersWithCall: isCall };
    }
    if (insn.flowControl !== 'next') break;
  }
  return { instructions, destination: null, transferText: null, transferAt: null, transfersWithCall: false };
}
