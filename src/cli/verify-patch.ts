#!/usr/bin/env node
// verify-patch <main> <patch.so> <sym> [options]: the contract of shared/design.md. This file
// adds only what needs Node (reading the files, stdout/stderr, the exit code) to the
// browser-clean command core in src/verify/command.ts. Exit codes: 0 safe, 1 unsafe, 2
// could not verify; a problem is one line on stderr, never a stack trace.

import { closeSync, constants, fstatSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { collectNeededLibraries, type LibraryFile } from '../verify/libraries.js';
import { commandInput, DEFAULT_MAX_FILE_SIZE, parseCommandLine, render, runCommand, TOOL, type ParsedCommand } from '../verify/command.js';
import type { ProcessChoice } from '../verify/input.js';
import { mergeReports } from '../verify/explore/merge.js';
import { EXIT_CODES } from '../verify/finding.js';
import { verifyWithJobs, type SystemFiles } from './explore-jobs.js';
import { CliError } from './error.js';
import { escapeTerminal } from '../report/escape.js';
import { SysrootError, buildVfs, directoryFiles, guestPathOf, hasDynamicLoader, type GuestFile } from './sysroot.js';
import { engineWithProgress, ProgressLine } from './progress.js';
import { precompileCore } from '../engine/wasm-core.js';

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
  --process system|stubs  process model. system (default when the sysroot has an x86-64
                          ld.so): the real ld.so, glibc, libstdc++ and every other library
                          main needs, from the sysroot, over emulated Linux system calls and
                          a read-only virtual file system. stubs: the sandbox's own loader and
                          libc stubs (no sysroot needed; the default otherwise)
  --sysroot DIR|TAR       system model: the root to take ld.so and the libraries from
                          (default /), a directory or a tar (.tar.gz too) of one, e.g. the
                          production image's: only its library directories and /etc/ld.so.cache are
                          visible, plus main's directory (its files, not subdirectories) as
                          the working directory /app, where main and patch.so are ./main and
                          ./patch.so
  --file HOST[:GUEST]     system model: also show the host file HOST to the guest, as GUEST
                          (default /app/<name>); repeatable
  --arg ARG               an argument for main (after argv[0]); repeatable
  --env NAME=VALUE        an environment variable for main (default: none); repeatable
  --stdin FILE            system model: main's standard input (default: empty)
  --tty                   system model: main's stdout and stderr are a terminal (isatty, an 80x24
                          window, glibc's line buffering; default: pipes, as under a service manager)
  --seed N                system model: the thread scheduler's seed from the patch point on
                          (default 1; the report names it): quantum, thread picked at each switch,
                          switches at stores into code; the run to the patch point follows the
                          default schedule, so a seed replays alone
  --schedules N           system model with threads: replay the patched run (and its baseline)
                          from the patch point with seeds --seed .. --seed+N-1 (default 16); any
                          failing one makes the verdict unsafe, and the report names the first
                          with the command that replays it (--seed S --schedules 1)
  --help, --version

exploration (try the patch at every instruction boundary of a window):
  --explore [FROM:TO]     patch at every boundary from FROM to TO executed instructions (default:
                          0 to twice the default patch point) and report the unsafe windows;
                          any unsafe point makes the verdict unsafe. Tool-driven points run by
                          classes (about one patched run per touch of the bytes); --signal points
                          one by one: on the system model (long start-up) give a window or --stride
  --stride <k>            only every k-th boundary (default 1)
  --horizon <h>           how long each patched run is watched after the program first touches the
                          patched bytes: return (default: until a call through the trampoline has
                          returned, at most 10000 instructions), return:N, or N instructions
  --jobs <n>              spread the points over n worker threads (default 1)
  --shard <i/n>           explore only slice i of n of the points (a CI matrix job, a cluster task);
                          combine the JSON reports with: verify-patch merge a.json b.json ...

verify-patch merge <a.json> <b.json> ...
                          the shards' JSON reports combined into the unsharded run's report

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

/** The system model's file system and stdin, built from the host (the only place that reads it). */
function hostInputs(command: ParsedCommand): { process?: ProcessChoice; stdin?: Uint8Array; system?: SystemFiles } {
  const sysroot = command.sysroot ?? '/';
  if (command.process === undefined) {
    // The default: the system model when this machine (or --sysroot) has an x86-64 ld.so, else the
    // stubs; on either engine (both report the same CPU model to glibc: src/engine/cpuid.ts).
    if (command.sysroot === undefined && !hasDynamicLoader(sysroot)) {
      writeError('note: no x86-64 ld.so under / (and no --sysroot): using the stubs process model');
      command.process = 'stubs';
      return {};
    }
    command.process = 'system';
  }
  if (command.process !== 'system') return {};
  let loader: boolean;
  try {
    loader = hasDynamicLoader(sysroot);
  } catch (e) {
    if (e instanceof SysrootError) throw new CliError(e.message);
    throw e;
  }
  if (!loader) throw new CliError(`--sysroot ${sysroot}: no ld-linux-x86-64.so.2 in its lib64 or lib/x86_64-linux-gnu (is it an x86-64 root file system?)`);
  // main's directory is the working directory: its files first, then --file (which may replace one).
  const files: GuestFile[] = directoryFiles(dirname(command.mainPath));
  files.push(...command.files.map((spec) => {
    const colon = spec.indexOf(':');
    const hostPath = colon >= 0 ? spec.slice(0, colon) : spec;
    const guest = colon >= 0 ? spec.slice(colon + 1) : basename(hostPath);
    if (guest === '') throw new CliError(`--file ${spec}: the guest path is empty`);
    try {
      guestPathOf(guest);
    } catch (e) {
      throw new CliError(`--file ${spec}: ${(e as Error).message}`);
    }
    return { guest, bytes: readInput(hostPath, '--file', command.maxFileSize) };
  }));
  const result: { process: ProcessChoice; stdin?: Uint8Array; system: SystemFiles } = {
    system: { sysroot, files },
    process: {
      model: 'system',
      sysroot,
      vfs: () => {
        try {
          return buildVfs(sysroot, files);
        } catch (e) {
          if (e instanceof SysrootError) throw new CliError(e.message);
          throw e;
        }
      },
    },
  };
  if (command.stdin !== undefined) result.stdin = readInput(command.stdin, '--stdin', command.maxFileSize);
  return result;
}

/**
 * Whether stderr is a terminal. Only a character device can be one: anything else is answered
 * without creating process.stderr, whose stream for a pipe costs a cold start a few ms.
 */
function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
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
  if (request.kind === 'merge') return merge(request.files);
  const { command } = request;
  // The core compiles off the main thread while the inputs are read and analysed.
  if (command.engine !== 'unicorn') precompileCore();
  const main = readInput(command.mainPath, 'main', command.maxFileSize);
  const patch = readInput(command.patchPath, 'patch.so', command.maxFileSize);
  // The libraries main needs, where ld.so would find them next to it (RUNPATH $ORIGIN).
  const libraries = collectNeededLibraries(main, (relative) => readOptional(join(dirname(command.mainPath), relative)));
  const progress = command.progress ?? stderrIsTerminal();
  const line = progress && !(command.explore && (command.jobs ?? 1) > 1) ? new ProgressLine(process.stderr) : undefined;
  const host = hostInputs(command);
  let outcome;
  try {
    outcome = command.explore && (command.jobs ?? 1) > 1
      ? await withJobs(command, main, patch, libraries, host)
      : await runCommand(command, main, patch, line ? engineWithProgress(command.engine, line) : undefined, libraries, host);
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

async function withJobs(command: Extract<ReturnType<typeof parseCommandLine>, { kind: 'verify' }>['command'], main: Uint8Array, patch: Uint8Array, libraries: LibraryFile[], host: ReturnType<typeof hostInputs>): ReturnType<typeof runCommand> {
  const input = commandInput(command, main, patch, command.engine, libraries, host);
  const result = await verifyWithJobs(input, command.explore!, command.jobs!, host.system);
  return { result, report: render(result, command), exitCode: EXIT_CODES[result.verdict] };
}

function merge(files: readonly string[]): number {
  const reports = files.map((f) => {
    const text = new TextDecoder().decode(readInput(f, 'shard report', DEFAULT_MAX_FILE_SIZE));
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new CliError(`'${f}' is not JSON (a shard's report from --explore --shard i/n --format json)`);
    }
  });
  let merged;
  try {
    merged = mergeReports(reports, files);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  // Written synchronously, as the reports are: the process exits right after (no stream to drain).
  return report(JSON.stringify(merged, null, 2) + '\n', merged.verdict === 'safe' ? 0 : merged.verdict === 'unsafe' ? 1 : 2);
}

run(process.argv.slice(2)).then(
  (code) => {
    // Exit now rather than when the event loop drains: Node would first wait for V8's background
    // work (the wasm core's optimising compiles) to finish, ~40 ms of a cold start for nothing.
    process.exit(code);
  },
  (error: unknown) => {
    const known = error instanceof CliError;
    const message = error instanceof Error ? error.message : String(error);
    writeError(`${known ? '' : 'internal error (please report): '}${firstLine(message)}`);
    process.exit(2);
  },
);
