#!/usr/bin/env node
// verify-patch <main> <patch.so> <sym> [options]: the contract of shared/design.md. This file
// adds only what needs Node (reading the files, stdout/stderr, the exit code) to the
// browser-clean command core in src/verify/command.ts. Exit codes: 0 safe, 1 unsafe, 2
// could not verify; a problem is one line on stderr, never a stack trace.

import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { collectNeededLibraries } from '../verify/libraries.js';
import { parseCommandLine, render, runCommand, TOOL } from '../verify/command.js';
import { mergeReports } from '../verify/explore/merge.js';
import { EXIT_CODES } from '../verify/finding.js';
import { verifyWithJobs } from './explore-jobs.js';
import { CliError } from './error.js';
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
  --format text|json|sarif  report format (default: text)
  --engine wasm|unicorn   CPU: the WebAssembly core (default) or native libunicorn
  --help, --version

exploration (try the patch at every instruction boundary of a window):
  --explore [FROM:TO]     patch at every boundary from FROM to TO executed instructions (default:
                          0 to twice the default patch point) and report the unsafe windows;
                          any unsafe point makes the verdict unsafe
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

function readInput(path: string, role: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read ${role} '${path}': ${reason}`);
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
  if (request.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${TOOL.name} ${TOOL.version}\n`);
    return 0;
  }
  if (request.kind === 'merge') return merge(request.files);
  const { command } = request;
  const main = readInput(command.mainPath, 'main');
  const patch = readInput(command.patchPath, 'patch.so');
  // The libraries main needs, where ld.so would find them next to it (RUNPATH $ORIGIN).
  const libraries = collectNeededLibraries(main, (relative) => readOptional(join(dirname(command.mainPath), relative)));
  const progress = command.progress ?? process.stderr.isTTY === true;
  const line = progress && !(command.explore && (command.jobs ?? 1) > 1) ? new ProgressLine(process.stderr) : undefined;
  let outcome;
  try {
    outcome = command.explore && (command.jobs ?? 1) > 1
      ? await withJobs(command, main, patch)
      : await runCommand(command, main, patch, line ? engineWithProgress(command.engine, line) : undefined, libraries);
  } finally {
    line?.end();
  }
  if (outcome.result.verdict === 'error') {
    // Machine formats still get a report (verdict "error"); a terminal gets the one line.
    if (command.format !== 'text') process.stdout.write(outcome.report);
    process.stderr.write(`verify-patch: could not verify: ${outcome.result.error ?? 'unknown reason'}\n`);
  } else {
    process.stdout.write(outcome.report);
  }
  return outcome.exitCode;
}

async function withJobs(command: Extract<ReturnType<typeof parseCommandLine>, { kind: 'verify' }>['command'], main: Uint8Array, patch: Uint8Array): ReturnType<typeof runCommand> {
  const input = {
    main, mainName: command.mainPath, patch, patchName: command.patchPath, symbol: command.symbol, trampoline: command.trampoline, engine: command.engine,
    ...(command.with !== undefined ? { with: command.with } : {}),
    ...(command.signal !== undefined ? { signal: command.signal } : {}),
    ...(command.lookup !== undefined ? { lookup: command.lookup } : {}),
    ...(command.strategy !== undefined ? { strategy: command.strategy } : {}),
    ...(command.patchAt !== undefined ? { patchAt: command.patchAt } : {}),
    ...(command.maxInstructions !== undefined ? { maxInstructions: command.maxInstructions } : {}),
  };
  const result = await verifyWithJobs(input, command.explore!, command.jobs!);
  return { result, report: render(result, command), exitCode: EXIT_CODES[result.verdict] };
}

function merge(files: readonly string[]): number {
  const reports = files.map((f) => {
    const text = new TextDecoder().decode(readInput(f, 'shard report'));
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
  process.stdout.write(JSON.stringify(merged, null, 2) + '\n');
  return merged.verdict === 'safe' ? 0 : merged.verdict === 'unsafe' ? 1 : 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof CliError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`verify-patch: ${known ? '' : 'internal error (please report): '}${message.split('\n')[0]}\n`);
    process.exitCode = 2;
  },
);
