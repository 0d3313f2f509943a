// string.h and the _FORTIFY_SOURCE checked variants. Guest memory access obeys page
// permissions, so memcpy over a read-only code page faults as it does natively.

import { strerror } from '../kernel/errno.js';
import { byteCount, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

const enc = new TextEncoder();

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'string', summary, run };
}

function copy(c: StubCall, dest: bigint, src: bigint, n: bigint): StubOutcome {
  if (n > 0n) c.libc.copy(dest, src, byteCount(n));
  return ret(dest);
}

/** __*_chk: glibc aborts with "*** buffer overflow detected ***" when n exceeds the object size. */
function checked(c: StubCall, n: bigint, destlen: bigint, then: () => StubOutcome): StubOutcome {
  if (n > destlen) {
    c.libc.output(2, enc.encode('*** buffer overflow detected ***: terminated\n'));
    return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: 'buffer overflow detected (_FORTIFY_SOURCE)' };
  }
  return then();
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function strAt(c: StubCall, s: bigint): Uint8Array {
  return c.libc.cstring(s);
}

/** Address of the first byte `ch` (or the terminator when ch is 0) in s, or 0. */
function find(c: StubCall, s: bigint, ch: number, last: boolean): StubOutcome {
  const bytes = strAt(c, s);
  if (ch === 0) return ret(s + BigInt(bytes.length));
  const i = last ? bytes.lastIndexOf(ch) : bytes.indexOf(ch);
  return ret(i < 0 ? 0n : s + BigInt(i));
}

export const STRING_STUBS: StubDefinition[] = [
  def('memcpy', 'memcpy(dest, src, n)', (c) => copy(c, c.arg(0), c.arg(1), c.arg(2))),
  def('__memcpy_chk', 'memcpy with destination size check', (c) => checked(c, c.arg(2), c.arg(3), () => copy(c, c.arg(0), c.arg(1), c.arg(2)))),
  def('memmove', 'memmove(dest, src, n)', (c) => copy(c, c.arg(0), c.arg(1), c.arg(2))),
  def('__memmove_chk', 'memmove with destination size check', (c) => checked(c, c.arg(2), c.arg(3), () => copy(c, c.arg(0), c.arg(1), c.arg(2)))),
  def('mempcpy', 'mempcpy(dest, src, n)', (c) => {
    copy(c, c.arg(0), c.arg(1), c.arg(2));
    return ret(c.arg(0) + c.arg(2));
  }),
  def('memset', 'memset(s, c, n)', (c) => {
    const n = byteCount(c.arg(2));
    if (n > 0) c.libc.fill(c.arg(0), Number(c.arg(1) & 0xffn), n);
    return ret(c.arg(0));
  }),
  def('__memset_chk', 'memset with destination size check', (c) => checked(c, c.arg(2), c.arg(3), () => {
    const n = byteCount(c.arg(2));
    if (n > 0) c.libc.fill(c.arg(0), Number(c.arg(1) & 0xffn), n);
    return ret(c.arg(0));
  })),
  def('memcmp', 'memcmp(a, b, n)', (c) => {
    const n = Number(c.arg(2));
    return ret(Math.sign(compare(c.libc.read(c.arg(0), n), c.libc.read(c.arg(1), n))));
  }),
  def('memchr', 'memchr(s, c, n)', (c) => {
    const bytes = c.libc.read(c.arg(0), Number(c.arg(2)));
    const i = bytes.indexOf(Number(c.arg(1) & 0xffn));
    return ret(i < 0 ? 0n : c.arg(0) + BigInt(i));
  }),
  def('strlen', 'strlen(s)', (c) => ret(strAt(c, c.arg(0)).length)),
  def('strnlen', 'strnlen(s, max)', (c) => ret(Math.min(strAt(c, c.arg(0)).length, Number(c.arg(1))))),
  def('strcmp', 'strcmp(a, b)', (c) => ret(compare(strAt(c, c.arg(0)), strAt(c, c.arg(1))))),
  def('strncmp', 'strncmp(a, b, n)', (c) => {
    const n = Number(c.arg(2));
    return ret(compare(strAt(c, c.arg(0)).subarray(0, n), strAt(c, c.arg(1)).subarray(0, n)));
  }),
  def('strcpy', 'strcpy(dest, src)', (c) => {
    c.libc.write(c.arg(0), Uint8Array.from([...strAt(c, c.arg(1)), 0]));
    return ret(c.arg(0));
  }),
  def('__strcpy_chk', 'strcpy with destination size check', (c) => {
    const s = strAt(c, c.arg(1));
    return checked(c, BigInt(s.length + 1), c.arg(2), () => {
      c.libc.write(c.arg(0), Uint8Array.from([...s, 0]));
      return ret(c.arg(0));
    });
  }),
  def('strncpy', 'strncpy(dest, src, n): pads with NULs', (c) => {
    const n = Number(c.arg(2));
    const out = new Uint8Array(n);
    out.set(strAt(c, c.arg(1)).subarray(0, n));
    c.libc.write(c.arg(0), out);
    return ret(c.arg(0));
  }),
  def('strcat', 'strcat(dest, src)', (c) => {
    const end = c.arg(0) + BigInt(strAt(c, c.arg(0)).length);
    c.libc.write(end, Uint8Array.from([...strAt(c, c.arg(1)), 0]));
    return ret(c.arg(0));
  }),
  def('strchr', 'strchr(s, c)', (c) => find(c, c.arg(0), Number(c.arg(1) & 0xffn), false)),
  def('strrchr', 'strrchr(s, c)', (c) => find(c, c.arg(0), Number(c.arg(1) & 0xffn), true)),
  def('strstr', 'strstr(haystack, needle)', (c) => {
    const h = indexOfBytes(strAt(c, c.arg(0)), strAt(c, c.arg(1)));
    return ret(h < 0 ? 0n : c.arg(0) + BigInt(h));
  }),
  def('strdup', 'strdup(s) on the guest heap', (c) => {
    const s = strAt(c, c.arg(0));
    const p = c.libc.heap.malloc(BigInt(s.length + 1));
    if (p !== 0n) c.libc.write(p, Uint8Array.from([...s, 0]));
    return ret(p);
  }),
  def('strerror', 'strerror(errnum): glibc texts', (c) => {
    c.libc.write(c.libc.strerrorBuffer, Uint8Array.from([...enc.encode(strerror(Number(BigInt.asIntN(32, c.arg(0))))), 0]));
    return ret(c.libc.strerrorBuffer);
  }),
];

function indexOfBytes(h: Uint8Array, n: Uint8Array): number {
  outer: for (let i = 0; i + n.length <= h.length; i++) {
    for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}
