// Property: whatever the bytes, parsing and every look-up either succeed or throw ElfError:
// never a RangeError/TypeError, never a hang. Seeded so failures reproduce; mutations
// aim at the fields that drive parsing (header, program/section header tables, dynamic
// entries, symbol/hash/version tables) rather than at code bytes nobody reads.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ElfError, ElfFile, initDemangler } from '../../src/elf/index.js';
import { corpusElfFiles, readBytes, withoutSectionHeaders } from './elf-files.js';

const SEED = Number(process.env.ELF_FUZZ_SEED ?? 0x5eed_e1f);
const RUNS = Number(process.env.ELF_FUZZ_RUNS ?? 10_000);
// A hang guard, not a speed measurement: generous enough that a loaded 2-core CI machine never trips it.
const CASE_TIME_LIMIT_MS = 2000;

interface Base {
  bytes: Uint8Array;
  /** [start, length) regions holding the structures the reader interprets. */
  regions: [number, number][];
}

function regionsOf(bytes: Uint8Array): [number, number][] {
  const elf = ElfFile.parse(bytes);
  const regions: [number, number][] = [[0, 64]];
  if (elf.header.programHeaderCount) regions.push([elf.header.programHeaderOffset, elf.header.programHeaderCount * 56]);
  if (elf.header.sectionHeaderCount) regions.push([elf.header.sectionHeaderOffset, elf.header.sectionHeaderCount * 64]);
  const wanted = new Set(['.dynamic', '.dynsym', '.symtab', '.gnu.hash', '.hash', '.gnu.version', '.gnu.version_r', '.gnu.version_d', '.rela.dyn', '.rela.plt', '.note.gnu.build-id', '.eh_frame', '.eh_frame_hdr', '.interp']);
  for (const s of elf.sections) {
    if (wanted.has(s.name) && s.size > 0n) regions.push([s.offset, Math.min(Number(s.size), 512)]);
  }
  return regions;
}

const INTERESTING = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x1000n, 0x7fffn, 0xffffn, 0x7fff_ffffn, 0xffff_ffffn, 1n << 32n, 1n << 60n, (1n << 63n) - 1n, (1n << 64n) - 1n];

type Mutation = { region: number; position: number; width: 1 | 2 | 4 | 8; value: bigint; aligned: boolean };

const mutationArb = fc.record({
  region: fc.nat(),
  position: fc.nat(),
  width: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8),
  value: fc.oneof(fc.constantFrom(...INTERESTING), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  aligned: fc.boolean(),
});

const caseArb = fc.record({
  base: fc.nat(),
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 4 }),
  // Truncation in about a third of the cases, anywhere in the file.
  truncateAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }),
});

function mutate(base: Base, mutations: Mutation[], truncateAt: number | null): Uint8Array {
  const bytes = base.bytes.slice();
  const view = new DataView(bytes.buffer);
  for (const m of mutations) {
    const [start, length] = base.regions[m.region % base.regions.length]!;
    let at = start + (m.position % Math.max(1, length));
    if (m.aligned) at -= (at - start) % m.width;
    if (at + m.width > bytes.length) continue;
    const value = BigInt.asUintN(m.width * 8, m.value);
    if (m.width === 1) view.setUint8(at, Number(value));
    else if (m.width === 2) view.setUint16(at, Number(value), true);
    else if (m.width === 4) view.setUint32(at, Number(value), true);
    else view.setBigUint64(at, value, true);
  }
  return truncateAt === null ? bytes : bytes.subarray(0, Math.floor(truncateAt * bytes.length));
}

/** Parse and exercise every look-up the rest of the tool uses. */
function exercise(bytes: Uint8Array): void {
  const elf = ElfFile.parse(bytes);
  const someSymbols = [...elf.symbols.slice(0, 40), ...elf.dynamicSymbols.slice(0, 40)];
  for (const s of someSymbols) {
    elf.demangledName(s);
    elf.functionContaining(s.value);
    elf.exportedSymbols(s.name);
    elf.offsetOf(s.value, s.size);
    if (s.size > 0n && s.size < 4096n && elf.offsetOf(s.value, s.size) !== undefined) elf.read(s.value, Number(s.size));
  }
  elf.findSymbols('main');
  elf.findSymbols('need_fix_func()');
  elf.findSymbols('ns::Foo::bar');
  elf.symbolsAt(elf.header.entry);
  elf.sectionAt(elf.header.entry);
  elf.segmentAt(elf.header.entry);
  elf.addressOf(0);
  elf.frameRanges();
  elf.pltStubs();
  void elf.relativeRelocationAddresses;
  try {
    elf.read(elf.header.entry, 16);
  } catch (error) {
    if (!(error instanceof ElfError)) throw error;
  }
}

describe('fuzzed ELF files', () => {
  const bases: Base[] = [];
  beforeAll(async () => {
    await initDemangler();
    for (const path of corpusElfFiles()) {
      const bytes = readBytes(path);
      try {
        const regions = regionsOf(bytes);
        bases.push({ bytes, regions });
        // The same file read through its dynamic segment only, as ld.so sees it.
        bases.push({ bytes: withoutSectionHeaders(bytes), regions: regions.filter(([start]) => start !== ElfFile.parse(bytes).header.sectionHeaderOffset) });
      } catch (error) {
        if (!(error instanceof ElfError)) throw error; // corpus/bad-input: not a base
      }
    }
  });

  it(`only ever throws ElfError, each case under ${CASE_TIME_LIMIT_MS} ms (${RUNS} seeded cases)`, () => {
    expect(bases.length).toBeGreaterThan(0);
    let rejected = 0;
    let slowest = 0;
    fc.assert(
      fc.property(caseArb, ({ base, mutations, truncateAt }) => {
        const input = mutate(bases[base % bases.length]!, mutations, truncateAt);
        const started = performance.now();
        try {
          exercise(input);
        } catch (error) {
          if (!(error instanceof ElfError)) throw error;
          expect(error.message.length).toBeGreaterThan(10);
          rejected++;
        }
        const elapsed = performance.now() - started;
        slowest = Math.max(slowest, elapsed);
        expect(elapsed).toBeLessThan(CASE_TIME_LIMIT_MS);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Both outcomes must occur, or the mutations are too weak (or too destructive) to test anything.
    expect(rejected).toBeGreaterThan(RUNS / 10);
    expect(rejected).toBeLessThan(RUNS);
    console.log(`elf fuzz: ${RUNS} cases, ${rejected} rejected with ElfError, slowest ${slowest.toFixed(1)} ms`);
  });
});
