// BRANCH_INTO_PATCHED_BYTES from data: a code address stored in data that points at bytes
// 1..n-1 of the overwritten range is a potential entry there, e.g. a computed-goto dispatch
// table of an interpreter (&&label, R_X86_64_RELATIVE in .data.rel.ro) or a table of handler
// addresses. Every relocation target, every pointer-sized word of a data section (non-PIE
// tables hold absolute addresses without relocations) and every rip-relative `lea` landing
// there counts; the evidence says where the reference lives and of what kind.

import { RelocationType, type ElfFile } from '../../elf/index.js';
import { hex } from '../../hex.js';
import { codeEvidence, type StaticContext } from '../context.js';
import type { Evidence, Finding } from '../finding.js';

export interface DataReference {
  /** Link-time address the reference points at. */
  target: bigint;
  /** Link-time address where the reference lives (the data word or the instruction). */
  at: bigint;
  kind: 'relocation' | 'data word' | 'rip-relative lea';
  /** Relocation type, section name or instruction text. */
  detail: string;
  section: string | null;
}

const MAX_SHOWN = 8;
/** Sections that hold no code pointers a program dispatches through (unwind data, symbol tables, notes). */
const NOT_POINTER_TABLES = /^\.(eh_frame|gcc_except_table|dyn|gnu|rela|rel\.|note|interp|hash|symtab|strtab|shstrtab|comment|debug)/;

function sectionOf(main: ElfFile, address: bigint): string | null {
  const s = main.sections.find((x) => x.address !== 0n && address >= x.address && address < x.address + x.size);
  return s ? s.name : null;
}

/** Every data-borne reference into [start + 1, end). */
export function dataReferencesInto(main: ElfFile, ctx: StaticContext): DataReference[] {
  const { start, end } = ctx.site.range;
  const inside = (a: bigint): boolean => a > start && a < end;
  const refs: DataReference[] = [];
  const relocated = new Set<bigint>();
  for (const r of main.relocations) {
    let target: bigint | null = null;
    if (r.type === RelocationType.R_X86_64_RELATIVE || r.type === RelocationType.R_X86_64_RELATIVE64) target = r.addend;
    else if (r.type === RelocationType.R_X86_64_64 && r.symbol && r.symbol.sectionIndex !== 0) target = r.symbol.value + r.addend;
    relocated.add(r.offset);
    if (target !== null && inside(target)) refs.push({ target, at: r.offset, kind: 'relocation', detail: r.typeName, section: sectionOf(main, r.offset) });
  }
  for (const at of main.relativeRelocationAddresses ?? []) {
    relocated.add(at);
    const bytes = readWord(main, at);
    if (bytes !== null && inside(bytes)) refs.push({ target: bytes, at, kind: 'relocation', detail: 'RELR (relative)', section: sectionOf(main, at) });
  }
  // Absolute words with no relocation (a non-PIE executable's tables).
  const SHF_ALLOC = 0x2n;
  const SHF_EXECINSTR = 0x4n;
  for (const s of main.sections) {
    if ((s.flags & SHF_ALLOC) === 0n || (s.flags & SHF_EXECINSTR) !== 0n || s.type === 8 /* NOBITS */ || s.address === 0n || NOT_POINTER_TABLES.test(s.name)) continue;
    const bytes = main.bytes.subarray(s.offset, s.offset + Number(s.size));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const first = Number((8n - (s.address % 8n)) % 8n);
    for (let i = first; i + 8 <= bytes.length; i += 8) {
      const value = view.getBigUint64(i, true);
      const at = s.address + BigInt(i);
      if (inside(value) && !relocated.has(at)) refs.push({ target: value, at, kind: 'data word', detail: s.name, section: s.name });
    }
  }
  for (const o of ctx.codeMap.ripRelativeOperands()) {
    if (!inside(o.target) || (o.address >= start && o.address < end)) continue;
    const text = ctx.codeMap.describe(o.address).text;
    if (text.startsWith('lea ')) refs.push({ target: o.target, at: o.address, kind: 'rip-relative lea', detail: text, section: sectionOf(main, o.address) });
  }
  return refs;
}

function readWord(main: ElfFile, address: bigint): bigint | null {
  const s = main.sections.find((x) => x.address !== 0n && address >= x.address && address + 8n <= x.address + x.size && x.type !== 8);
  if (!s) return null;
  const offset = s.offset + Number(address - s.address);
  return new DataView(main.bytes.buffer, main.bytes.byteOffset + offset, 8).getBigUint64(0, true);
}

export function checkDataReferences(main: ElfFile, ctx: StaticContext): Finding[] {
  // Entries of recognised switch jump tables are already BRANCH_INTO_PATCHED_BYTES edges.
  const tables = ctx.codeMap.jumpTables.map((t) => ({ start: t.table, end: t.table + BigInt(t.entrySize * t.targets.length) }));
  const inTable = (a: bigint): boolean => tables.some((t) => a >= t.start && a < t.end);
  const byTarget = new Map<bigint, DataReference[]>();
  for (const r of dataReferencesInto(main, ctx)) {
    if (r.kind !== 'rip-relative lea' && inTable(r.at)) continue;
    byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  }
  const { range } = ctx.site;
  const findings: Finding[] = [];
  for (const [target, refs] of [...byTarget].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const offset = Number(target - range.start);
    const evidence: Evidence[] = [codeEvidence(ctx, 'landing point', target, { text: `byte ${offset} of the ${range.length} overwritten bytes` })];
    for (const r of refs.slice(0, MAX_SHOWN)) {
      const where = r.section ? ` in ${r.section}` : '';
      evidence.push(
        r.kind === 'rip-relative lea'
          ? codeEvidence(ctx, 'address taken by', r.at, ctx.codeMap.describe(r.at))
          : { label: r.kind === 'relocation' ? `${r.detail} relocation${where}` : `pointer-sized word${where}`, address: r.at + ctx.loadBias, text: `holds ${hex(target + ctx.loadBias)} (${ctx.codeMap.locationOf(target)})` },
      );
    }
    if (refs.length > MAX_SHOWN) evidence.push({ label: 'and', text: `${refs.length - MAX_SHOWN} more` });
    const kinds = [...new Set(refs.map((r) => (r.kind === 'rip-relative lea' ? 'an address taken with lea' : r.kind === 'relocation' ? 'a relocated code pointer in data' : 'a code address stored in data')))];
    findings.push({
      code: 'BRANCH_INTO_PATCHED_BYTES',
      severity: 'error',
      message: `${kinds.join(' and ')} points at ${ctx.codeMap.locationOf(target)}, inside the overwritten bytes (a dispatch or handler table entry, e.g. a computed-goto label): a jump through it after the patch lands in the middle of the trampoline`,
      address: target + ctx.loadBias,
      evidence,
      hint: `patch a function none of whose first ${range.length} bytes is an address-taken label or table entry (for an interpreter: patch its callers, or give the dispatcher a prologue so no handler starts in the first ${range.length} bytes), or use a trampoline that ends at or before +${offset}`,
    });
  }
  return findings;
}
