// The printf format engine: glibc's conversions, flags, width/precision (incl. `*`) and
// length modifiers, producing bytes. Floating point is converted from the exact binary value
// with round-half-even, as glibc does (JavaScript's toFixed rounds ties up: 2.5 -> "3").
// Pure: arguments come from a VarArgSource, so it serves printf, va_list and the tests alike.

import { LoaderError } from './error.js';

/** Where the variadic arguments come from (registers/stack per the SysV ABI, or a va_list). */
export interface VarArgSource {
  /** The next INTEGER-class argument as 64 raw bits. */
  int(): bigint;
  /** The next SSE-class argument: the raw bits of a double (keeps the sign of a NaN). */
  doubleBits(): bigint;
}

export interface FormatHooks {
  /** Bytes of the NUL-terminated string at a guest address. */
  readString(address: bigint): Uint8Array;
  /** Text of strerror(errno) for %m. */
  errnoText?(): string;
}

const enc = new TextEncoder();
/** The most one printf call may format (bytes); a width or precision beyond it is refused. */
export const MAX_FORMATTED = 16 << 20;

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  precision: number | undefined;
  length: '' | 'hh' | 'h' | 'l' | 'll' | 'L' | 'j' | 'z' | 't';
}

/** Formats `format` (bytes, without NUL) like glibc's printf. */
export function formatPrintf(format: Uint8Array, args: VarArgSource, hooks: FormatHooks): Uint8Array {
  const out: number[] = [];
  const push = (bytes: Uint8Array | string): void => {
    const b = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
    for (const x of b) out.push(x);
  };
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== 0x25 /* % */) {
      out.push(c);
      i++;
      continue;
    }
    const start = i;
    i++;
    const spec: Spec = { minus: false, plus: false, space: false, alt: false, zero: false, width: 0, precision: undefined, length: '' };
    for (;;) {
      const f = String.fromCharCode(format[i] ?? 0);
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === ' ') spec.space = true;
      else if (f === '#') spec.alt = true;
      else if (f === '0') spec.zero = true;
      else if (f === "'") { /* grouping: the C locale has none */ }
      else break;
      i++;
    }
    if (format[i] === 0x2a /* * */) {
      const w = Number(BigInt.asIntN(32, args.int()));
      if (w < 0) {
        spec.minus = true;
        spec.width = -w;
      } else spec.width = w;
      i++;
    } else {
      while (isDigit(format[i])) spec.width = spec.width * 10 + (format[i++]! - 0x30);
    }
    if (format[i] === 0x2e /* . */) {
      i++;
      if (format[i] === 0x2a) {
        const p = Number(BigInt.asIntN(32, args.int()));
        spec.precision = p < 0 ? undefined : p;
        i++;
      } else {
        let p = 0;
        while (isDigit(format[i])) p = p * 10 + (format[i++]! - 0x30);
        spec.precision = p;
      }
    }
    const l0 = String.fromCharCode(format[i] ?? 0);
    const l1 = String.fromCharCode(format[i + 1] ?? 0);
    if ((l0 === 'h' || l0 === 'l') && l1 === l0) {
      spec.length = (l0 + l1) as Spec['length'];
      i += 2;
    } else if (l0 === 'h' || l0 === 'l' || l0 === 'L' || l0 === 'j' || l0 === 'z' || l0 === 't') {
      spec.length = l0;
      i++;
    } else if (l0 === 'q') {
      spec.length = 'll';
      i++;
    }
    const conv = String.fromCharCode(format[i] ?? 0);
    i++;
    // A width or precision is work and memory on the host: refused beyond what any real output needs.
    if (spec.width > MAX_FORMATTED || (conv !== 's' && (spec.precision ?? 0) > MAX_FORMATTED)) {
      const what = spec.width > MAX_FORMATTED ? `width ${spec.width}` : `precision ${spec.precision}`;
      throw new LoaderError('limit', `printf: the conversion %${conv} with ${what} would format more than the sandbox's ${MAX_FORMATTED >> 20} MiB per call`);
    }
    switch (conv) {
      case '%':
        out.push(0x25);
        break;
      case 'd':
      case 'i':
        push(pad(formatSigned(narrow(args.int(), spec.length, true), spec), spec));
        break;
      case 'u':
      case 'x':
      case 'X':
      case 'o':
        push(pad(formatUnsigned(narrow(args.int(), spec.length, false), conv, spec), spec));
        break;
      case 'c':
        push(pad(Uint8Array.of(Number(args.int() & 0xffn)), spec));
        break;
      case 's': {
        if (spec.length === 'l') throw new LoaderError('unsupported', 'printf: %ls (wide strings) is not supported by the sandbox');
        const ptr = args.int();
        let s: Uint8Array;
        if (ptr === 0n) s = spec.precision === undefined || spec.precision >= 6 ? enc.encode('(null)') : new Uint8Array(0);
        else s = hooks.readString(ptr);
        if (spec.precision !== undefined && s.length > spec.precision) s = s.subarray(0, spec.precision);
        push(pad(s, spec));
        break;
      }
      case 'p': {
        const ptr = BigInt.asUintN(64, args.int());
        if (ptr === 0n) push(pad(enc.encode('(nil)'), spec));
        else push(pad(formatUnsigned(ptr, 'x', { ...spec, alt: true }), spec));
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (spec.length === 'L') throw new LoaderError('unsupported', 'printf: long double (%L...) is not supported by the sandbox');
        push(pad(formatFloat(args.doubleBits(), conv, spec), spec));
        break;
      case 'm':
        push(pad(enc.encode(hooks.errnoText?.() ?? 'Success'), spec));
        break;
      case 'n':
        // Writing through %n is how format-string exploits work; the corpus never needs it.
        throw new LoaderError('unsupported', 'printf: %n is not supported by the sandbox');
      default:
        // glibc prints an unknown conversion verbatim.
        push(format.subarray(start, i));
    }
    if (out.length > MAX_FORMATTED) throw new LoaderError('limit', `printf: the output exceeds the sandbox's ${MAX_FORMATTED >> 20} MiB per call`);
  }
  return Uint8Array.from(out);
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function narrow(raw: bigint, length: Spec['length'], signed: boolean): bigint {
  const bits = length === 'hh' ? 8 : length === 'h' ? 16 : length === '' ? 32 : 64;
  return signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
}

