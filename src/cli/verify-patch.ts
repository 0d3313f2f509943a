#!/usr/bin/env node
// verify-patch <main> <patch.so> <sym> [options]: the contract of shared/design.md. This file
// adds only what needs Node (reading the files, stdout/stderr, the exit code) to the
// browser-clean command core in src/verify/command.ts. Exit codes: 0 safe, 1 unsafe, 2
// could not verify; a problem is one line on stderr, never a stack trace.

import { closeSync, constants, fstatSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { collectNeededLibraries } from '../verify/libraries.js';
import { parseCommandLine, render, runCommand, TOOL } from '../verify/command.js';
import { CliError } from './error.js';
import { escapeTerminal } from '../report/escape.js';
import { engineWithProgress, ProgressLine } from './progress.js';

const HELP = `usage: verify-patch <main> <patch.so> <sym> [options]

Verifies a hot patch (a jump from <sym>'s first bytes in <main> to its replacement in
<patch.so>, or a rewrite of the GOT or vtable slots that lead to <sym>) in an emulated
x86-64 process before it is applied to a real one: runs <main> to a patch point, applies
the patch the way a real patcher does, runs on, and reports. Libraries <main> needs beyond
the system ones are read from where ld.so finds them next to it (RUNPATH $ORIGIN).

  <main>                  the executable that holds the function to patch
  <patch.so>              the shared object with the replacement
  <sym>                   function to patch: mangled (_Z13need_fix_funcv) or demangled (need_fix_func());
                          in main (prologue), a library main needs (got), or any (vtable)

options:
  --with <sym>            replacement in patch.so (default: patch.so's fix_table {new, old}
                          when its old is <sym>, else the same name as <sym>)
  --trampoline <form>     abs-rax (default, 12 bytes: movabs rax, new; jmp rax) | rel32 (5 bytes,
                          within ±2 GiB) | abs-indirect (14 bytes: jmp [rip+0]; .quad new) |
                          a Keystone template with {target} (or {target_lo32}/{target_hi32}),
                          e.g. 'movabs r11, {target}; jmp r11'. A template may write only rax,
                          r10 or r11 (not rax before a variadic function: al is an argument) and
                          must reach the replacement with rsp as the caller left it
  --signal <SIG>          program-driven mode: deliver SIG (e.g. USR1) at the patch point and let
                          main's own handler patch; without it the tool patches (tool-driven)
  --strategy <s>          what the patch rewrites: prologue (default: <sym>'s first bytes, with
                          --trampoline) | got (the GOT slots through which other objects call
                          <sym>, a function in a library main needs; the tool rewrites them in
                          every loaded object, mprotect'ing RELRO pages) | vtable (every vtable
                          slot holding the virtual method <sym>, e.g. 'Shape::area() const', in
                          every loaded object, derived classes' and thunks' included)
  --lookup dynsym|symtab  tool-driven: how the tool finds <sym>, as a patcher would. dynsym (default):
                          dlsym(RTLD_DEFAULT), so main must export it (-rdynamic), else
                          SYMBOL_NOT_EXPORTED; symtab: an external (ptrace) patcher reading the
                          symbol table: no export needed, a stripped main without it is exit 2
  --patch-at <n>          patch (or deliver SIG) after n executed instructions. Default: after
                          <sym> has returned once, at main's next sleep call (where kill finds a
                          server), else right after that return
  --max-insns <n>         instruction budget for the whole run (default 2000000000)
  --progress, --no-progress  instructions executed and the phase on stderr during runs longer
                          than a second (default: on when stderr is a terminal)
  --format <f>            report format: text (default) | json (schema/report.schema.json) |
                          sarif (SARIF 2.1.0, code scanning) | html (one self-contained file) |
                          markdown (a pull-request comment)
  --report <f>:<file>     also write the report in format f to file (repeatable), e.g.
                          --format sarif --report html:verify-patch.html --report markdown:summary.md
  --engine wasm|unicorn   CPU: the WebAssembly core (default) or native libunicorn
  --timeout <s>           wall-clock limit of the whole verification in seconds (default 60; 0: none)
  --max-memory <size>     guest memory: touched pages (default 1G; reserving untouched memory is
                          free up to 4x this, as RLIMIT_AS); beyond it the run ends with exit 2
  --max-output <size>     program output kept per stream: the first and the last <size> bytes
                          (default 64K); the bytes in between are counted, not kept
  --max-file-size <size>  largest <main> or <patch.so> read (default 512M); only regular files
                          sizes: 65536, 64K, 512M, 1G (powers of 1024)
  --help, --version

exit code: 0 safe · 1 unsafe (at least one error finding) · 2 could not verify (bad input,
unsupported instruction, budget hit before the patch point, ...)
`;

/**
 * Reads an input file: only a regular file, at most `maxSize` bytes, checked before reading, so
 * a FIFO, a device (/dev/zero) or a huge sparse file is refused at once. Opened non-blocking:
 * opening a FIFO for reading would otherwise wait for a writer forever.
 */
function readInput(path: string, role: string, maxSize: number): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new CliError(`cannot read ${role} '${path}': is a directory`);
    if (!stat.isFile()) throw new CliError(`cannot read ${role} '${path}': not a regular file (${fileKind(stat)}); give the ELF file itself`);
    if (stat.size > maxSize) {
      throw new CliError(`cannot read ${role} '${path}': ${stat.size} bytes is more than --max-file-size ${maxSize} (raise it if the file is really this big)`);
    }
    const bytes = new Uint8Array(stat.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === bytes.length ? bytes : bytes.subarray(0, done);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : firstLine((error as Error).message);
    throw new CliError(`cannot read ${role} '${path}': ${reason}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileKind(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

/** The report could not be written: EPIPE (the reader went away) or another write error. */
class OutputClosed extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

/**
 * Writes all of `text` to a descriptor synchronously, so a write error is seen here: EPIPE
 * (piped to `head -1`) and ENOSPC (/dev/full) become OutputClosed, never a stack trace.
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking pipe is full: wait for the reader
        continue;
      }
      throw new OutputClosed(code, firstLine((error as Error).message));
    }
  }
}

function readOptional(path: string): Uint8Array | undefined {
  try {
    return statSync(path).isFile() ? new Uint8Array(readFileSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

async function run(argv: string[]): Promise<number> {
  let request;
  try {
    request = parseCommandLine(argv);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  if (request.kind === 'help') return report(HELP, 0);
  if (request.kind === 'version') return report(`${TOOL.name} ${TOOL.version}\n`, 0);
  const { command } = request;
  const main = readInput(command.mainPath, 'main', command.maxFileSize);
  const patch = readInput(command.patchPath, 'patch.so', command.maxFileSize);
  // The libraries main needs, where ld.so would find them next to it (RUNPATH $ORIGIN).
  const libraries = collectNeededLibraries(main, (relative) => readOptional(join(dirname(command.mainPath), relative)));
  const progress = command.progress ?? process.stderr.isTTY === true;
  const line = progress ? new ProgressLine(process.stderr) : undefined;
  let outcome;
  try {
    outcome = await runCommand(command, main, patch, line ? engineWithProgress(command.engine, line) : undefined, libraries);
  } finally {
    line?.end();
  }
  // Every --report file is written whatever the verdict (a CI artifact says why it failed).
  for (const report of command.reports ?? []) {
    try {
      writeFileSync(report.path, render(outcome.result, { ...command, format: report.format }));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw new CliError(`cannot write the ${report.format} report '${report.path}': ${reason}`);
    }
  }
  if (outcome.result.verdict === 'error') {
    // Machine formats still get a report (verdict "error"); a terminal gets the one line.
    if (command.format !== 'text') report(outcome.report, outcome.exitCode);
    writeError(`could not verify: ${firstLine(outcome.result.error ?? 'unknown reason')}`);
    return outcome.exitCode;
  }
  return report(outcome.report, outcome.exitCode);
}

/**
 * Prints the report; returns the exit code. A reader that went away (EPIPE) ends the output
 * quietly with the verdict's code; any other write error is one line on stderr and exit 2.
 */
function report(text: string, exitCode: number): number {
  try {
    writeAll(1, text);
    return exitCode;
  } catch (error) {
    if (!(error instanceof OutputClosed)) throw error;
    if (error.code === 'EPIPE') return exitCode;
    writeError(`cannot write the report to standard output: ${error.message}`);
    return 2;
  }
}

function writeError(line: string): void {
  try {
    writeAll(2, `verify-patch: ${escapeTerminal(line)}\n`);
  } catch {
    // stderr is gone too: the exit code is all that is left
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof CliError;
    const message = error instanceof Error ? error.message : String(error);
    writeError(`${known ? '' : 'internal error (please report): '}${firstLine(message)}`);
    process.exitCode = 2;
  },
);
