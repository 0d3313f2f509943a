// The printf format engine against the machine's own glibc printf, on a table of formats.
import { describe, expect, it } from 'vitest';
import { bitsFromDouble, formatPrintf, type VarArgSource } from '../../src/loader/printf.js';
import { compileC, hasGcc, runNative, tempDir } from './native.js';

type Arg = { i: bigint } | { d: number } | { bits: bigint } | { s: string };

// Each row: format, and the C argument list (as C source) with the same values for the sandbox.
const rows: Array<[string, string, Arg[]]> = [
  ['%d|%i|%u', '-42, 17, 4000000000u', [{ i: -42n }, { i: 17n }, { i: 4000000000n }]],
  ['%5d|%-5d|%05d|%+d|% d', '42, 42, -42, 7, 7', [{ i: 42n }, { i: 42n }, { i: -42n }, { i: 7n }, { i: 7n }]],
  ['%x|%X|%#x|%#o|%o', '255, 255, 255, 8, 0', [{ i: 255n }, { i: 255n }, { i: 255n }, { i: 8n }, { i: 0n }]],
  ['%.3d|%.0d|%8.3x|%-#10x|', '5, 0, 10, 255', [{ i: 5n }, { i: 0n }, { i: 10n }, { i: 255n }]],
  ['%ld|%lu|%lld|%zu|%lx', '-1L, 18446744073709551615UL, -9223372036854775807LL, (size_t)123, 0xdeadbeefcafeL',
    [{ i: -1n }, { i: 18446744073709551615n }, { i: -9223372036854775807n }, { i: 123n }, { i: 0xdeadbeefcafen }]],
  ['%hhd|%hd|%hhu', '300, 70000, -1', [{ i: 300n }, { i: 70000n }, { i: -1n }]],
  ['%c%c|%5c|%-3c|', "'o', 'k', 'x', 'y'", [{ i: 111n }, { i: 107n }, { i: 120n }, { i: 121n }]],
  ['%s|%10s|%-10s|%.2s|%*s|%-*.*s|', '"abc", "abc", "abc", "abc", 6, "ab", 6, 2, "xyz"',
    [{ s: 'abc' }, { s: 'abc' }, { s: 'abc' }, { s: 'abc' }, { i: 6n }, { s: 'ab' }, { i: 6n }, { i: 2n }, { s: 'xyz' }]],
  ['%p|%p|%20p|', '(void*)0x1234, (void*)0, (void*)0x5555', [{ i: 0x1234n }, { i: 0n }, { i: 0x5555n }]],
  ['%f|%.2f|%10.3f|%-10.1f|%010.2f|%+.0f', '3.14159, 0.125, -2.5, 1.05, -3.5, 2.5',
    [{ d: 3.14159 }, { d: 0.125 }, { d: -2.5 }, { d: 1.05 }, { d: -3.5 }, { d: 2.5 }]],
  ['%e|%.2e|%E|%.0e|%#.0e', '12345.678, 0.000123, 1e300, 5.5, 7.0',
    [{ d: 12345.678 }, { d: 0.000123 }, { d: 1e300 }, { d: 5.5 }, { d: 7 }]],
  ['%g|%g|%g|%g|%.3g|%#g|%G', '100000.0, 1000000.0, 0.0001, 0.00001, 3.14159, 1.0, 1e-10',
    [{ d: 100000 }, { d: 1000000 }, { d: 0.0001 }, { d: 0.00001 }, { d: 3.14159 }, { d: 1 }, { d: 1e-10 }]],
  ['%f|%f|%5.1f|%g', '1.0/0.0, -1.0/0.0, 0.0/0.0, 0.0', [{ d: Infinity }, { d: -Infinity }, { bits: 0xfff8000000000000n /* x86's default NaN from 0.0/0.0 */ }, { d: 0 }]],
  ['%.10f|%.20f|%f', '0.1, 1.0/3.0, 1e20', [{ d: 0.1 }, { d: 1 / 3 }, { d: 1e20 }]],
  ['%%|%5%|%d%%', '50', [{ i: 50n }]],
];

function source(args: Arg[]): VarArgSource {
  const ints: bigint[] = [];
  const doubles: bigint[] = [];
  const strings = new Map<bigint, string>();
  let next = 0x1000n;
  for (const a of args) {
    if ('i' in a) ints.push(a.i);
    else if ('d' in a) doubles.push(bitsFromDouble(a.d));
    else if ('bits' in a) doubles.push(a.bits);
    else {
      strings.set(next, a.s);
      ints.push(next);
      next += 0x100n;
    }
  }
  (source as unknown as { strings: Map<bigint, string> }).strings = strings;
  return { int: () => ints.shift() ?? 0n, doubleBits: () => doubles.shift() ?? 0n };
}

describe('printf format engine', () => {
  it.skipIf(!hasGcc)('matches glibc printf on a table of formats', () => {
    const dir = tempDir('printf');
    const body = rows.map(([f, cargs]) => `  printf(${JSON.stringify(f + '\n')}, ${cargs});`).join('\n');
    const exe = compileC(dir, 'fmt', `#include <stdio.h>\n#include <stddef.h>\nint main(void) {\n${body}\n  return 0;\n}\n`, ['-w', '-O0']);
    const native = runNative(exe, [], dir).stdout.split('\n');
    const dec = new TextDecoder();
    rows.forEach(([f, , args], n) => {
      const src = source(args);
      const strings = (source as unknown as { strings: Map<bigint, string> }).strings;
      const got = dec.decode(formatPrintf(new TextEncoder().encode(f), src, {
        readString: (p) => new TextEncoder().encode(strings.get(p) ?? '?'),
      }));
      expect(got, `format ${f}`).toBe(native[n]);
    });
  });
});
