// The .debug_line reader against readelf --debug-dump=decodedline: every row (file, line,
// address, is_stmt, end of sequence) of DWARF 4 and DWARF 5 builds, C and C++, made with the
// machine's gcc here and the committed -g fixtures; then address -> file:line look-ups
// against addr2line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfError, ElfFile } from '../../src/elf/index.js';
import { LineTable, readLineRows } from '../../src/elf/dwarf-line.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/debug-lines');
const work = mkdtempSync(join(tmpdir(), 'dwarf-line-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface OracleRow {
  file: string;
  line: number | null;
  address: bigint;
  isStmt: boolean;
}

/** readelf's decoded rows: "name  line|-  0xaddr  [view]  [x]". */
function readelfRows(path: string): OracleRow[] {
  const text = execFileSync('readelf', ['-W', '--debug-dump=decodedline', path], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
  const rows: OracleRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(?:\s+(\d+))?(?:\s+(x))?\s*$/.exec(line);
    if (!m) continue;
    rows.push({ file: m[1]!, line: m[2] === '-' ? null : Number(m[2]), address: BigInt(m[3]!), isStmt: m[5] === 'x' });
  }
  return rows;
}

function ourRows(path: string): OracleRow[] {
  const table = LineTable.fromElf(ElfFile.parse(new Uint8Array(readFileSync(path))));
  return table.rows.map((r) => ({
    file: r.file.slice(r.file.lastIndexOf('/') + 1),
    line: r.endSequence ? null : r.line,
    address: r.address,
    // readelf prints no stmt mark on end-of-sequence rows.
    isStmt: r.endSequence ? false : r.isStmt,
  }));
}

const C_SOURCE = `#include <stdio.h>
#include "helper.h"
static int table[64];
__attribute__((noinline)) int walk(int n) {
  int s = 0;
  for (int i = 0; i < n; i++)
    s += twice(table[i & 63]) + i;
  return s;
}
int main(int argc, char **argv) {
  (void)argv;
  printf("%d\\n", walk(argc * 10));
  return 0;
}
`;
const C_HEADER = 'static inline int twice(int x) {\n  return x * 2;\n}\n';
const CXX_SOURCE = `#include <vector>
#include <string>
#include <cstdio>
struct Shape { virtual ~Shape() {} virtual int area() const = 0; };
struct Square : Shape { int s; explicit Square(int s) : s(s) {} int area() const override { return s * s; } };
int total(const std::vector<Shape *> &v) { int t = 0; for (auto *p : v) t += p->area(); return t; }
int main(int argc, char **) {
  std::vector<Shape *> v;
  for (int i = 0; i < argc + 3; i++) v.push_back(new Square(i));
  std::string name = "total";
  std::printf("%s %d\\n", name.c_str(), total(v));
  for (auto *p : v) delete p;
}
`;

function build(name: string, compiler: string, source: string, flags: string[]): string {
  const src = join(work, `${name}.${compiler === 'g++' ? 'cc' : 'c'}`);
  writeFileSync(src, source);
  writeFileSync(join(work, 'helper.h'), C_HEADER);
  const out = join(work, name);
  execFileSync(compiler, [...flags, '-I', work, src, '-o', out], { cwd: work });
  return out;
}

const BUILT = {
  'C, DWARF 4, -O2': () => build('c-dwarf4', 'gcc', C_SOURCE, ['-O2', '-gdwarf-4']),
  'C, DWARF 5, -O2': () => build('c-dwarf5', 'gcc', C_SOURCE, ['-O2', '-gdwarf-5']),
  'C, DWARF 5, -O0 -fPIE': () => build('c-dwarf5-o0', 'gcc', C_SOURCE, ['-O0', '-fPIE', '-pie', '-gdwarf-5']),
  'C++, DWARF 4, -O2': () => build('cxx-dwarf4', 'g++', CXX_SOURCE, ['-O2', '-gdwarf-4']),
  'C++, DWARF 5, -O1 shared': () => build('cxx-dwarf5.so', 'g++', CXX_SOURCE, ['-O1', '-fpic', '-shared', '-gdwarf-5']),
  'fixture loop-head/main (DWARF 5)': () => join(FIXTURES, 'loop-head/main'),
  'fixture loop-head/patch.so (DWARF 5)': () => join(FIXTURES, 'loop-head/patch.so'),
  'fixture call-in-prologue/main (DWARF 4)': () => join(FIXTURES, 'call-in-prologue/main'),
};

describe('.debug_line rows = readelf --debug-dump=decodedline', () => {
  for (const [name, make] of Object.entries(BUILT)) {
    it(name, () => {
      const path = make();
      const oracle = readelfRows(path);
      expect(oracle.length).toBeGreaterThan(10);
      expect(ourRows(path)).toEqual(oracle);
    });
  }
});

describe('address -> file:line = addr2line', () => {
  for (const name of ['C, DWARF 4, -O2', 'C++, DWARF 5, -O1 shared', 'fixture loop-head/main (DWARF 5)', 'fixture call-in-prologue/main (DWARF 4)']) {
    it(name, () => {
      const path = BUILT[name as keyof typeof BUILT]();
      const table = LineTable.fromElf(ElfFile.parse(new Uint8Array(readFileSync(path))));
      // Every row address and a byte inside each row's range.
      const addresses = [...new Set(table.rows.filter((r) => !r.endSequence).flatMap((r) => [r.address, r.address + 1n]))].slice(0, 400);
      const answers = execFileSync('addr2line', ['-e', path, ...addresses.map((a) => `0x${a.toString(16)}`)], { encoding: 'utf8' }).trim().split('\n');
      let compared = 0;
      for (const [i, address] of addresses.entries()) {
        const m = /^(.*):(\d+)(?: \(discriminator \d+\))?$/.exec(answers[i]!);
        const ours = table.lookup(address);
        if (!m || m[2] === '0') {
          expect(ours, `${address.toString(16)}: addr2line says ${answers[i]}`).toBeUndefined();
          continue;
        }
        expect(ours && { file: ours.file.slice(ours.file.lastIndexOf('/') + 1), line: ours.line }, `0x${address.toString(16)}`).toEqual({ file: m[1]!.slice(m[1]!.lastIndexOf('/') + 1), line: Number(m[2]) });
        compared++;
      }
      expect(compared).toBeGreaterThan(20);
    });
  }

  it('the fixture names the source as the repository holds it', () => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(join(FIXTURES, 'loop-head/main'))));
    const total = elf.symbolsNamed('total_amount')[0]!;
    expect(LineTable.fromElf(elf).lookup(total.value)).toMatchObject({ file: 'corpus/loop-head/target.c', line: 9 });
  });
});

