// Whether a function takes `...`: then al is an argument (the SysV ABI's upper bound on the
// vector registers a variadic call uses) and the trampoline must not touch rax. C++ says so
// in the mangled name ("log_line(char const*, ...)"); for C, gcc's and clang's va_start
// prologue gives it away: `test al, al` before anything writes al, ahead of the xmm saves.

import { disassemble } from '../asm/disasm.js';

/** How far into the prologue to look for the register-save test. */
const PROLOGUE_INSTRUCTIONS = 24;
/** An instruction that writes al/ax/eax/rax as its first (destination) operand. */
const WRITES_AL = /^(?!test|cmp|push)\w+\s+(al|ax|eax|rax)\b/;

export function takesVarargs(demangledName: string): boolean {
  return /(\(|,\s*)\.\.\.\)/.test(demangledName);
}

/** `test al, al` in the straight-line prologue of `code` (the function's first bytes), before al is written. */
export function hasVarargsPrologue(code: Uint8Array, address: bigint): boolean {
  for (const insn of disassemble(code, address, PROLOGUE_INSTRUCTIONS)) {
    if (insn.invalid) return false;
    if (insn.text === 'test al, al') return true;
    if (WRITES_AL.test(insn.text)) return false;
    if (insn.flowControl !== 'next') return false;
  }
  return false;
}

export function isVariadicFunction(demangledName: string, code: Uint8Array | null, address: bigint): boolean {
  return takesVarargs(demangledName) || (code !== null && hasVarargsPrologue(code, address));
}
