// libstdc++'s allocation operators (every size/aligned/nothrow form, by mangled name) and
// the few runtime hooks a C++ program imports without calling them on the happy path.

import { ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'cxx', summary, run };
}

function allocate(c: StubCall, size: bigint, align: bigint, what: string, nothrow: boolean): StubOutcome {
  const p = c.libc.heap.malloc(size, align < 16n ? 16n : align);
  if (p === 0n && !nothrow) {
    c.libc.output(2, new TextEncoder().encode(`terminate called after throwing an instance of 'std::bad_alloc' (${what})\n`));
    return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: 'std::bad_alloc' };
  }
  return ret(p);
}

function release(c: StubCall): StubOutcome {
  const misuse = c.libc.heap.release(c.arg(0));
  if (!misuse) return ret(0);
  c.libc.output(2, new TextEncoder().encode(`${misuse}\n`));
  return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: misuse };
}

const NEW_FORMS: Array<[string, string, boolean, boolean]> = [
  // mangled name, meaning, aligned (align in rsi), nothrow
  ['_Znwm', 'operator new(size_t)', false, false],
  ['_Znam', 'operator new[](size_t)', false, false],
  ['_ZnwmRKSt9nothrow_t', 'operator new(size_t, nothrow_t const&)', false, true],
  ['_ZnamRKSt9nothrow_t', 'operator new[](size_t, nothrow_t const&)', false, true],
  ['_ZnwmSt11align_val_t', 'operator new(size_t, align_val_t)', true, false],
  ['_ZnamSt11align_val_t', 'operator new[](size_t, align_val_t)', true, false],
  ['_ZnwmSt11align_val_tRKSt9nothrow_t', 'operator new(size_t, align_val_t, nothrow_t const&)', true, true],
  ['_ZnamSt11align_val_tRKSt9nothrow_t', 'operator new[](size_t, align_val_t, nothrow_t const&)', true, true],
];

const DELETE_FORMS: Array<[string, string]> = [
  ['_ZdlPv', 'operator delete(void*)'],
  ['_ZdaPv', 'operator delete[](void*)'],
  ['_ZdlPvm', 'operator delete(void*, size_t)'],
  ['_ZdaPvm', 'operator delete[](void*, size_t)'],
  ['_ZdlPvSt11align_val_t', 'operator delete(void*, align_val_t)'],
  ['_ZdaPvSt11align_val_t', 'operator delete[](void*, align_val_t)'],
  ['_ZdlPvmSt11align_val_t', 'operator delete(void*, size_t, align_val_t)'],
  ['_ZdaPvmSt11align_val_t', 'operator delete[](void*, size_t, align_val_t)'],
  ['_ZdlPvRKSt9nothrow_t', 'operator delete(void*, nothrow_t const&)'],
  ['_ZdaPvRKSt9nothrow_t', 'operator delete[](void*, nothrow_t const&)'],
];

const GUARD_PENDING = 0x100n;

export const CXX_STUBS: StubDefinition[] = [
  ...NEW_FORMS.map(([name, what, aligned, nothrow]) =>
    def(name, what, (c) => allocate(c, c.arg(0), aligned ? c.arg(1) : 16n, what, nothrow))),
  ...DELETE_FORMS.map(([name, what]) => def(name, what, release)),
  // Function-local statics: libstdc++ keeps the guard as an int, 1 when initialised and
  // 0x100 while an initialisation runs. There is one thread, so no waiting.
  def('__cxa_guard_acquire', '__cxa_guard_acquire(g): 1 if the static must be initialised now; recursion: terminate', (c) => {
    const state = c.libc.u64(c.arg(0)) & 0xffffffffn;
    if ((state & 0xffn) !== 0n) return ret(0);
    if (state & GUARD_PENDING) {
      c.libc.output(2, new TextEncoder().encode('terminate called after throwing an instance of \'__gnu_cxx::recursive_init_error\'\n  what():  std::exception\n'));
      return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: 'recursive initialisation of a function-local static' };
    }
    c.libc.writeU32(c.arg(0), Number(GUARD_PENDING));
    return ret(1);
  }),
  def('__cxa_guard_release', '__cxa_guard_release(g): the static is initialised', (c) => {
    c.libc.writeU32(c.arg(0), 1);
    return ret(0);
  }),
  def('__cxa_guard_abort', '__cxa_guard_abort(g): its initialiser threw; the next pass tries again', (c) => {
    c.libc.writeU32(c.arg(0), 0);
    return ret(0);
  }),
  def('__cxa_pure_virtual', '__cxa_pure_virtual(): "pure virtual method called", SIGABRT', (c) => {
    c.libc.output(2, new TextEncoder().encode('pure virtual method called\nterminate called without an active exception\n'));
    return { kind: 'kill', info: { signo: 6, code: -6, pid: c.libc.pid }, reason: 'pure virtual method called' };
  }),
];
