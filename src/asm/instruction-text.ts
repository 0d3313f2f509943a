// Intel-syntax text for instructions in evidence and trampolines, in the objdump-like
// spelling users paste into issues ("movabs rax, 0x401000", "jmp rax"). One formatter per
// realm: it is configured once and never freed, which costs a few hundred bytes of wasm.

import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, MemorySizeOptions } from 'iced-x86';

let formatter: Formatter | undefined;

function intelFormatter(): Formatter {
  if (!formatter) {
    formatter = new Formatter(FormatterSyntax.Intel);
    formatter.hexPrefix = '0x';
    formatter.hexSuffix = '';
    formatter.uppercaseHex = false;
    formatter.spaceAfterOperandSeparator = true;
    formatter.leadingZeros = false;
    formatter.branchLeadingZeros = false;
    formatter.ripRelativeAddresses = true; // "lea rdi, [rip+0xeb8]" as objdump prints it
    formatter.showBranchSize = false; // "jne 0x401004", not "jne short 0x401004"
    formatter.memorySizeOptions = MemorySizeOptions.Always; // "mov dword ptr [rbp-4], edi"
  }
  return formatter;
}

/** Formats an instruction decoded elsewhere (the caller keeps ownership of it). */
export function formatInstruction(instruction: Instruction): string {
  return intelFormatter().format(instruction);
}

/** One decoded instruction with its bytes and text; plain data, no iced objects. */
export interface ListedInstruction {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  text: string;
  /** iced could not decode these bytes (text is "(bad)"). */
  invalid: boolean;
}

/**
 * Decodes `bytes` placed at `address` into at most `maxCount` instructions. An invalid
 * byte becomes a 1-byte "(bad)" entry so the listing always covers every input byte.
 */
export function listInstructions(bytes: Uint8Array, address: bigint, maxCount = Infinity): ListedInstruction[] {
  const out: ListedInstruction[] = [];
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  const instruction = new Instruction();
  try {
    let position = 0;
    while (position < bytes.length && out.length < maxCount) {
      decoder.position = position;
      decoder.ip = address + BigInt(position);
      decoder.decodeOut(instruction);
      const invalid = instruction.isInvalid;
      const length = invalid ? 1 : instruction.length;
      out.push({
        address: address + BigInt(position),
        length,
        bytes: bytes.slice(position, position + length),
        text: invalid ? '(bad)' : formatInstruction(instruction),
        invalid,
      });
      position += length;
    }
  } finally {
    instruction.free();
    decoder.free();
  }
  return out;
}
