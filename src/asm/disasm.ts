// Disassembly of a byte range into plain records (no iced objects escape), for listings
// in reports and the CLI. Analysis that needs operands decodes with iced itself.

import * as iced from 'iced-x86';
import { formatInstruction } from './instruction-text.js';
import { AsmError } from './error.js';
import { hex } from '../hex.js';

export type FlowKind =
  | 'next'
  | 'branch'
  | 'indirect-branch'
  | 'conditional-branch'
  | 'return'
  | 'call'
  | 'indirect-call'
  | 'interrupt'
  | 'xbegin-xabort-xend'
  | 'exception';

const FLOW_KINDS: Readonly<Record<number, FlowKind>> = {
  [iced.FlowControl.Next]: 'next',
  [iced.FlowControl.UnconditionalBranch]: 'branch',
  [iced.FlowControl.IndirectBranch]: 'indirect-branch',
  [iced.FlowControl.ConditionalBranch]: 'conditional-branch',
  [iced.FlowControl.Return]: 'return',
  [iced.FlowControl.Call]: 'call',
  [iced.FlowControl.IndirectCall]: 'indirect-call',
  [iced.FlowControl.Interrupt]: 'interrupt',
  [iced.FlowControl.XbeginXabortXend]: 'xbegin-xabort-xend',
  [iced.FlowControl.Exception]: 'exception',
};

export interface DisassembledInstruction {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  /** Intel syntax, e.g. "movabs rax, 0x1122334455667788". "(bad)" for undecodable bytes. */
  text: string;
  /** Lowercase mnemonic ("jmp"); "(bad)" when invalid. */
  mnemonic: string;
  flowControl: FlowKind;
  /** Destination of a direct jmp/jcc/call/loop. */
  branchTarget?: bigint;
  /** Address a RIP-relative memory operand refers to. */
  ripRelativeTarget?: bigint;
  /** iced's Code name ("Mov_r64_imm64"), the exact encoding form; "INVALID" when undecodable. */
  codeName: string;
  invalid: boolean;
}

/**
 * Decodes `bytes` as if placed at `address`, at most `maxCount` instructions. An undecodable
 * or truncated instruction becomes a 1-byte "(bad)" record, so the records always cover
 * every input byte and decoding resynchronises as objdump does.
 */
export function disassemble(bytes: Uint8Array, address: bigint, maxCount = Number.POSITIVE_INFINITY): DisassembledInstruction[] {
  const out: DisassembledInstruction[] = [];
  if (bytes.length === 0) return out;
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const instruction = new iced.Instruction();
  try {
    let position = 0;
    while (position < bytes.length && out.length < maxCount) {
      const at = BigInt.asUintN(64, address + BigInt(position));
      decoder.position = position;
      decoder.ip = at;
      decoder.decodeOut(instruction);
      if (instruction.isInvalid) {
        out.push({
          address: at,
          length: 1,
          bytes: bytes.slice(position, position + 1),
          text: '(bad)',
          mnemonic: '(bad)',
          flowControl: 'exception',
          codeName: 'INVALID',
          invalid: true,
        });
        position += 1;
        continue;
      }
      const record: DisassembledInstruction = {
        address: at,
        length: instruction.length,
        bytes: bytes.slice(position, position + instruction.length),
        text: formatInstruction(instruction),
        mnemonic: (iced.Mnemonic[instruction.mnemonic] ?? 'unknown').toLowerCase(),
        flowControl: FLOW_KINDS[instruction.flowControl] ?? 'next',
        codeName: iced.Code[instruction.code] ?? String(instruction.code),
        invalid: false,
      };
      if (instruction.op0Kind === iced.OpKind.NearBranch64) record.branchTarget = instruction.nearBranchTarget;
      if (instruction.isIpRelMemoryOperand) record.ripRelativeTarget = instruction.ipRelMemoryAddress;
      out.push(record);
      position += instruction.length;
    }
  } catch (e) {
    // iced-x86 throws plain Errors on inputs it cannot take: the asm layer's error, one line.
    throw new AsmError('address', `iced-x86 failed decoding ${bytes.length} bytes at ${hex(address)}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  } finally {
    instruction.free();
    decoder.free();
  }
  return out;
}
