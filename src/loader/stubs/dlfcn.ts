// dlopen/dlsym/dlvsym/dlerror/dlclose over the emulated dynamic linker, and __tls_get_addr.
// dlopen runs the new object's initialisers in the emulator before returning its handle;
// dlclose runs its destructors before returning.

import { callChain, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'dlfcn', summary, run };
}

export const DLFCN_STUBS: StubDefinition[] = [
  def('dlopen', 'dlopen(path, flags): only the supplied libraries; others fail like glibc', (c) => {
    const path = c.arg(0) === 0n ? null : new TextDecoder().decode(c.libc.cstring(c.arg(0)));
    const flags = i32(c.arg(1));
    const linker = c.libc.linker;
    const r = linker.dlopen(path, flags);
    if (!r) {
      const error = linker.dlerror() ?? '';
      linker.setError(error);
      c.libc.record({ kind: 'dlopen', at: 0, path: path ?? '(null)', flags, handle: 0n, error, caller: c.returnAddress });
      return ret(0);
    }
    c.libc.record({ kind: 'dlopen', at: 0, path: path ?? '(null)', flags, handle: r.handle, caller: c.returnAddress });
    return callChain(r.calls, () => ret(r.handle));
  }),
  def('dlsym', 'dlsym(handle | RTLD_DEFAULT | RTLD_NEXT, name)', (c) => {
    const name = new TextDecoder().decode(c.libc.cstring(c.arg(1)));
    const linker = c.libc.linker;
    const address = linker.dlsym(c.arg(0), name, c.returnAddress);
    let error: string | undefined;
    if (address === null) {
      error = linker.dlerror();
      linker.setError(error ?? '');
    }
    c.libc.record({ kind: 'dlsym', at: 0, handle: c.arg(0), symbol: name, address: address ?? 0n, ...(error !== undefined ? { error } : {}), caller: c.returnAddress });
    return ret(address ?? 0n);
  }),
  def('dlvsym', 'dlvsym(handle | RTLD_DEFAULT | RTLD_NEXT, name, version): the definition of that version', (c) => {
    const name = new TextDecoder().decode(c.libc.cstring(c.arg(1)));
    const version = new TextDecoder().decode(c.libc.cstring(c.arg(2)));
    const linker = c.libc.linker;
    const address = linker.dlvsym(c.arg(0), name, version, c.returnAddress);
    let error: string | undefined;
    if (address === null) {
      error = linker.dlerror();
      linker.setError(error ?? '');
    }
    c.libc.record({ kind: 'dlsym', at: 0, handle: c.arg(0), symbol: name, version, address: address ?? 0n, ...(error !== undefined ? { error } : {}), caller: c.returnAddress });
    return ret(address ?? 0n);
  }),
  def('dlerror', 'dlerror(): glibc\'s messages, cleared by reading', (c) => {
    const error = c.libc.linker.dlerror();
    if (error === undefined) return ret(0);
    c.libc.write(c.libc.dlerrorBuffer, Uint8Array.from([...new TextEncoder().encode(error), 0]));
    return ret(c.libc.dlerrorBuffer);
  }),
  def('dlclose', 'dlclose(handle): reference counted; at 0 the destructors run (__cxa_finalize\'s too), mappings kept', (c) => {
    const linker = c.libc.linker;
    const r = linker.dlcloseCalls(c.arg(0));
    c.libc.record({ kind: 'dlclose', at: 0, handle: c.arg(0), result: r.result });
    return callChain(r.calls, () => ret(r.result === 0 ? 0 : -1));
  }),
  def('__tls_get_addr', '__tls_get_addr(&{module, offset}): static TLS blocks', (c) => {
    const module = c.libc.u64(c.arg(0));
    const offset = c.libc.u64(c.arg(0) + 8n);
    const obj = c.libc.linker.tlsModule(module);
    if (!obj?.tls) return ret(0);
    return ret(c.libc.threadPointer + obj.tls.tpOffset + offset);
  }),
];
