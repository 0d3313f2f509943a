// Runs `readelf -W` and parses what it prints into plain records, for the differential test.
// The parsing keeps readelf's own spelling (names with @/@@ versions and "(n)" indices,
// UND/ABS, flag words) so the comparison checks our formatting of those, not a weakened form.
import { execFileSync } from 'node:child_process';

function readelf(args: string[], path: string): string {
  return execFileSync('readelf', ['-W', ...args, path], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: 'C' } });
}

export interface ReadelfSymbol {
  index: number;
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  name: string;
}

/** Symbol tables by section name ('.dynsym', '.symtab'). */
export function readelfSymbols(path: string): Map<string, ReadelfSymbol[]> {
  const tables = new Map<string, ReadelfSymbol[]>();
  let current: ReadelfSymbol[] | undefined;
  for (const line of readelf(['--syms', '--dyn-syms'], path).split('\n')) {
    const header = /^Symbol table '([^']+)' contains \d+ entr/.exec(line);
    if (header) {
      current = [];
      // readelf may print a table twice (-s and --dyn-syms); keep the first.
      if (!tables.has(header[1]!)) tables.set(header[1]!, current);
      continue;
    }
    const row = /^\s*(\d+): ([0-9a-f]+)\s+(0x[0-9a-f]+|\d+) (\S+)\s+(\S+)\s+(\S+)\s+(UND|ABS|COM|\d+) ?(.*)$/.exec(line);
    if (row && current) {
      current.push({
        index: Number(row[1]),
        value: BigInt('0x' + row[2]),
        size: BigInt(row[3]!),
        type: row[4]!,
        bind: row[5]!,
        vis: row[6]!,
        ndx: row[7]!,
        name: row[8]!,
      });
    }
  }
  return tables;
}

export interface ReadelfRelocation {
  section: string;
  offset: bigint;
  info: bigint;
  type: string;
  symbolValue?: bigint;
  symbolName?: string;
  addend: bigint;
}

export function readelfRelocations(path: string): ReadelfRelocation[] {
  const out: ReadelfRelocation[] = [];
  let section = '';
  for (const line of readelf(['-r'], path).split('\n')) {
    const header = /^Relocation section '([^']+)' at offset/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const withSymbol = /^([0-9a-f]{16})\s+([0-9a-f]{16}) (\S+)\s+([0-9a-f]{16}) (.*) ([+-]) ([0-9a-f]+)$/.exec(line);
    if (withSymbol) {
      const magnitude = BigInt('0x' + withSymbol[7]);
      out.push({
        section,
        offset: BigInt('0x' + withSymbol[1]),
        info: BigInt('0x' + withSymbol[2]),
        type: withSymbol[3]!,
        symbolValue: BigInt('0x' + withSymbol[4]),
        symbolName: withSymbol[5]!,
        addend: withSymbol[6] === '-' ? -magnitude : magnitude,
      });
      continue;
    }
    const plain = /^([0-9a-f]{16})\s+([0-9a-f]{16}) (\S+)\s+(-?)([0-9a-f]+)$/.exec(line);
    if (plain) {
      const magnitude = BigInt('0x' + plain[5]);
      out.push({
        section,
        offset: BigInt('0x' + plain[1]),
        info: BigInt('0x' + plain[2]),
        type: plain[3]!,
        addend: plain[4] === '-' ? -magnitude : magnitude,
      });
    }
  }
  return out;
}

/** Addresses listed under RELR sections ("Relocation section '.relr.dyn' ... N offsets"). */
export function readelfRelrAddresses(path: string): bigint[] {
  const out: bigint[] = [];
  let inRelr = false;
  for (const line of readelf(['-r'], path).split('\n')) {
    if (line.startsWith('Relocation section')) inRelr = line.includes('.relr');
    else if (inRelr && /^[0-9a-f]{16}$/.test(line.trim())) out.push(BigInt('0x' + line.trim()));
  }
  return out;
}

export interface ReadelfSegment {
  type: string;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  flags: string;
  align: bigint;
}

export function readelfSegments(path: string): { segments: ReadelfSegment[]; interpreter?: string } {
  const segments: ReadelfSegment[] = [];
  let interpreter: string | undefined;
  for (const line of readelf(['-l'], path).split('\n')) {
    const row = /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/.exec(line);
    if (row) {
      segments.push({
        type: row[1]!,
        offset: BigInt('0x' + row[2]),
        vaddr: BigInt('0x' + row[3]),
        paddr: BigInt('0x' + row[4]),
        filesz: BigInt('0x' + row[5]),
        memsz: BigInt('0x' + row[6]),
        flags: row[7]!,
        align: BigInt('0x' + row[8]),
      });
      continue;
    }
    const interp = /\[Requesting program interpreter: (.*)\]$/.exec(line);
    if (interp) interpreter = interp[1];
  }
  return interpreter === undefined ? { segments } : { segments, interpreter };
}

export interface ReadelfDynamicEntry {
  tag: bigint;
  tagName: string;
  /** What readelf prints after the tag name, verbatim. */
  text: string;
}

export function readelfDynamic(path: string): ReadelfDynamicEntry[] {
  const out: ReadelfDynamicEntry[] = [];
  for (const line of readelf(['-d'], path).split('\n')) {
    const row = /^ 0x([0-9a-f]{16}) \((\S+)\)\s+(.*)$/.exec(line);
    if (row) out.push({ tag: BigInt('0x' + row[1]), tagName: row[2]!, text: row[3]!.trimEnd() });
  }
  return out;
}

export function readelfBuildId(path: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(readelf(['-n'], path))?.[1];
}
