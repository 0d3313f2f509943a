// TORN_WRITE: the patch is written byte by byte (or in a few stores) while other threads run;
// one of them fetched an instruction overlapping the bytes between the first and the last store,
// so it decoded half old, half new bytes. The evidence: where the writer was, where the reader
// was, the bytes it saw (old ones in brackets) and what they decode to.

import { disassemble } from '../../asm/disasm.js';
import { hex } from '../../hex.js';
import type { WriteRace } from '../dynamic/write-race.js';
import type { Evidence, Finding } from '../finding.js';

const hexByte = (b: number): string => b.toString(16).padStart(2, '0');

/** `finished`: the handler returned (its last store is the write's end); else the write was still in progress when the run stopped. */
export function checkTornWrite(race: WriteRace, length: number, finished: boolean, describe: (a: bigint) => string, read: (a: bigint, n: number) => Uint8Array): Finding[] {
  const { site } = race;
  const end = site + BigInt(length);
  const inRange = race.writes.filter((w) => w.address < end && w.address + BigInt(w.size) > site);
  if (length <= 0 || (inRange.length < 2 && finished)) return [];
  const first = inRange[0]!.seq;
  const last = finished ? inRange[inRange.length - 1]!.seq : Number.POSITIVE_INFINITY;
  const hits = race.fetches.filter((f) => f.seq > first && f.seq < last && f.address < end && f.address + BigInt(f.size) > site);
  if (hits.length === 0) return [];
  const evidence: Evidence[] = [];
  const threads = new Map<number, string>();
  for (const f of hits) {
    if (threads.has(f.tid)) continue; // the first torn fetch of each thread
    threads.set(f.tid, f.name);
    const before = inRange.filter((w) => w.seq < f.seq);
    const writer = before[before.length - 1]!;
    const written = new Set<number>();
    for (const w of before) for (let i = 0; i < w.size; i++) written.add(Number(w.address - site) + i);
    const fresh = [...written].filter((i) => i < length).length;
    const seen = Array.from(f.window.subarray(0, length), (b, i) => (written.has(i) ? hexByte(b) : `[${hexByte(b)}]`)).join(' ');
    const lead = f.address < site ? read(f.address, Number(site - f.address)) : new Uint8Array(0);
    const from = f.address < site ? 0 : Number(f.address - site);
    const bytes = new Uint8Array([...lead, ...f.window.subarray(from)]);
    const decoded = disassemble(bytes, f.address, 3).map((i) => i.text).join('; ');
    evidence.push(
      { label: `thread ${f.tid} (${f.name}) fetched`, address: f.address, location: describe(f.address), text: `around instruction ${f.instruction}, byte ${f.address >= site ? f.address - site : -(site - f.address)} of the ${length} bytes` },
      { label: `thread ${writer.tid} (${writer.name}) was writing`, address: writer.rip, location: describe(writer.rip), text: `${fresh} of ${length} bytes written, last at ${hex(writer.address)}` },
      { label: 'the bytes it saw ([old])', address: site, text: seen },
      { label: 'which decode as', address: f.address, text: decoded || '(undecodable)' },
    );
  }
  const who = [...threads].map(([tid, name]) => `thread ${tid} (${name})`).join(', ');
  const f0 = hits[0]!;
  const writerName = `thread ${inRange[0]!.tid} (${inRange[0]!.name})`;
  return [{
    code: 'TORN_WRITE',
    severity: 'error',
    message: `${who} fetched ${threads.size === 1 ? 'an instruction' : 'instructions'} at ${describe(f0.address)} while ${writerName} was writing the ${length} bytes there (${inRange.length} stores${finished ? '' : ', the last before the run stopped'}): ${threads.size === 1 ? 'it' : 'they'} ran half old, half new bytes`,
    address: f0.address,
    evidence,
    hint: 'write the trampoline so no thread can see it half done: stop the other threads first (ptrace, or a quiescent point every thread passes), or write it atomically (one aligned 8-byte store of a 5-byte jmp; int3 first, then the tail, then the first byte, as Linux text_poke_bp does)',
  }];
}
