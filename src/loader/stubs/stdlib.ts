// stdlib: the allocator (on the guest heap), number parsing, getenv.

import { EINVAL, ENOMEM, ERANGE } from '../kernel/errno.js';
import { FPE_INTDIV, SIGFPE } from '../kernel/signals.js';
import { fail, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'stdlib', summary, run };
}

function malloc(c: StubCall, size: bigint, align = 16n): StubOutcome {
  const p = c.libc.heap.malloc(size, align);
  if (p === 0n) c.libc.setErrno(ENOMEM);
  return ret(p);
}

/** free()'s misuse ends the process as glibc's malloc_printerr does (SIGABRT). */
function free(c: StubCall, ptr: bigint): StubOutcome {
  const misuse = c.libc.heap.release(ptr);
  if (!misuse) return ret(0);
  c.libc.output(2, new TextEncoder().encode(`${misuse}\n`));
  return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: misuse };
}

/** strtol family: whitespace, sign, base prefixes, saturation with ERANGE, *endptr. */
function strtol(c: StubCall, signed: boolean): StubOutcome {
  const text = c.libc.cstring(c.arg(0));
  const endptr = c.arg(1);
  let base = i32(c.arg(2));
  if (base !== 0 && (base < 2 || base > 36)) return fail(c, EINVAL);
  let i = 0;
  while (i < text.length && (text[i] === 0x20 || (text[i]! >= 9 && text[i]! <= 13))) i++;
  let negative = false;
  if (text[i] === 0x2b || text[i] === 0x2d) negative = text[i++] === 0x2d;
  if ((base === 0 || base === 16) && text[i] === 0x30 && (text[i + 1] === 0x78 || text[i + 1] === 0x58) && digit(text[i + 2], 16) >= 0) {
    base = 16;
    i += 2;
  } else if (base === 0) base = text[i] === 0x30 ? 8 : 10;
  const start = i;
  let value = 0n;
  while (i < text.length && digit(text[i], base) >= 0) value = value * BigInt(base) + BigInt(digit(text[i++], base));
  const consumed = i > start;
  if (endptr !== 0n) c.libc.writeU64(endptr, c.arg(0) + BigInt(consumed ? i : 0));
  if (signed) {
    const max = (1n << 63n) - 1n;
    if (!negative && value > max) return (c.libc.setErrno(ERANGE), ret(max));
    if (negative && value > max + 1n) return (c.libc.setErrno(ERANGE), ret(-(max + 1n)));
    return ret(negative ? -value : value);
  }
  if (value > (1n << 64n) - 1n) return (c.libc.setErrno(ERANGE), ret((1n << 64n) - 1n));
  return ret(negative ? BigInt.asUintN(64, -value) : value);
}

function digit(ch: number | undefined, base: number): number {
  if (ch === undefined) return -1;
  let d = -1;
  if (ch >= 0x30 && ch <= 0x39) d = ch - 0x30;
  else if (ch >= 0x61 && ch <= 0x7a) d = ch - 0x61 + 10;
  else if (ch >= 0x41 && ch <= 0x5a) d = ch - 0x41 + 10;
  return d < base ? d : -1;
}

