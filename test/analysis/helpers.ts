// Test helpers: images from hand-written bytes, gcc-compiled programs, objdump as an oracle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeImage, CodeImageFunction, CodeImageSection } from '../../src/analysis/code-image.js';
import { codeImageFromElf } from '../../src/analysis/from-elf.js';
import { ElfFile } from '../../src/elf/index.js';

export const TEXT = 0x401000n;

/** One .text section at `base` holding `bytes`, plus optional .rodata. */
export function imageOf(
  bytes: number[],
  functions: { name: string; at: number; size: number }[],
  options: { base?: bigint; rodata?: { address: bigint; bytes: number[] } } = {},
): CodeImage {
  const base = options.base ?? TEXT;
  const sections: CodeImageSection[] = [{ name: '.text', address: base, bytes: Uint8Array.from(bytes), executable: true }];
  if (options.rodata) sections.push({ name: '.rodata', address: options.rodata.address, bytes: Uint8Array.from(options.rodata.bytes), executable: false });
  const fns: CodeImageFunction[] = functions.map((f) => ({ name: f.name, address: base + BigInt(f.at), size: f.size }));
  return { sections, functions: fns };
}

export function le32(value: number): number[] {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value, true);
  return [...out];
}

export function le64(value: bigint): number[] {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return [...out];
}

const workDir = mkdtempSync(join(tmpdir(), 'patchsandbox-analysis-'));

/** Compiles C source with gcc and returns the output path. */
export function compileC(name: string, source: string, flags: string[]): string {
  const src = join(workDir, `${name}.c`);
  const out = join(workDir, name);
  writeFileSync(src, source);
  execFileSync('gcc', [...flags, '-o', out, src], { stdio: 'pipe' });
  return out;
}

export function elfImage(path: string): CodeImage {
  return codeImageFromElf(ElfFile.parse(new Uint8Array(readFileSync(path))));
}

export interface ObjdumpInstruction {
  address: bigint;
  text: string;
  /** Direct branch target printed by objdump, if any. */
  target: bigint | null;
}

/** `objdump -d -M intel` of one section: every instruction start and direct branch target. */
export function objdumpSection(path: string, section: string): ObjdumpInstruction[] {
  const out = execFileSync('objdump', ['-d', '-M', 'intel', '--no-show-raw-insn', '-j', section, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const list: ObjdumpInstruction[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t(.*)$/.exec(line);
    if (!m) continue;
    const text = m[2]!.trim();
    const branch = /^(?:(?:bnd|notrack|data16|rex\.\w*|cs|ds)\s+)*(j[a-z]+|call|loop[a-z]*)\s+([0-9a-f]+)(?:\s|$)/.exec(text);
    list.push({ address: BigInt(`0x${m[1]}`), text, target: branch ? BigInt(`0x${branch[2]}`) : null });
  }
  return list;
}
