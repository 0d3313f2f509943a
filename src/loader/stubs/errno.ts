// errno lives in the thread's TLS; __errno_location returns its address.

import { ret, type StubDefinition } from './stub.js';

export const ERRNO_STUBS: StubDefinition[] = [
  { name: '__errno_location', area: 'errno', summary: '__errno_location(): the main thread\'s errno slot', run: (c) => ret(c.libc.errnoAddress) },
];
