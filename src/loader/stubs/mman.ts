// mprotect/mmap/munmap with Linux's rules, on the engine's real page permissions.
// File mappings are refused (the guest reaches no host file).

import { MAP_ANONYMOUS } from '../kernel/address-space.js';
import { EBADF } from '../kernel/errno.js';
import { fail, fromKernel, i32, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'mman', summary, run };
}

export const MMAN_STUBS: StubDefinition[] = [
  def('mprotect', 'mprotect(addr, len, prot): EINVAL/ENOMEM as Linux, changes real page permissions', (c) =>
    fromKernel(c, c.libc.mprotect(c.arg(0), c.arg(1), i32(c.arg(2)), 'libc'))),
  def('mmap', 'mmap(addr, len, prot, flags, fd, off): anonymous only', (c) => {
    const flags = i32(c.arg(3));
    if ((flags & MAP_ANONYMOUS) === 0) return fail(c, EBADF);
    const r = c.libc.space.mmap(c.arg(0), c.arg(1), i32(c.arg(2)), flags);
    c.libc.record({ kind: 'mmap', at: 0, address: c.arg(0), length: c.arg(1), prot: i32(c.arg(2)), flags, result: r });
    return fromKernel(c, r);
  }),
  def('munmap', 'munmap(addr, len)', (c) => {
    const r = c.libc.space.munmap(c.arg(0), c.arg(1));
    c.libc.record({ kind: 'munmap', at: 0, address: c.arg(0), length: c.arg(1), result: r });
    return fromKernel(c, r);
  }),
];
