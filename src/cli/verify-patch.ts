#!/usr/bin/env node
// verify-patch <main> <patch.so> <sym> [options]. Interim: resolves and describes the
// target and its replacement; the emulated verification is not implemented yet, so every
// run ends with exit code 2 ("could not verify"), never 0 ("safe").

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ElfError, ElfFile, initDemangler } from '../elf/index.js';
import { hex, hexBytes } from '../report/format.js';
import { CliError } from './error.js';
import { inspect, type FileSummary, type Inspection, type ResolvedFunction } from './inspection.js';

const HELP = `usage: verify-patch <main> <patch.so> <sym> [options]

Verifies a hot patch (patch.so's replacement jumped to from <sym>'s first bytes in main)
in an emulated x86-64 process before it is applied to a real one.

  <main>                  the executable (or library) that holds the function to patch
  <patch.so>              the shared object with the replacement
  <sym>                   function in main: mangled (_Z13need_fix_funcv) or demangled (need_fix_func())

options:
  --with <sym>            replacement in patch.so (default: the same name)
  --format text|json      report format (default: text)
  --help                  show this help and exit 0

not implemented yet (given, they stop the run with exit code 2):
  --trampoline <form>     abs-rax (default, the 12-byte movabs/jmp) | rel32 | abs-indirect |
                          an asm template for Keystone with {target}, e.g. 'movabs r11, {target}; jmp r11'
  --signal <SIG>          program-driven mode: deliver SIG and let main's handler patch
  --patch-at <n>          apply/deliver after n executed instructions
  --max-insns <n>         instruction budget for the whole run
  --format sarif          SARIF report
  --engine wasm|unicorn   CPU engine (default: wasm)

exit code: 0 safe · 1 unsafe (at least one error finding) · 2 could not verify (bad input,
unsupported instruction, budget hit before the patch point, ...).
This version resolves and describes the target and the replacement but does not verify
yet, so it always exits with 2.
`;

const NOT_IMPLEMENTED = ['trampoline', 'signal', 'patch-at', 'max-insns', 'engine'] as const;

interface Options {
  mainPath: string;
  patchPath: string;
  target: string;
  replacement: string | undefined;
  format: 'text' | 'json';
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        with: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        trampoline: { type: 'string' },
        signal: { type: 'string' },
        'patch-at': { type: 'string' },
        'max-insns': { type: 'string' },
        engine: { type: 'string' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  for (const name of NOT_IMPLEMENTED) {
    if (values[name] !== undefined) throw new CliError(`--${name} is not implemented yet`);
  }
  const format = values.format ?? 'text';
  if (format === 'sarif') throw new CliError('--format sarif is not implemented yet');
  if (format !== 'text' && format !== 'json') throw new CliError(`--format must be text or json, not '${format}'`);
  if (positionals.length !== 3) {
    throw new CliError(`expected 3 arguments <main> <patch.so> <sym>, got ${positionals.length} (see --help)`);
  }
  const [mainPath, patchPath, target] = positionals as [string, string, string];
  if (target === '') throw new CliError('<sym> is empty');
  return { mainPath, patchPath, target, replacement: values.with, format };
}

function loadElf(path: string, role: string): ElfFile {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read ${role} '${path}': ${reason}`);
  }
  try {
    return ElfFile.parse(bytes);
  } catch (error) {
    if (error instanceof ElfError) {
      const state = error.problem === 'truncated' ? ' is truncated' : error.problem === 'malformed' ? ' is malformed' : '';
      throw new CliError(`${role} '${path}'${state}: ${error.message}`);
    }
    throw error;
  }
}

function describeFile(role: string, f: FileSummary): string[] {
  return [
    `${role}: ${f.path}`,
    `  type ${f.type}${f.bindNow ? ', BIND_NOW' : ''}${f.soname ? `, soname ${f.soname}` : ''}`,
    `  build-id ${f.buildId ?? '(none)'}`,
    `  interpreter ${f.interpreter ?? '(none)'}`,
    `  needs ${f.needed.length > 0 ? f.needed.join(', ') : '(nothing)'}`,
  ];
}

function describeSymbol(role: string, s: ResolvedFunction): string[] {
  return [
    `${role}: ${s.versionedName}${s.demangled !== s.name ? `  (${s.demangled})` : ''}`,
    `  address ${hex(s.address)}, size ${s.size} bytes, section ${s.section}, ${s.binding} ${s.type} from .${s.table}`,
    `  exported in .dynsym: ${s.exported ? 'yes' : 'no'}`,
  ];
}

function textReport(r: Inspection): string {
  const lines = [
    ...describeFile('main', r.main),
    ...describeFile('patch', r.patch),
    '',
    ...describeSymbol('target', r.target),
    ...r.targetInstructions.map((i, n) => `    ${hex(i.address).padStart(10)}:  ${hexBytes(i.bytes).padEnd(30)} ${i.text}${r.targetBranchLabels[n] ? ` ${r.targetBranchLabels[n]}` : ''}`),
    ...(r.targetListingTruncated ? ['    ... (listing cut at 4096 bytes)'] : []),
    ...describeSymbol('replacement', r.replacement),
    '',
    'verdict: not verified — the emulated verification is not implemented yet (exit code 2).',
  ];
  return lines.join('\n') + '\n';
}

function jsonReport(r: Inspection): string {
  const report = {
    verdict: 'error',
    error: 'verification is not implemented yet',
    files: { main: r.main, patch: r.patch },
    target: { ...r.target, instructions: r.targetInstructions.map((i) => ({ address: i.address, bytes: hexBytes(i.bytes), text: i.text })) },
    replacement: r.replacement,
    findings: [],
  };
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? hex(value) : value), 2) + '\n';
}

async function run(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const main = loadElf(options.mainPath, 'main');
  const patch = loadElf(options.patchPath, 'patch.so');
  await initDemangler();
  const inspection = inspect(options.mainPath, main, options.patchPath, patch, options.target, options.replacement);
  process.stdout.write(options.format === 'json' ? jsonReport(inspection) : textReport(inspection));
  process.stderr.write('verify-patch: could not verify: the emulated verification is not implemented yet\n');
  return 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof CliError || error instanceof ElfError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`verify-patch: ${known ? '' : 'internal error (please report): '}${message}\n`);
    process.exitCode = 2;
  },
);