export const STDLIB_STUBS: StubDefinition[] = [
  def('malloc', 'malloc(size) on the guest heap', (c) => malloc(c, c.arg(0))),
  def('calloc', 'calloc(n, size): zeroed', (c) => {
    const size = c.arg(0) * c.arg(1);
    if (size >= 1n << 48n) return (c.libc.setErrno(ENOMEM), ret(0));
    const r = malloc(c, size);
    if (r.kind === 'return' && r.value !== 0n && size > 0n) c.libc.write(r.value, new Uint8Array(Number(size)));
    return r;
  }),
  def('realloc', 'realloc(ptr, size): moves and copies', (c) => {
    const old = c.arg(0);
    const size = c.arg(1);
    if (old === 0n) return malloc(c, size);
    const oldSize = c.libc.heap.usableSize(old);
    if (oldSize === undefined) return free(c, old);
    if (size === 0n) return free(c, old);
    if (size <= oldSize) return ret(old);
    const r = malloc(c, size);
    if (r.kind === 'return' && r.value !== 0n) {
      c.libc.copy(r.value, old, Number(oldSize));
      c.libc.heap.release(old);
    }
    return r;
  }),
  def('free', 'free(ptr): double free and foreign pointers abort like glibc', (c) => free(c, c.arg(0))),
  def('posix_memalign', 'posix_memalign(&p, align, size)', (c) => {
    const align = c.arg(1);
    if (align < 8n || (align & (align - 1n)) !== 0n) return ret(EINVAL);
    const p = c.libc.heap.malloc(c.arg(2), align < 16n ? 16n : align);
    if (p === 0n) return ret(ENOMEM);
    c.libc.writeU64(c.arg(0), p);
    return ret(0);
  }),
  def('aligned_alloc', 'aligned_alloc(align, size)', (c) => malloc(c, c.arg(1), c.arg(0) < 16n ? 16n : c.arg(0))),
  def('strtol', 'strtol(s, endptr, base)', (c) => strtol(c, true)),
  def('strtoll', 'strtoll(s, endptr, base)', (c) => strtol(c, true)),
  def('strtoul', 'strtoul(s, endptr, base)', (c) => strtol(c, false)),
  def('strtoull', 'strtoull(s, endptr, base)', (c) => strtol(c, false)),
  def('atoi', 'atoi(s)', (c) => {
    const r = strtolOf(c);
    return ret(BigInt.asIntN(32, r));
  }),
  def('atol', 'atol(s)', (c) => ret(strtolOf(c))),
  def('abs', 'abs(n)', (c) => ret(Math.abs(i32(c.arg(0))))),
  def('div', 'div(n, d): div_t {quot, rem} packed in rax; d = 0 or INT_MIN/-1 is SIGFPE (a handler does not run)', (c) => divide(c, 32)),
  def('ldiv', 'ldiv(n, d): ldiv_t {quot, rem} in rax:rdx; d = 0 or LONG_MIN/-1 is SIGFPE (a handler does not run)', (c) => divide(c, 64)),
  def('lldiv', 'lldiv(n, d): as ldiv', (c) => divide(c, 64)),
  def('imaxdiv', 'imaxdiv(n, d): as ldiv', (c) => divide(c, 64)),
  def('getenv', 'getenv(name): searches the guest environment', (c) => {
    const name = new TextDecoder().decode(c.libc.cstring(c.arg(0)));
    for (let p = c.libc.envp; ; p += 8n) {
      const entry = c.libc.u64(p);
      if (entry === 0n) return ret(0);
      const text = new TextDecoder().decode(c.libc.cstring(entry));
      if (text.startsWith(`${name}=`)) return ret(entry + BigInt(new TextEncoder().encode(name).length + 1));
    }
  }),
];

/**
 * div/ldiv: C's truncating division, as BigInt's. div_t's two ints are 8 bytes, returned in rax
 * (quot low, rem high); ldiv_t's two longs are 16 bytes, returned in rax:rdx. glibc divides with
 * idiv, which faults on a zero divisor and on the one overflowing quotient.
 */
function divide(c: StubCall, bits: 32 | 64): StubOutcome {
  const n = BigInt.asIntN(bits, c.arg(0));
  const d = BigInt.asIntN(bits, c.arg(1));
  if (d === 0n || (d === -1n && n === -(1n << BigInt(bits - 1)))) {
    return { kind: 'kill', info: { signo: SIGFPE, code: FPE_INTDIV }, reason: `${bits === 32 ? 'div' : 'ldiv'}(${n}, ${d}): integer division fault in libc` };
  }
  const quot = n / d;
  const rem = n % d;
  if (bits === 32) return ret(BigInt.asUintN(32, quot) | (BigInt.asUintN(32, rem) << 32n));
  return { kind: 'return', value: quot, rdx: rem };
}

function strtolOf(c: StubCall): bigint {
  const text = new TextDecoder().decode(c.libc.cstring(c.arg(0)));
  const m = /^[\s]*([+-]?\d+)/.exec(text);
  return m ? BigInt.asIntN(64, BigInt(m[1]!)) : 0n;
}
