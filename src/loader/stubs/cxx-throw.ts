// libstdc++'s __throw_* helpers. The sandbox does not unwind C++ exceptions (no
// unwinder, no personality routine), so a throw ends the process the way an uncaught
// exception does natively: std::terminate's message on stderr, then SIGABRT. A program
// that would catch the exception natively diverges here; the kill reason says so.

import { hex } from '../error.js';
import { formatPrintf } from '../printf.js';
import { type StubCall, type StubDefinition, type StubOutcome } from './stub.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What std::terminate prints for an uncaught exception, then SIGABRT. */
export function uncaughtException(c: StubCall, type: string, what: string | undefined): StubOutcome {
  const message = what === undefined
    ? `terminate called after throwing an instance of '${type}'\n`
    : `terminate called after throwing an instance of '${type}'\n  what():  ${what}\n`;
  c.libc.output(2, enc.encode(message));
  const detail = what === undefined ? type : `${type}: ${what}`;
  return {
    kind: 'kill',
    info: { signo: 6, code: -6, pid: c.libc.pid },
    reason: `C++ exception ${detail} thrown (called from ${hex(c.returnAddress)}); the sandbox does not unwind exceptions, so it ends the process as an uncaught one would`,
  };
}

function def(name: string, summary: string, run: (c: StubCall) => StubOutcome): StubDefinition {
  return { name, area: 'cxx', summary, run };
}

/** A helper taking `const char* what`. */
function withWhat(name: string, type: string): StubDefinition {
  return def(name, `throws ${type}(what): uncaught, SIGABRT`, (c) => uncaughtException(c, type, dec.decode(c.libc.cstring(c.arg(0)))));
}

/** A helper without a message; `what` is the exception's what(). */
function withoutWhat(name: string, type: string, what: string): StubDefinition {
  return def(name, `throws ${type}: uncaught, SIGABRT`, (c) => uncaughtException(c, type, what));
}

export const CXX_THROW_STUBS: StubDefinition[] = [
  withoutWhat('_ZSt17__throw_bad_allocv', 'std::bad_alloc', 'std::bad_alloc'),
  withoutWhat('_ZSt28__throw_bad_array_new_lengthv', 'std::bad_array_new_length', 'std::bad_array_new_length'),
  withoutWhat('_ZSt25__throw_bad_function_callv', 'std::bad_function_call', 'bad_function_call'),
  withoutWhat('_ZSt16__throw_bad_castv', 'std::bad_cast', 'std::bad_cast'),
  withWhat('_ZSt20__throw_length_errorPKc', 'std::length_error'),
  withWhat('_ZSt19__throw_logic_errorPKc', 'std::logic_error'),
  withWhat('_ZSt20__throw_out_of_rangePKc', 'std::out_of_range'),
  withWhat('_ZSt24__throw_invalid_argumentPKc', 'std::invalid_argument'),
  withWhat('_ZSt19__throw_range_errorPKc', 'std::range_error'),
  withWhat('_ZSt21__throw_runtime_errorPKc', 'std::runtime_error'),
  withWhat('_ZSt22__throw_overflow_errorPKc', 'std::overflow_error'),
  def('_ZSt24__throw_out_of_range_fmtPKcz', 'throws std::out_of_range(formatted what, %s/%zu/%%): uncaught, SIGABRT', (c) => {
    const what = formatPrintf(c.libc.cstring(c.arg(0)), c.varargs(1), { readString: (p) => c.libc.cstring(p) });
    return uncaughtException(c, 'std::out_of_range', dec.decode(what));
  }),
];
