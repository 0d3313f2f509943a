// STACK_IMBALANCE from the bytes a program's own patcher wrote: a trampoline that transfers
// with `call` (ff d0 = call rax) pushes a return address, so the replacement starts 8 bytes
// low and misaligned, and returns into the old function's bytes after the trampoline.

import type { Finding } from '../finding.js';
import type { WrittenTrampoline } from '../written-trampoline.js';

export function checkWrittenTransfer(written: WrittenTrampoline): Finding[] {
  if (!written.transfersWithCall || written.transferAt === null) return [];
  return [{
    code: 'STACK_IMBALANCE',
    severity: 'error',
    message: `the program's trampoline transfers with "${written.transferText}": the replacement starts with rsp 8 bytes below what the caller set up and returns into the old function's bytes`,
    address: written.transferAt,
    evidence: [{ label: 'written transfer', address: written.transferAt, text: written.transferText ?? '' }],
    hint: 'end the trampoline with jmp, not call (ff e0 = jmp rax, not ff d0 = call rax)',
  }];
}
