// The unwind rule found through .eh_frame_hdr's sorted FDE table (what ElfFile.unwindRule uses
// when the file has PT_GNU_EH_FRAME) is the rule found by parsing every FDE of .eh_frame, at the
// edges of every FDE's range and between them, on the corpus's files and the system libraries.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/elf/index.js';
import { unwindRuleAt } from '../../src/elf/eh-frame.js';
import { FileBytes } from '../../src/elf/file-bytes.js';
import { SectionType } from '../../src/elf/constants.js';
import { corpusElfFiles, SYSTEM_LIBRARIES } from './elf-files.js';

/** The rule by a linear look-up over all FDE ranges (the reader's path without the header table). */
function ruleByRanges(elf: ElfFile, pc: bigint): ReturnType<ElfFile['unwindRule']> {
  const section = elf.sectionNamed('.eh_frame');
  if (!section || section.type !== SectionType.Progbits) return null;
  const range = elf.frameRanges().find((r) => pc >= r.start && pc < r.end);
  if (!range) return null;
  try {
    return unwindRuleAt(new FileBytes(elf.bytes), section.offset, section.address, '.eh_frame', range.fdeOffset, pc);
  } catch {
    return null;
  }
}

function parses(path: string): boolean {
  try {
    ElfFile.parse(new Uint8Array(readFileSync(path)));
    return true;
  } catch {
    return false; // the corpus's deliberately broken files
  }
}

const files = [...corpusElfFiles().filter((f) => !f.endsWith('.o')), ...SYSTEM_LIBRARIES].filter(parses);

describe('unwind rules through .eh_frame_hdr', () => {
  it('finds files with a header table to check', () => {
    const withHeader = files.filter((f) => ElfFile.parse(new Uint8Array(readFileSync(f))).segments.some((s) => s.type === 0x6474e550));
    expect(withHeader.length).toBeGreaterThan(5);
  });

  it.each(files)('%s: the same rule as the full .eh_frame parse', (path) => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(path)));
    const ranges = elf.frameRanges();
    // At most ~400 FDEs per file (libc has 3,700): every k-th, each at its edges and middle.
    const step = Math.max(1, Math.floor(ranges.length / 400));
    let checked = 0;
    for (let i = 0; i < ranges.length; i += step) {
      const r = ranges[i]!;
      for (const pc of [r.start - 1n, r.start, r.start + (r.end - r.start) / 2n, r.end - 1n, r.end]) {
        expect(elf.unwindRule(pc), `pc ${pc.toString(16)}`).toEqual(ruleByRanges(elf, pc));
        checked++;
      }
    }
    expect(checked).toBe(5 * Math.ceil(ranges.length / step));
  });
});
