// The report's view of what was patched: symbols at their run-time addresses, the
// trampoline's bytes and instructions next to the original bytes they replace, program output.

import { disassemble } from '../asm/disasm.js';
import type { OutputChunk } from '../loader/index.js';
import type { InstructionLine, OutputLine, SymbolSummary, TrampolineSummary } from './result.js';
import type { ResolvedFunction } from './symbols.js';

export function symbolSummary(fn: ResolvedFunction, runtimeAddress: bigint, file: string): SymbolSummary {
  const s: SymbolSummary = { name: fn.name, address: runtimeAddress, size: fn.size, file };
  if (fn.demangled !== fn.name) s.demangled = fn.demangled;
  return s;
}

/** The original instructions touched by `length` bytes at `site`, decoded from `original` (which extends past them). */
export function originalInstructions(original: Uint8Array, site: bigint, length: number): InstructionLine[] {
  const out: InstructionLine[] = [];
  for (const i of disassemble(original, site)) {
    if (i.address >= site + BigInt(length)) break;
    out.push({ address: i.address, bytes: i.bytes, text: i.text });
  }
  return out;
}

export function trampolineSummary(
  form: string,
  site: bigint,
  target: bigint,
  bytes: Uint8Array,
  instructions: InstructionLine[],
  originalWithTail: Uint8Array,
): TrampolineSummary {
  return {
    form,
    site,
    target,
    bytes,
    instructions,
    originalBytes: originalWithTail.slice(0, bytes.length),
    originalInstructions: originalInstructions(originalWithTail, site, bytes.length),
  };
}

export function outputLines(chunks: readonly OutputChunk[]): OutputLine[] {
  const lines: OutputLine[] = [];
  let pending: { fd: number; text: string; at: number } | null = null;
  const flush = (): void => {
    if (pending) lines.push({ stream: pending.fd === 2 ? 'stderr' : 'stdout', text: pending.text, instruction: pending.at });
    pending = null;
  };
  for (const c of chunks) {
    const parts = c.text.split('\n');
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      if (pending && pending.fd !== c.fd) flush();
      if (pending) pending.text += part;
      else if (part !== '' || !last) pending = { fd: c.fd, text: part, at: c.at };
      if (!last) flush();
    });
  }
  flush();
  return lines;
}