describe('damaged line tables are ElfErrors', () => {
  const good = (): Uint8Array => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(join(FIXTURES, 'call-in-prologue/main'))));
    const s = elf.sectionNamed('.debug_line')!;
    return elf.bytes.slice(s.offset, s.offset + Number(s.size));
  };
  it('a unit longer than the section', () => {
    const bytes = good().slice(0, 100);
    expect(() => readLineRows(bytes)).toThrow(ElfError);
    expect(() => readLineRows(bytes)).toThrow(/runs past the section's end/);
  });
  it('an unknown version', () => {
    const bytes = good();
    bytes[4] = 9;
    expect(() => readLineRows(bytes)).toThrow(/line table version 9/);
  });
  it('compressed debug sections (-gz): an ElfError saying so, not garbage rows', () => {
    const path = build('c-gz', 'gcc', C_SOURCE, ['-O2', '-g', '-gz=zlib']);
    expect(() => LineTable.fromElf(ElfFile.parse(new Uint8Array(readFileSync(path))))).toThrow(/compressed debug sections \(-gz\)/);
  });
  it('no .debug_line: an empty table', () => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(join(import.meta.dirname, '../../corpus/loop-head/main'))));
    expect(LineTable.fromElf(elf).isEmpty).toBe(true);
  });
});
