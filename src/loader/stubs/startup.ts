// Process start and end: __libc_start_main (a faithful subset: the executable's
// preinit/init/init_array with argc, argv, envp, then main, then exit with its result),
// exit/atexit/__cxa_atexit, abort, __stack_chk_fail, getpid, write, sysconf.

import { EBADF, EINVAL } from '../kernel/errno.js';
import { SIGABRT } from '../kernel/signals.js';
import { byteCount, callChain, fail, i32, ret, type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

const enc = new TextEncoder();

function def(area: StubDefinition['area'], name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area, summary, run };
}

const _SC_CLK_TCK = 2, _SC_OPEN_MAX = 4, _SC_PAGESIZE = 30, _SC_NPROCESSORS_CONF = 83, _SC_NPROCESSORS_ONLN = 84;

/**
 * glibc's __cxa_finalize: a library's __do_global_dtors_aux (in its DT_FINI_ARRAY) calls it with
 * the library's __dso_handle when dlclose unloads it, so the C++ static destructors registered
 * with that handle run then, not at exit. Handlers are taken one at a time from the end of the
 * list, so one registered by a running destructor is found too; a cxa handler gets (arg, 0).
 */
function finalize(c: StubCall, dso: bigint): StubOutcome {
  const handlers = c.libc.atexit;
  for (let i = handlers.length - 1; i >= 0; i--) {
    const h = handlers[i]!;
    if (dso !== 0n && !(h.withArg && h.dso === dso)) continue;
    handlers.splice(i, 1);
    return {
      kind: 'call',
      call: { target: h.func, args: h.withArg ? [h.arg, 0n] : [], purpose: `__cxa_finalize(${dso === 0n ? 'NULL' : `0x${dso.toString(16)}`}) handler` },
      then: () => finalize(c, dso),
    };
  }
  return ret(0);
}

export const STARTUP_STUBS: StubDefinition[] = [
  def('startup', '__libc_start_main', '__libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end): init arrays, main, exit', (c) => {
    const main = c.arg(0);
    const argc = BigInt.asIntN(32, c.arg(1));
    const argv = c.arg(2);
    const envp = argv + 8n * (argc + 1n);
    return callChain(c.libc.executableInitCalls(argc, argv, envp), () => ({
      kind: 'call',
      call: { target: main, args: [argc, argv, envp], purpose: 'main' },
      then: (rax) => c.libc.exitSequence(i32(rax)),
    }));
  }),
  def('startup', 'exit', 'exit(status): atexit/__cxa_atexit handlers in reverse order, then exit', (c) => c.libc.exitSequence(i32(c.arg(0)))),
  def('startup', '_exit', '_exit(status): immediate exit', (c) => ({ kind: 'exit', status: i32(c.arg(0)) & 0xff })),
  def('startup', '_Exit', '_Exit(status): immediate exit', (c) => ({ kind: 'exit', status: i32(c.arg(0)) & 0xff })),
  def('startup', 'atexit', 'atexit(fn)', (c) => {
    c.libc.atexit.push({ func: c.arg(0), arg: 0n, dso: 0n, withArg: false });
    return ret(0);
  }),
  def('startup', '__cxa_atexit', '__cxa_atexit(fn, arg, dso): C++ static destructors', (c) => {
    c.libc.atexit.push({ func: c.arg(0), arg: c.arg(1), dso: c.arg(2), withArg: true });
    return ret(0);
  }),
  def('startup', '__cxa_finalize', '__cxa_finalize(dso): runs and removes the __cxa_atexit handlers of dso (NULL: all), last registered first', (c) => finalize(c, c.arg(0))),
  def('startup', 'abort', 'abort(): the process dies of SIGABRT', (c) => ({ kind: 'kill', info: { signo: SIGABRT, code: -6, pid: c.libc.pid }, reason: 'abort() called' })),
  def('startup', '__stack_chk_fail', '__stack_chk_fail(): "*** stack smashing detected ***", SIGABRT', (c) => {
    c.libc.output(2, enc.encode('*** stack smashing detected ***: terminated\n'));
    return { kind: 'kill', info: { signo: SIGABRT, code: -6, pid: c.libc.pid }, reason: 'stack smashing detected (canary at fs:0x28 changed)' };
  }),
  def('startup', '__assert_fail', '__assert_fail(expr, file, line, func): message, SIGABRT', (c) => {
    const text = (p: bigint): string => new TextDecoder().decode(c.libc.cstring(p));
    c.libc.output(2, enc.encode(`${text(c.arg(1))}:${i32(c.arg(2))}: ${text(c.arg(3))}: Assertion \`${text(c.arg(0))}' failed.\n`));
    return { kind: 'kill', info: { signo: SIGABRT, code: -6, pid: c.libc.pid }, reason: 'assertion failed' };
  }),
  def('unistd', 'getpid', 'getpid()', (c) => ret(c.libc.pid)),
  def('unistd', 'getppid', 'getppid(): a fixed parent', (c) => ret(c.libc.pid - 1)),
  def('unistd', 'gettid', 'gettid(): the main thread', (c) => ret(c.libc.pid)),
  def('unistd', 'getuid', 'getuid(): 1000', () => ret(1000)),
  def('unistd', 'geteuid', 'geteuid(): 1000', () => ret(1000)),
  def('unistd', 'write', 'write(fd, buf, n): fds 1 and 2 are captured, others EBADF', (c) => {
    const fd = i32(c.arg(0));
    const n = byteCount(c.arg(2));
    if (fd !== 1 && fd !== 2) return fail(c, EBADF);
    c.libc.outputFromGuest(fd, c.arg(1), n);
    return ret(n);
  }),
  def('unistd', 'sysconf', 'sysconf(name): page size, CPUs, clock ticks', (c) => {
    switch (i32(c.arg(0))) {
      case _SC_PAGESIZE:
        return ret(4096);
      case _SC_CLK_TCK:
        return ret(100);
      case _SC_OPEN_MAX:
        return ret(1024);
      case _SC_NPROCESSORS_CONF:
      case _SC_NPROCESSORS_ONLN:
        return ret(1);
      default:
        return fail(c, EINVAL);
    }
  }),
  def('unistd', 'getpagesize', 'getpagesize(): 4096', () => ret(4096)),
];
