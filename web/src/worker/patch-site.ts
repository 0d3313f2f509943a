// The patch site as the page draws it: the target's listing with the overwritten bytes
// marked and the branches that land inside them, from the analysis layer's evidence.
// Analysis works in file addresses; the page shows the emulated layout (file address + load base).

import { CodeMap, analyzePatchSite } from '../../../src/analysis/index.js';
import { codeImageFromElf } from '../../../src/analysis/from-elf.js';
import { disassemble } from '../../../src/asm/disasm.js';
import type { ElfFile } from '../../../src/elf/index.js';
import type { ListingLine, PatchSiteView } from '../protocol.js';

const MAX_LISTED_BYTES = 2048;

export function buildPatchSiteView(elf: ElfFile, base: bigint, functionName: string, overwriteLength: number): PatchSiteView {
  const map = CodeMap.build(codeImageFromElf(elf));
  const site = analyzePatchSite(map, functionName, overwriteLength);
  const fn = site.function;
  const listedEnd = fn.end > site.range.end ? fn.end : site.range.end;
  const length = Math.min(Number(listedEnd - fn.address), MAX_LISTED_BYTES);
  const bytes = map.bytesAt(fn.address, length) ?? elf.read(fn.address, length);
  // Decoded at run-time addresses so branch targets read like the rest of the page.
  const listing: ListingLine[] = disassemble(bytes, fn.address + base).map((i) => {
    const line: ListingLine = { address: i.address, bytes: i.bytes, text: i.text };
    if (i.branchTarget !== undefined) line.branchTarget = i.branchTarget;
    const covered = site.covered.find((c) => c.address + base === i.address);
    if (covered) line.overwritten = covered.partial ? 'partial' : 'full';
    return line;
  });
  return {
    functionName: fn.name,
    functionAddress: fn.address + base,
    functionSize: fn.size,
    range: { start: site.range.start + base, end: site.range.end + base },
    listing,
    branchesInto: site.branchesInto.map((b) => ({
      source: b.source + base,
      sourceLocation: map.locationOf(b.source),
      sourceText: b.sourceText,
      target: b.target + base,
      offset: b.offset,
      kind: b.kind,
    })),
    returnAddresses: site.returnAddressesInRange.map((r) => ({ call: r.call.address + base, returnAddress: r.returnAddress + base })),
    pages: { first: site.pages.first + base, last: site.pages.last + base, count: site.pages.count },
  };
}