/** A formatted number split into sign/prefix and digits, so zero padding goes between them. */
interface NumberText {
  prefix: string;
  body: string;
  /** The 0 flag applies: not for integers with a precision, nor for inf/nan. */
  zeroPadAllowed: boolean;
}

function formatSigned(value: bigint, spec: Spec): NumberText {
  const negative = value < 0n;
  const digits = applyIntPrecision((negative ? -value : value).toString(10), value === 0n, spec);
  const prefix = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return { prefix, body: digits, zeroPadAllowed: spec.precision === undefined };
}

function formatUnsigned(value: bigint, conv: string, spec: Spec): NumberText {
  const radix = conv === 'o' ? 8 : conv === 'u' ? 10 : 16;
  let digits = applyIntPrecision(value.toString(radix), value === 0n, spec);
  if (conv === 'X') digits = digits.toUpperCase();
  let prefix = '';
  if (spec.alt && value !== 0n && (conv === 'x' || conv === 'X')) prefix = conv === 'x' ? '0x' : '0X';
  if (spec.alt && conv === 'o' && !digits.startsWith('0')) digits = '0' + digits;
  return { prefix, body: digits, zeroPadAllowed: spec.precision === undefined };
}

function applyIntPrecision(digits: string, isZero: boolean, spec: Spec): string {
  if (spec.precision === undefined) return digits;
  if (spec.precision === 0 && isZero) return '';
  return digits.padStart(spec.precision, '0');
}

function pad(text: NumberText | Uint8Array, spec: Spec): Uint8Array {
  if (text instanceof Uint8Array) {
    if (text.length >= spec.width) return text;
    const fill = new Uint8Array(spec.width - text.length).fill(0x20);
    return spec.minus ? concat(text, fill) : concat(fill, text);
  }
  const len = text.prefix.length + text.body.length;
  if (len >= spec.width) return enc.encode(text.prefix + text.body);
  const gap = spec.width - len;
  if (spec.minus) return enc.encode(text.prefix + text.body + ' '.repeat(gap));
  if (spec.zero && text.zeroPadAllowed) return enc.encode(text.prefix + '0'.repeat(gap) + text.body);
  return enc.encode(' '.repeat(gap) + text.prefix + text.body);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
}

