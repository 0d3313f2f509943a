// Decoder differential: every instruction of .text (linear sweep) in the corpus binaries and in
// this machine's libc.so.6 and libstdc++.so.6, decoded by iced-x86 and by WasmEngine.probe.
// The core may say "unsupported", never a different length. Prints the core's coverage of the
// instruction forms compiled code really uses, and the most frequent forms it lacks.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as iced from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/elf/index.js';
import { IN_CI, createWasmEngine, engineAvailability } from './gen/engines.js';
import { codeName, hexBytes } from './gen/instruction-forms.js';

const wasm = await engineAvailability('wasm');

const SYSTEM_LIBRARIES = ['libc.so.6', 'libstdc++.so.6']
  .map((name) => ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/lib64'].map((dir) => join(dir, name)).find(existsSync))
  .filter((path): path is string => path !== undefined);

function corpusElfFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) found.push(...corpusElfFiles(path));
    else if (stat.isFile() && stat.size > 64) {
      const head = readFileSync(path).subarray(0, 4);
      if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) found.push(path);
    }
  }
  return found;
}

interface FormTally {
  occurrences: number;
  supported: number;
}

describe('decoder differential: iced-x86 vs WasmEngine.probe over real .text', () => {
  if (wasm.unavailable) {
    if (IN_CI) it('needs the wasm core in CI', () => expect.fail(wasm.unavailable));
    else it.skip(`SKIPPED: ${wasm.unavailable}`, () => {});
    return;
  }

  it('never decodes a different length, and reports its coverage', async () => {
    const files = [...corpusElfFiles('corpus'), ...SYSTEM_LIBRARIES];
    expect(SYSTEM_LIBRARIES.length, 'libc.so.6 and libstdc++.so.6 must be found').toBe(2);
    const core = await createWasmEngine();
    const tally = new Map<string, FormTally>();
    // Issue 7's coverage figure: the distinct legacy-encoded forms (the SSE2 code paths glibc
    // takes when cpuid says there is no AVX) in libc.so.6 and libstdc++.so.6.
    const libraryForms = new Map<string, boolean>();
    const misdecoded: string[] = [];
    let instructions = 0;
    let invalid = 0;
    const instruction = new iced.Instruction();

    for (const path of files) {
      let elf: ElfFile;
      try {
        elf = ElfFile.parse(new Uint8Array(readFileSync(path)));
      } catch {
        continue; // corpus/bad-input holds deliberately broken files
      }
      const text = elf.sectionNamed('.text');
      if (!text || text.size === 0n || elf.header.machine !== 62) continue;
      const bytes = elf.bytes.subarray(text.offset, text.offset + Number(text.size));
      const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
      decoder.ip = text.address;
      while (decoder.canDecode) {
        const offset = Number(decoder.ip - text.address);
        decoder.decodeOut(instruction);
        instructions++;
        const window = bytes.subarray(offset, offset + 15);
        const probe = core.probe(window);
        if (instruction.isInvalid) {
          invalid++;
          if (probe.supported) misdecoded.push(`${path} @0x${(text.address + BigInt(offset)).toString(16)}: ${hexBytes(window.subarray(0, 8))} iced: invalid, core: ${probe.length} bytes`);
          continue;
        }
        const name = codeName(instruction.code);
        if (SYSTEM_LIBRARIES.includes(path) && !/^(VEX|EVEX|XOP)_/.test(name)) {
          libraryForms.set(name, (libraryForms.get(name) ?? true) && probe.supported);
        }
        const form = tally.get(name) ?? { occurrences: 0, supported: 0 };
        form.occurrences++;
        if (probe.supported) {
          form.supported++;
          if (probe.length !== instruction.length) {
            misdecoded.push(
              `${path} @0x${(text.address + BigInt(offset)).toString(16)}: ${hexBytes(window.subarray(0, instruction.length))} [${name}] iced ${instruction.length} bytes, core ${probe.length}`,
            );
          }
        }
        tally.set(name, form);
      }
      decoder.free();
    }
    instruction.free();
    core.close();

    const forms = [...tally.entries()];
    const fullySupported = forms.filter(([, t]) => t.supported === t.occurrences).length;
    const supportedOccurrences = forms.reduce((sum, [, t]) => sum + t.supported, 0);
    const validOccurrences = forms.reduce((sum, [, t]) => sum + t.occurrences, 0);
    const missing = forms
      .map(([name, t]) => ({ name, unsupported: t.occurrences - t.supported }))
      .filter((f) => f.unsupported > 0)
      .sort((a, b) => b.unsupported - a.unsupported)
      .slice(0, 30);
    // glibc's AVX2/AVX-512 string functions dominate the list above; the legacy ones matter first
    const missingLegacy = forms
      .map(([name, t]) => ({ name, unsupported: t.occurrences - t.supported }))
      .filter((f) => f.unsupported > 0 && !/^(VEX|EVEX|XOP)_/.test(f.name))
      .sort((a, b) => b.unsupported - a.unsupported)
      .slice(0, 20);
    const librarySupported = [...libraryForms.values()].filter(Boolean).length;
    const percent = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;
    console.log(
      [
        `decoder: ${instructions} instructions in .text of ${files.length} files (${invalid} invalid to iced: data or padding)`,
        `coverage: ${fullySupported}/${forms.length} distinct forms fully supported (${percent(fullySupported, forms.length)}); ` +
          `${percent(supportedOccurrences, validOccurrences)} of instruction occurrences supported`,
        `libc.so.6 + libstdc++.so.6, legacy-encoded (non-VEX/EVEX) forms: ${librarySupported}/${libraryForms.size} supported (${percent(librarySupported, libraryForms.size)})`,
        'top unsupported forms by occurrences:',
        ...missing.map((f) => `  ${f.unsupported.toString().padStart(7)}  ${f.name}`),
        'top unsupported legacy-encoded (non-VEX/EVEX) forms:',
        ...missingLegacy.map((f) => `  ${f.unsupported.toString().padStart(7)}  ${f.name}`),
        misdecoded.length > 0 ? `MIS-DECODED (${misdecoded.length}):\n${misdecoded.slice(0, 20).join('\n')}` : 'no instruction decoded to a different length',
      ].join('\n'),
    );
    expect(instructions).toBeGreaterThan(100_000);
    // A floor, not a measurement of speed: a form the core stops supporting shows up here.
    expect(librarySupported / libraryForms.size).toBeGreaterThanOrEqual(0.98);
    expect(misdecoded, 'the core decoded these to a different length than iced').toEqual([]);
  });
});
