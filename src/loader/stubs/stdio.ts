// stdio: the printf family (through the format engine), puts/fputs/fwrite and friends.
// Streams are unbuffered here: each call's bytes reach the captured output at once, which
// is the order a terminal shows for line-buffered stdout and unbuffered stderr.

import { EBADF, EINVAL, strerror } from '../kernel/errno.js';
import { formatPrintf, type VarArgSource } from '../printf.js';
import { workCost } from '../limits.js';
import { byteCount, fail, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

const enc = new TextEncoder();

function format(call: StubCall, fmt: bigint, args: VarArgSource): Uint8Array {
  const bytes = formatPrintf(call.libc.cstring(fmt), args, {
    readString: (p) => call.libc.cstring(p),
    errnoText: () => strerror(call.libc.errno()),
  });
  call.libc.charge(workCost(bytes.length));
  return bytes;
}

function toFile(call: StubCall, file: bigint, bytes: Uint8Array): StubOutcome {
  const fd = call.libc.streamFd(file);
  if (fd === undefined || !call.libc.output(fd, bytes)) return fail(call, EBADF);
  return ret(bytes.length);
}

function toFd(call: StubCall, fd: number, bytes: Uint8Array): StubOutcome {
  if (!call.libc.output(fd, bytes)) return fail(call, EBADF);
  return ret(bytes.length);
}

/** snprintf semantics: write at most size-1 bytes and a NUL, return the full length. */
function toBuffer(call: StubCall, dest: bigint, size: bigint | undefined, bytes: Uint8Array): StubOutcome {
  if (size === undefined) {
    call.libc.write(dest, Uint8Array.from([...bytes, 0]));
  } else if (size > 0n) {
    const n = Math.min(bytes.length, Number(size) - 1);
    const out = new Uint8Array(n + 1);
    out.set(bytes.subarray(0, n));
    call.libc.write(dest, out);
  }
  return ret(bytes.length);
}

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'stdio', summary, run };
}