/** The exact value of a finite double as digits * 10^-scale. */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  if (e >= 0) return { digits: mant << BigInt(e), scale: 0 };
  return { digits: mant * 5n ** BigInt(-e), scale: -e };
}

/** Rounds n / 10^drop to an integer, ties to even. */
function roundDiv(n: bigint, drop: number): bigint {
  if (drop <= 0) return n * 10n ** BigInt(-drop);
  const d = 10n ** BigInt(drop);
  const q = n / d;
  const r = n % d;
  const twice = r * 2n;
  if (twice > d || (twice === d && q % 2n === 1n)) return q + 1n;
  return q;
}

function fixedDigits(abs: number, precision: number): string {
  const { digits, scale } = exactDecimal(abs);
  const n = roundDiv(digits, scale - precision).toString().padStart(precision + 1, '0');
  if (precision === 0) return n;
  return `${n.slice(0, n.length - precision)}.${n.slice(n.length - precision)}`;
}

/** Mantissa digits (precision+1 of them) and decimal exponent, rounded half-even. */
function scientificParts(abs: number, precision: number): { mantissa: string; exponent: number } {
  if (abs === 0) return { mantissa: '0'.repeat(precision + 1), exponent: 0 };
  const { digits, scale } = exactDecimal(abs);
  const s = digits.toString();
  let exponent = s.length - 1 - scale;
  let m = roundDiv(digits, s.length - (precision + 1)).toString();
  if (m.length > precision + 1) {
    m = m.slice(0, precision + 1);
    exponent += 1;
  }
  return { mantissa: m, exponent };
}

export function doubleFromBits(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt.asUintN(64, bits), true);
  return view.getFloat64(0, true);
}

export function bitsFromDouble(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return view.getBigUint64(0, true);
}

function formatFloat(bits: bigint, conv: string, spec: Spec): NumberText {
  const x = doubleFromBits(bits);
  const upper = conv === 'F' || conv === 'E' || conv === 'G';
  const negative = (BigInt.asUintN(64, bits) >> 63n) === 1n;
  const prefix = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  const abs = Math.abs(x);
  let body: string;
  if (!Number.isFinite(abs)) {
    body = Number.isNaN(abs) ? 'nan' : 'inf';
    if (upper) body = body.toUpperCase();
    return { prefix, body, zeroPadAllowed: false };
  }
  const precision = spec.precision ?? 6;
  const lower = conv.toLowerCase();
  if (lower === 'f') {
    body = fixedDigits(abs, precision);
    if (spec.alt && precision === 0) body += '.';
  } else if (lower === 'e') {
    body = scientific(abs, precision, spec.alt);
  } else {
    const p = precision === 0 ? 1 : precision;
    const { exponent } = scientificParts(abs, p - 1);
    if (p > exponent && exponent >= -4) body = fixedDigits(abs, p - 1 - exponent);
    else body = scientific(abs, p - 1, spec.alt);
    if (!spec.alt) body = stripTrailingZeros(body);
    else if (!body.includes('.')) body = body.replace(/(e|$)/, '.$1');
  }
  if (upper) body = body.toUpperCase();
  return { prefix, body, zeroPadAllowed: true };
}

function scientific(abs: number, precision: number, alt: boolean): string {
  const { mantissa, exponent } = scientificParts(abs, precision);
  let text = mantissa.slice(0, 1);
  if (precision > 0 || alt) text += '.';
  text += mantissa.slice(1);
  const expAbs = Math.abs(exponent).toString().padStart(2, '0');
  return `${text}e${exponent < 0 ? '-' : '+'}${expAbs}`;
}

function stripTrailingZeros(text: string): string {
  const e = text.indexOf('e');
  const mant = e >= 0 ? text.slice(0, e) : text;
  const rest = e >= 0 ? text.slice(e) : '';
  if (!mant.includes('.')) return text;
  return mant.replace(/0+$/, '').replace(/\.$/, '') + rest;
}
