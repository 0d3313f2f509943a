// The stub table: the single source for which imports the sandbox covers (the README's
// list is generated from COVERED_IMPORTS). An import not listed here is bound to a trap.

import { CXX_STUBS } from './cxx.js';
import { CXX_HASH_BYTES_STUBS } from './cxx-hash-bytes.js';
import { CXX_REHASH_POLICY_STUBS } from './cxx-rehash-policy.js';
import { CXX_STRING_STUBS } from './cxx-string.js';
import { CXX_THROW_STUBS } from './cxx-throw.js';
import { DLFCN_STUBS } from './dlfcn.js';
import { ERRNO_STUBS } from './errno.js';
import { MMAN_STUBS } from './mman.js';
import { SIGNAL_STUBS } from './signal.js';
import { STARTUP_STUBS } from './startup.js';
import { STDIO_STUBS } from './stdio.js';
import { STDLIB_STUBS } from './stdlib.js';
import { STRING_STUBS } from './string.js';
import type { StubDefinition } from './stub.js';
import { TIME_STUBS } from './time.js';

export const STUBS: readonly StubDefinition[] = [
  ...STARTUP_STUBS, ...STDIO_STUBS, ...STRING_STUBS, ...STDLIB_STUBS, ...TIME_STUBS,
  ...SIGNAL_STUBS, ...MMAN_STUBS, ...DLFCN_STUBS, ...CXX_STUBS, ...ERRNO_STUBS,
  ...CXX_STRING_STUBS, ...CXX_HASH_BYTES_STUBS, ...CXX_REHASH_POLICY_STUBS, ...CXX_THROW_STUBS,
];

/** Covered imports for documentation: name, libc area, one-line behaviour. */
export const COVERED_IMPORTS: readonly { name: string; area: string; summary: string }[] = STUBS.map((s) => ({ name: s.name, area: s.area, summary: s.summary }));

/** Data objects the libc image exports (guest-visible FILE* variables and the environment). */
export const LIBC_DATA_SYMBOLS = ['stdin', 'stdout', 'stderr', 'environ', '__environ', '__progname', 'program_invocation_name', 'program_invocation_short_name'] as const;