export const STDIO_STUBS: StubDefinition[] = [
  def('printf', 'printf(fmt, ...) to stdout', (c) => toFd(c, 1, format(c, c.arg(0), c.varargs(1)))),
  def('__printf_chk', '_FORTIFY_SOURCE printf(flag, fmt, ...)', (c) => toFd(c, 1, format(c, c.arg(1), c.varargs(2)))),
  def('vprintf', 'vprintf(fmt, va_list)', (c) => toFd(c, 1, format(c, c.arg(0), c.vaList(c.arg(1))))),
  def('__vprintf_chk', '_FORTIFY_SOURCE vprintf(flag, fmt, va_list)', (c) => toFd(c, 1, format(c, c.arg(1), c.vaList(c.arg(2))))),
  def('fprintf', 'fprintf(FILE*, fmt, ...)', (c) => toFile(c, c.arg(0), format(c, c.arg(1), c.varargs(2)))),
  def('__fprintf_chk', '_FORTIFY_SOURCE fprintf(FILE*, flag, fmt, ...)', (c) => toFile(c, c.arg(0), format(c, c.arg(2), c.varargs(3)))),
  def('vfprintf', 'vfprintf(FILE*, fmt, va_list)', (c) => toFile(c, c.arg(0), format(c, c.arg(1), c.vaList(c.arg(2))))),
  def('__vfprintf_chk', '_FORTIFY_SOURCE vfprintf(FILE*, flag, fmt, va_list)', (c) => toFile(c, c.arg(0), format(c, c.arg(2), c.vaList(c.arg(3))))),
  def('dprintf', 'dprintf(fd, fmt, ...)', (c) => toFd(c, i32(c.arg(0)), format(c, c.arg(1), c.varargs(2)))),
  def('sprintf', 'sprintf(buf, fmt, ...)', (c) => toBuffer(c, c.arg(0), undefined, format(c, c.arg(1), c.varargs(2)))),
  def('__sprintf_chk', '_FORTIFY_SOURCE sprintf(buf, flag, buflen, fmt, ...)', (c) => toBuffer(c, c.arg(0), undefined, format(c, c.arg(3), c.varargs(4)))),
  def('snprintf', 'snprintf(buf, size, fmt, ...)', (c) => toBuffer(c, c.arg(0), c.arg(1), format(c, c.arg(2), c.varargs(3)))),
  def('__snprintf_chk', '_FORTIFY_SOURCE snprintf(buf, size, flag, buflen, fmt, ...)', (c) => toBuffer(c, c.arg(0), c.arg(1), format(c, c.arg(4), c.varargs(5)))),
  def('vsnprintf', 'vsnprintf(buf, size, fmt, va_list)', (c) => toBuffer(c, c.arg(0), c.arg(1), format(c, c.arg(2), c.vaList(c.arg(3))))),
  def('__vsnprintf_chk', '_FORTIFY_SOURCE vsnprintf(buf, size, flag, buflen, fmt, va_list)', (c) => toBuffer(c, c.arg(0), c.arg(1), format(c, c.arg(4), c.vaList(c.arg(5))))),
  def('vsprintf', 'vsprintf(buf, fmt, va_list)', (c) => toBuffer(c, c.arg(0), undefined, format(c, c.arg(1), c.vaList(c.arg(2))))),
  def('puts', 'puts(s): s and a newline to stdout', (c) => {
    const r = toFd(c, 1, Uint8Array.from([...c.libc.cstring(c.arg(0)), 10]));
    return r;
  }),
  def('putchar', 'putchar(c)', (c) => (c.libc.output(1, Uint8Array.of(Number(c.arg(0) & 0xffn))) ? ret(c.arg(0) & 0xffn) : ret(-1))),
  def('fputc', 'fputc(c, FILE*)', (c) => putc(c, c.arg(0), c.arg(1))),
  def('putc', 'putc(c, FILE*)', (c) => putc(c, c.arg(0), c.arg(1))),
  def('fputs', 'fputs(s, FILE*)', (c) => {
    const r = toFile(c, c.arg(1), c.libc.cstring(c.arg(0)));
    return r.kind === 'return' && r.value >= 0n ? ret(1) : r;
  }),
  def('fwrite', 'fwrite(ptr, size, n, FILE*): returns items written', (c) => {
    const size = c.arg(1);
    const n = c.arg(2);
    if (size === 0n || n === 0n) return ret(0);
    const fd = c.libc.streamFd(c.arg(3));
    if (fd === undefined || !c.libc.outputFromGuest(fd, c.arg(0), byteCount(size * n))) return fail(c, EBADF);
    return ret(n);
  }),
  def('fflush', 'fflush(FILE* or NULL): output is unbuffered, nothing to do', () => ret(0)),
  def('setvbuf', 'setvbuf(FILE*, buf, mode, size): accepted (output is unbuffered)', (c) => {
    const mode = i32(c.arg(2));
    return mode >= 0 && mode <= 2 ? ret(0) : fail(c, EINVAL);
  }),
  def('setbuf', 'setbuf(FILE*, buf): accepted', () => ret(0)),
  def('setlinebuf', 'setlinebuf(FILE*): accepted', () => ret(0)),
  def('perror', 'perror(s): "s: strerror(errno)" to stderr', (c) => {
    const s = c.arg(0) === 0n ? new Uint8Array(0) : c.libc.cstring(c.arg(0));
    const prefix = s.length > 0 ? [...s, 0x3a, 0x20] : [];
    c.libc.output(2, Uint8Array.from([...prefix, ...enc.encode(strerror(c.libc.errno())), 10]));
    return ret(0);
  }),
];

function putc(c: StubCall, ch: bigint, file: bigint): StubOutcome {
  const r = toFile(c, file, Uint8Array.of(Number(ch & 0xffn)));
  return r.kind === 'return' && r.value >= 0n ? ret(ch & 0xffn) : ret(-1);
}
