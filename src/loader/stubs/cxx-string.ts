// std::string (libstdc++'s __cxx11::basic_string<char>): the out-of-line members that
// inlined string code calls into the library for. Layout: { char* p; size_t length;
// union { char local[16]; size_t capacity; } }, in-place ("local") while p points at
// the object's own buffer (capacity 15). Growth follows _M_create (at least double the
// old capacity), so capacity(), heap use and every byte match a native run.

import { uncaughtException } from './cxx-throw.js';
import { ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

const LOCAL_CAPACITY = 15n;
/** (PTRDIFF_MAX - 1) / 2: allocator<char>::max_size() leaves room for the terminator. */
const MAX_SIZE = ((1n << 63n) - 2n) / 2n;

/** Ends the stub early with an outcome (a throw or a heap misuse) from deep inside. */
class StubEnds {
  constructor(readonly outcome: StubOutcome) {}
}

function lengthError(c: StubCall, what: string): never {
  throw new StubEnds(uncaughtException(c, 'std::length_error', what));
}

function allocate(c: StubCall, size: bigint): bigint {
  const p = c.libc.heap.malloc(size, 16n);
  if (p === 0n) throw new StubEnds(uncaughtException(c, 'std::bad_alloc', 'std::bad_alloc'));
  return p;
}

function deallocate(c: StubCall, p: bigint): void {
  const misuse = c.libc.heap.release(p);
  if (misuse) {
    c.libc.output(2, new TextEncoder().encode(`${misuse}\n`));
    throw new StubEnds({ kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: misuse });
  }
}

/** One basic_string object in guest memory. */
class GuestString {
  constructor(private readonly c: StubCall, readonly at: bigint) {}
  get data(): bigint { return this.c.libc.u64(this.at); }
  set data(p: bigint) { this.c.libc.writeU64(this.at, p); }
  get length(): bigint { return this.c.libc.u64(this.at + 8n); }
  get localBuffer(): bigint { return this.at + 16n; }
  get isLocal(): boolean { return this.data === this.localBuffer; }
  get capacity(): bigint { return this.isLocal ? LOCAL_CAPACITY : this.c.libc.u64(this.at + 16n); }
  set capacity(n: bigint) { this.c.libc.writeU64(this.at + 16n, n); }
  /** _M_set_length: the length and the terminating NUL. */
  setLength(n: bigint): void {
    this.c.libc.writeU64(this.at + 8n, n);
    this.c.libc.write(this.data + n, Uint8Array.of(0));
  }
  bytes(from: bigint, n: bigint): Uint8Array { return this.c.libc.read(this.data + from, Number(n)); }
  write(at: bigint, bytes: Uint8Array): void { if (bytes.length > 0) this.c.libc.write(this.data + at, bytes); }
  dispose(): void { if (!this.isLocal) deallocate(this.c, this.data); }
}

/** _M_create: a buffer for `wanted` chars (+ NUL), growing geometrically from `old`. */
function create(c: StubCall, wanted: bigint, old: bigint): { data: bigint; capacity: bigint } {
  if (wanted > MAX_SIZE) lengthError(c, 'basic_string::_M_create');
  let capacity = wanted;
  if (capacity > old && capacity < 2n * old) capacity = 2n * old > MAX_SIZE ? MAX_SIZE : 2n * old;
  return { data: allocate(c, capacity + 1n), capacity };
}

/** The chars that go in: bytes already read (so aliasing the string is safe), or n copies of one char. */
interface Replacement {
  length: bigint;
  writeTo(c: StubCall, at: bigint): void;
}

function copyOf(bytes: Uint8Array): Replacement {
  return { length: BigInt(bytes.length), writeTo: (c, at) => { if (bytes.length > 0) c.libc.write(at, bytes); } };
}

/** Written in chunks, and only once the buffer exists: a huge n fails in the allocator, as natively. */
function repeated(n: bigint, char: bigint): Replacement {
  return {
    length: n,
    writeTo: (c, at) => {
      const chunk = new Uint8Array(Number(n < 65536n ? n : 65536n)).fill(Number(char & 0xffn));
      for (let done = 0n; done < n; done += BigInt(chunk.length)) {
        const left = n - done;
        c.libc.write(at + done, left < BigInt(chunk.length) ? chunk.subarray(0, Number(left)) : chunk);
      }
    },
  };
}

/** _M_mutate: reallocate, replacing `len1` chars at `pos` by `len2` chars (written from `src` unless null). */
function mutate(c: StubCall, s: GuestString, pos: bigint, len1: bigint, src: Replacement | null, len2: bigint): void {
  const length = s.length;
  const head = s.bytes(0n, pos);
  const tail = s.bytes(pos + len1, length - pos - len1);
  const fresh = create(c, length + len2 - len1, s.capacity);
  c.libc.write(fresh.data, head);
  src?.writeTo(c, fresh.data + pos);
  if (tail.length > 0) c.libc.write(fresh.data + pos + len2, tail);
  s.dispose();
  s.data = fresh.data;
  s.capacity = fresh.capacity;
}

function checkLength(c: StubCall, s: GuestString, len1: bigint, len2: bigint, what: string): void {
  if (MAX_SIZE - (s.length - len1) < len2) lengthError(c, what);
}

/** _M_replace / _M_replace_aux: `len1` chars at `pos` become `replacement`. */
function replace(c: StubCall, s: GuestString, pos: bigint, len1: bigint, replacement: Replacement, what: string): void {
  const len2 = replacement.length;
  checkLength(c, s, len1, len2, what);
  const oldSize = s.length;
  const newSize = oldSize + len2 - len1;
  if (newSize <= s.capacity) {
    const tail = s.bytes(pos + len1, oldSize - pos - len1);
    replacement.writeTo(c, s.data + pos);
    s.write(pos + len2, tail);
  } else {
    mutate(c, s, pos, len1, replacement, len2);
  }
  s.setLength(newSize);
}

/** _M_construct: in place when the chars fit, else a buffer of exactly their number. */
function construct(c: StubCall, s: GuestString, chars: Replacement): void {
  const n = chars.length;
  if (n > LOCAL_CAPACITY) {
    const fresh = create(c, n, 0n);
    s.data = fresh.data;
    s.capacity = fresh.capacity;
  }
  chars.writeTo(c, s.data);
  s.setLength(n);
}

function member(suffix: string, summary: string, run: (c: StubCall, s: GuestString) => StubOutcome): StubDefinition {
  return {
    name: `_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE${suffix}`,
    area: 'cxx',
    summary: `std::string::${summary}`,
    run: (c) => {
      try {
        return run(c, new GuestString(c, c.arg(0)));
      } catch (e) {
        if (e instanceof StubEnds) return e.outcome;
        throw e;
      }
    },
  };
}

function constructFromRange(c: StubCall, s: GuestString): StubOutcome {
  const [begin, end] = [c.arg(1), c.arg(2)];
  if (begin === 0n && end !== 0n) throw new StubEnds(uncaughtException(c, 'std::logic_error', 'basic_string::_M_construct null not valid'));
  construct(c, s, copyOf(c.libc.read(begin, Number(end - begin))));
  return ret(0);
}

/** _M_check: a position past the end throws out_of_range with libstdc++'s message. */
function checkPosition(c: StubCall, s: GuestString, pos: bigint, where: string): void {
  if (pos > s.length) {
    throw new StubEnds(uncaughtException(c, 'std::out_of_range', `${where}: __pos (which is ${pos}) > this->size() (which is ${s.length})`));
  }
}

function copyChars(c: StubCall): StubOutcome {
  const [to, from, end] = [c.arg(0), c.arg(1), c.arg(2)];
  if (end > from) c.libc.copy(to, from, Number(end - from));
  return ret(0);
}

/** basic_string(basic_string&&): steals a heap buffer, copies an in-place one; the source is left empty. */
function moveConstruct(c: StubCall, s: GuestString): StubOutcome {
  const from = new GuestString(c, c.arg(1));
  const length = from.length;
  if (from.isLocal) {
    s.data = s.localBuffer;
    s.write(0n, c.libc.read(from.localBuffer, Number(LOCAL_CAPACITY) + 1));
  } else {
    s.data = from.data;
    s.capacity = from.capacity;
  }
  s.setLength(length);
  from.data = from.localBuffer;
  from.setLength(0n);
  return ret(0);
}

export const CXX_STRING_STUBS: StubDefinition[] = [
  member('9_M_createERmm', '_M_create(capacity&, old): length_error past max_size, else at least double', (c) => {
    const fresh = create(c, c.libc.u64(c.arg(1)), c.arg(2));
    c.libc.writeU64(c.arg(1), fresh.capacity);
    return ret(fresh.data);
  }),
  member('10_M_disposeEv', '_M_dispose(): frees a heap buffer', (_c, s) => (s.dispose(), ret(0))),
  member('10_M_destroyEm', '_M_destroy(capacity): frees the buffer', (c, s) => (deallocate(c, s.data), ret(0))),
  member('12_M_constructEmc', '_M_construct(n, c): n copies of c', (c, s) => {
    construct(c, s, repeated(c.arg(1), c.arg(2)));
    return ret(0);
  }),
  member('12_M_constructIPKcEEvT_S8_St20forward_iterator_tag', '_M_construct(const char* begin, end)', constructFromRange),
  member('12_M_constructIPcEEvT_S7_St20forward_iterator_tag', '_M_construct(char* begin, end)', constructFromRange),
  member('9_M_mutateEmmPKcm', '_M_mutate(pos, len1, s, len2): reallocating replace', (c, s) => {
    const src = c.arg(3) === 0n ? null : copyOf(c.libc.read(c.arg(3), Number(c.arg(4))));
    mutate(c, s, c.arg(1), c.arg(2), src, c.arg(4));
    return ret(0);
  }),
  member('10_M_replaceEmmPKcm', '_M_replace(pos, len1, s, len2)', (c, s) => {
    replace(c, s, c.arg(1), c.arg(2), copyOf(c.libc.read(c.arg(3), Number(c.arg(4)))), 'basic_string::_M_replace');
    return ret(s.at);
  }),
  member('14_M_replace_auxEmmmc', '_M_replace_aux(pos, len1, n, c): n copies of c', (c, s) => {
    replace(c, s, c.arg(1), c.arg(2), repeated(c.arg(3), c.arg(4)), 'basic_string::_M_replace_aux');
    return ret(s.at);
  }),
  member('9_M_appendEPKcm', '_M_append(s, n)', (c, s) => {
    const src = c.libc.read(c.arg(1), Number(c.arg(2)));
    const length = s.length;
    const n = BigInt(src.length);
    if (length + n <= s.capacity) s.write(length, src);
    else mutate(c, s, length, 0n, copyOf(src), n);
    s.setLength(length + n);
    return ret(s.at);
  }),
  member('9_M_assignERKS4_', '_M_assign(const string&)', (c, s) => {
    if (c.arg(1) === s.at) return ret(0);
    const from = new GuestString(c, c.arg(1));
    const bytes = from.bytes(0n, from.length);
    const n = BigInt(bytes.length);
    if (n > s.capacity) {
      const fresh = create(c, n, s.capacity);
      s.dispose();
      s.data = fresh.data;
      s.capacity = fresh.capacity;
    }
    s.write(0n, bytes);
    s.setLength(n);
    return ret(0);
  }),
  member('8_M_eraseEmm', '_M_erase(pos, n)', (c, s) => {
    const [pos, n] = [c.arg(1), c.arg(2)];
    s.write(pos, s.bytes(pos + n, s.length - pos - n));
    s.setLength(s.length - n);
    return ret(0);
  }),
  member('7reserveEm', 'reserve(n): grows only (C++20 semantics, gcc 11+)', (c, s) => {
    const capacity = s.capacity;
    if (c.arg(1) <= capacity) return ret(0);
    const fresh = create(c, c.arg(1), capacity);
    c.libc.write(fresh.data, s.bytes(0n, s.length + 1n));
    s.dispose();
    s.data = fresh.data;
    s.capacity = fresh.capacity;
    return ret(0);
  }),
  member('7reserveEv', 'reserve(): shrink to fit (back in place when short enough)', (c, s) => {
    if (s.isLocal) return ret(0);
    const length = s.length;
    const old = s.data;
    const contents = s.bytes(0n, length + 1n);
    if (length <= LOCAL_CAPACITY) {
      s.data = s.localBuffer;
      s.write(0n, contents);
      deallocate(c, old);
    } else if (length < s.capacity) {
      const fresh = allocate(c, length + 1n);
      c.libc.write(fresh, contents);
      deallocate(c, old);
      s.data = fresh;
      s.capacity = length;
    }
    return ret(0);
  }),
  member('6resizeEmc', 'resize(n, c)', (c, s) => {
    const [n, length] = [c.arg(1), s.length];
    if (n > length) replace(c, s, length, 0n, repeated(n - length, c.arg(2)), 'basic_string::_M_replace_aux');
    else if (n < length) s.setLength(n);
    return ret(0);
  }),
  member('6resizeEm', 'resize(n): pads with NULs', (c, s) => {
    const [n, length] = [c.arg(1), s.length];
    if (n > length) replace(c, s, length, 0n, repeated(n - length, 0n), 'basic_string::_M_replace_aux');
    else if (n < length) s.setLength(n);
    return ret(0);
  }),
  member('13_S_copy_charsEPcS5_S5_', '_S_copy_chars(to, begin, end)', (c) => copyChars(c)),
  member('13_S_copy_charsEPcPKcS7_', '_S_copy_chars(to, const begin, const end)', (c) => copyChars(c)),
  member('C1EOS4_', 'basic_string(basic_string&&)', moveConstruct),
  member('C2EOS4_', 'basic_string(basic_string&&) (base object)', moveConstruct),
  member('6appendEPKc', 'append(const char*)', (c, s) => {
    const src = c.libc.cstring(c.arg(1));
    checkLength(c, s, 0n, BigInt(src.length), 'basic_string::append');
    replace(c, s, s.length, 0n, copyOf(src), 'basic_string::append');
    return ret(s.at);
  }),
  member('7replaceEmmPKcm', 'replace(pos, n1, s, n2): out_of_range past the end', (c, s) => {
    const pos = c.arg(1);
    checkPosition(c, s, pos, 'basic_string::replace');
    const len1 = c.arg(2) < s.length - pos ? c.arg(2) : s.length - pos;
    replace(c, s, pos, len1, copyOf(c.libc.read(c.arg(3), Number(c.arg(4)))), 'basic_string::_M_replace');
    return ret(s.at);
  }),
];
