// What the static checks look at: the patch site as the analysis layer sees it (link-time
// addresses) and how to show an address to the user (run-time addresses, as in the
// emulated process and in gdb with ASLR off, plus objdump's symbol+offset).

import type { CodeMap, PatchSite } from '../analysis/index.js';
import type { ElfFile } from '../elf/index.js';
import { disassemble } from '../asm/disasm.js';
import type { Evidence } from './finding.js';
import type { ResolvedFunction } from './symbols.js';

export interface StaticContext {
  site: PatchSite;
  codeMap: CodeMap;
  target: ResolvedFunction;
  /** The executable's name as the user gave it. */
  mainName: string;
  /** Run-time address minus link-time address of main (the PIE load base, 0 for ET_EXEC). */
  loadBias: bigint;
  /** main's ELF model, for checks that read its data and relocations. */
  main?: ElfFile;
}

/** Evidence for an instruction or byte at a link-time address of main. */
export function codeEvidence(
  ctx: StaticContext,
  label: string,
  linkAddress: bigint,
  detail: { bytes?: Uint8Array; text?: string } = {},
): Evidence {
  const evidence: Evidence = { label, address: linkAddress + ctx.loadBias, location: ctx.codeMap.locationOf(linkAddress) };
  if (detail.bytes) evidence.bytes = detail.bytes;
  if (detail.text !== undefined) evidence.text = detail.bytes ? runtimeText(ctx, linkAddress, detail.bytes, detail.text) : detail.text;
  return evidence;
}

/**
 * The instruction's text at its run-time address (branch targets included), so it reads like
 * the addresses around it; `text` (the link-time disassembly) if the bytes do not decode.
 */
export function runtimeText(ctx: StaticContext, linkAddress: bigint, bytes: Uint8Array, text: string): string {
  if (ctx.loadBias === 0n) return text;
  const [first] = disassemble(bytes, linkAddress + ctx.loadBias, 1);
  return first && !first.invalid && first.length === bytes.length && text.startsWith(first.mnemonic) ? text.replace(/^.*?(?=\s\s\(|$)/, first.text) : text;
}

/** "get_level+0x6" */
export function offsetText(ctx: StaticContext, linkAddress: bigint): string {
  return ctx.codeMap.locationOf(linkAddress);
}
