// file:line for the addresses of a result, when main or patch.so was built with -g: the
// target, the replacement, each finding's address and each evidence address (call sites,
// the interrupted instruction, branch sources). Addresses in the result are run-time ones;
// each file's load bias comes from a symbol the result names in it.

import { LineTable, type SourceLine } from '../elf/dwarf-line.js';
import { ElfError, ElfFile, type ElfSymbol } from '../elf/index.js';
import type { Evidence, Finding } from './finding.js';
import type { SymbolSummary, VerifyResult } from './result.js';

interface LoadedLines {
  bias: bigint;
  low: bigint;
  high: bigint;
  table: LineTable;
}

export interface SourceInputs {
  main: Uint8Array;
  mainName: string;
  patch: Uint8Array;
  patchName: string;
}

/** The file's line table at its run-time position, or null without line info or a symbol to place it. */
function loaded(bytes: Uint8Array, anchor: SymbolSummary | undefined): LoadedLines | null {
  if (!anchor) return null;
  let elf: ElfFile;
  let table: LineTable;
  try {
    elf = ElfFile.parse(bytes, { reuse: true });
    table = LineTable.fromElf(elf);
  } catch (e) {
    // Damaged debug info must not cost the verdict: the report only loses its source lines.
    if (e instanceof ElfError) return null;
    throw e;
  }
  if (table.isEmpty) return null;
  const symbol = [...elf.symbols, ...elf.dynamicSymbols].find((s: ElfSymbol) => s.name === anchor.name && s.value !== 0n);
  if (!symbol) return null;
  const loads = elf.segments.filter((s) => s.type === 1 /* PT_LOAD */);
  if (loads.length === 0) return null;
  const low = loads.reduce((m, s) => (s.virtualAddress < m ? s.virtualAddress : m), loads[0]!.virtualAddress);
  const high = loads.reduce((m, s) => (s.virtualAddress + s.memorySize > m ? s.virtualAddress + s.memorySize : m), 0n);
  return { bias: anchor.address - symbol.value, low, high, table };
}

/** Adds `source` to the target, the replacement, findings and evidence whose address has a line. Returns the same result. */
export function attachSourceLines(result: VerifyResult, inputs: SourceInputs): VerifyResult {
  const files = [
    loaded(inputs.main, result.target),
    loaded(inputs.patch, result.replacement?.file === inputs.patchName ? result.replacement : undefined),
  ].filter((f): f is LoadedLines => f !== null);
  if (files.length === 0) return result;
  const lookup = (address: bigint): SourceLine | undefined => {
    for (const f of files) {
      const link = address - f.bias;
      if (link >= f.low && link < f.high) return f.table.lookup(link);
    }
    return undefined;
  };
  const place = <T extends { source?: SourceLine }>(thing: T, address: bigint | undefined): void => {
    if (address === undefined) return;
    const source = lookup(address);
    if (source) thing.source = source;
  };
  if (result.target) place(result.target, result.target.address);
  if (result.replacement) place(result.replacement, result.replacement.address);
  for (const f of result.findings) {
    // A return address's line is its call's: the instruction before it.
    place(f, f.code === 'RETURN_ADDRESS_IN_PATCHED_BYTES' && f.address !== undefined ? f.address - 1n : f.address);
    for (const e of f.evidence) place(e, isReturnAddress(e) && e.address !== undefined ? e.address - 1n : e.address);
  }
  return result;
}

function isReturnAddress(e: Evidence): boolean {
  return e.label.startsWith('return address');
}

/** The line a report should point a reader at for a finding: its own, else the target's. */
export function primarySource(f: Finding, result: VerifyResult): SourceLine | undefined {
  return f.source ?? result.target?.source;
}
