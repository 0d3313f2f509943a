// The pieces behind the resource limits, each alone: the bounded output capture, terminal
// escaping, lazy pages and the touched-page limit in the wasm MMU, the address-space limit,
// the bounded list of failed system calls, work charged to the budget, and dependency
// failures (Keystone's runtime aborting) turned into the layer's one-line error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Assembler } from '../../src/asm/keystone.js';
import { AsmError } from '../../src/asm/error.js';
import { parseTrampolineSpec } from '../../src/asm/trampoline.js';
import { ElfError, ElfFile } from '../../src/elf/index.js';
import { EmulationError, Perm } from '../../src/engine/engine.js';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { CapturedOutput } from '../../src/loader/captured-output.js';
import { EmulatedProcess, LoaderError } from '../../src/loader/index.js';
import { FAILED_SYSCALLS_KEPT } from '../../src/loader/limits.js';
import { escapeTerminal } from '../../src/report/escape.js';
import { parseCommandLine } from '../../src/verify/command.js';
import { REPO_ROOT } from '../elf/elf-files.js';

const BIN = join(REPO_ROOT, 'test/hostile/bin');
const text = (chunks: ReturnType<CapturedOutput['chunks']>): string => chunks.map((c) => c.text).join('');

describe('CapturedOutput', () => {
  it('keeps the first and last `keep` bytes of each stream, counts the rest, in write order', () => {
    const out = new CapturedOutput(4);
    const enc = new TextEncoder();
    out.append(1, enc.encode('abcdefgh'), 1);
    out.append(2, enc.encode('EE'), 2);
    out.append(1, enc.encode('ijkl'), 3);
    out.append(1, enc.encode('mn'), 4);
    expect(out.totalBytes(1)).toBe(14);
    expect(out.omittedBytes(1)).toBe(6);
    const chunks = out.chunks();
    expect(text(chunks.filter((c) => c.fd === 1 && c.omitted === undefined))).toBe('abcdklmn');
    expect(chunks.find((c) => c.omitted !== undefined)!.text).toContain('[... 6 bytes not kept (--max-output 4: first and last 4 bytes of 14) ...]');
    expect(text(chunks.filter((c) => c.fd === 2))).toBe('EE');
  });

  it('reads only the kept parts of a huge write, and restores a saved state exactly', () => {
    const out = new CapturedOutput(8);
    const reads: [number, number][] = [];
    out.appendRange(1, 1 << 30, 0, (offset, length) => {
      reads.push([offset, length]);
      return new Uint8Array(length).fill(0x41);
    });
    expect(reads).toEqual([[0, 8], [(1 << 30) - 8, 8]]);
    const saved = out.saveState();
    out.append(1, new TextEncoder().encode('later'), 1);
    out.restoreState(saved);
    expect(out.totalBytes(1)).toBe(1 << 30);
    expect(text(out.chunks())).not.toContain('later');
  });
});

describe('escapeTerminal', () => {
  it('shows every control character visibly and keeps line feeds', () => {
    expect(escapeTerminal('a\x1b[2Jb\r\tc\x07\x00\x7f\x9b\u202e\n')).toBe('a\\x1b[2Jb\\r\\tc\\x07\\0\\x7f\\x9b\\u202e\n');
    expect(escapeTerminal('plain text, ünïcode ✓')).toBe('plain text, ünïcode ✓');
  });
});

describe('lazy guest memory and the touched-page limit (wasm MMU)', () => {
  it('maps 3 GiB without touching it, reads zeros, and stops at the limit on writes', async () => {
    const engine = await WasmEngine.create();
    engine.setMemoryLimit(8 * 4096);
    engine.map(0x10000000n, 3 * 2 ** 30, Perm.RW);
    expect(engine.readMemory(0x10000000n + 12345n, 4)).toEqual(new Uint8Array(4));
    for (let i = 0; i < 8; i++) engine.writeMemory(0x10000000n + BigInt(i) * 0x100000n, Uint8Array.of(i + 1));
    expect(engine.readMemory(0x10000000n + 0x300000n, 1)).toEqual(Uint8Array.of(4));
    expect(() => engine.writeMemory(0x20000000n, Uint8Array.of(1))).toThrow(/MEMORY_LIMIT: the guest exceeded the memory limit/);
    engine.close();
  });

  it('a guest store beyond the limit ends start() with MEMORY_LIMIT, not a fault the guest could handle', async () => {
    const engine = await WasmEngine.create();
    engine.setMemoryLimit(2 * 4096);
    engine.map(0x1000n, 0x1000, Perm.All);
    engine.map(0x100000n, 0x100000, Perm.RW);
    // 0x1000: mov [rax], al; add rax, 0x1000; jmp 0x1000
    engine.writeMemory(0x1000n, Uint8Array.of(0x88, 0x00, 0x48, 0x05, 0x00, 0x10, 0x00, 0x00, 0xeb, 0xf6));
    engine.writeRegister('rax', 0x100000n);
    let error: unknown;
    try {
      engine.start(0x1000n, { count: 1000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EmulationError);
    expect((error as EmulationError).code).toBe('MEMORY_LIMIT');
    engine.close();
  });
});

describe('the address-space limit and failed system calls', () => {
  it('mmap beyond 4 x --max-memory is ENOMEM; a loop of unknown system calls keeps only the first few', async () => {
    const main = new Uint8Array(readFileSync(join(BIN, 'syscall-loop')));
    const process = EmulatedProcess.create(await WasmEngine.create(), { main, mainPath: './syscall-loop', limits: { maxMemory: 64 << 20 } });
    expect(process.space.mmap(0n, BigInt(300 << 20), 3, 0x22)).toBe(-12n);
    expect(process.space.mmap(0n, BigInt(100 << 20), 3, 0x22)).toBeGreaterThan(0n);
    const stop = process.run({ maxInstructions: 1_000_000 });
    expect(stop.reason).toBe('budget');
    expect(process.failedSyscalls).toBeGreaterThan(5000);
    expect(process.events.filter((e) => e.kind === 'syscall')).toHaveLength(FAILED_SYSCALLS_KEPT);
    // Each system call is charged: far fewer instructions ran than the budget.
    expect(process.instructions + process.charged).toBeGreaterThanOrEqual(1_000_000);
    expect(process.instructions).toBeLessThan(200_000);
  });

  it('printf refuses a width it would have to materialise', async () => {
    const main = new Uint8Array(readFileSync(join(BIN, 'printf-width')));
    const process = EmulatedProcess.create(await WasmEngine.create(), { main, mainPath: './printf-width' });
    expect(() => process.run({ maxInstructions: 1_000_000 })).toThrow(LoaderError);
  });
});

describe('ELF segment validation', () => {
  it('a PT_LOAD beyond the 47-bit user address space is an ElfError naming the program header', () => {
    const bytes = new Uint8Array(readFileSync(join(REPO_ROOT, 'corpus/seed-classic/patch.so')));
    const view = new DataView(bytes.buffer);
    const phoff = Number(view.getBigUint64(0x20, true));
    view.setBigUint64(phoff + 16, 0x800000000000n, true); // program header 0's p_vaddr (p_offset 0)
    expect(() => ElfFile.parse(bytes)).toThrow(ElfError);
    expect(() => ElfFile.parse(bytes)).toThrow(/program header 0 \(LOAD\): segment 0x800000000000\+0x[0-9a-f]+ ends beyond the 47-bit user address space/);
  });
});

describe('dependency failures become the layer error', () => {
  it('Keystone running out of memory is one AsmError, and the next assembly works again', async () => {
    const assembler = await Assembler.load();
    let error: unknown;
    try {
      assembler.assemble('.space 2000000000', 0x1000n);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AsmError);
    expect((error as Error).message).toMatch(/Keystone gave up assembling .*Aborted\(OOM\)/);
    expect((error as Error).message).not.toContain('\n');
    const again = await Assembler.load();
    expect(again.assemble('jmp rax', 0x1000n)).toEqual(Uint8Array.of(0xff, 0xe0));
  });

  it('fill directives are refused in trampoline templates before Keystone sees them', () => {
    expect(() => parseTrampolineSpec('.fill 100000000, 8, 0; jmp {target}')).toThrow(/directive \.fill/);
    expect(parseTrampolineSpec('movabs r11, {target}; jmp r11')).toEqual({ template: 'movabs r11, {target}; jmp r11' });
  });
});

describe('limit options', () => {
  it('parse sizes with units and seconds; defaults 512M files, 1G memory, 64K output, 60 s', () => {
    const defaults = parseCommandLine(['m', 'p', 's']);
    expect(defaults.kind === 'verify' && defaults.command).toMatchObject({ maxFileSize: 512 << 20, maxMemory: 1 << 30, maxOutput: 65536, timeoutSeconds: 60 });
    const set = parseCommandLine(['m', 'p', 's', '--max-memory', '256M', '--max-output=1K', '--max-file-size', '2G', '--timeout', '1.5']);
    expect(set.kind === 'verify' && set.command).toMatchObject({ maxMemory: 256 << 20, maxOutput: 1024, maxFileSize: 2 * 2 ** 30, timeoutSeconds: 1.5 });
    expect(() => parseCommandLine(['m', 'p', 's', '--max-memory', 'lots'])).toThrow(/--max-memory wants a size/);
    expect(() => parseCommandLine(['m', 'p', 's', '--max-memory', '1M'])).toThrow(/at least 16M/);
    expect(() => parseCommandLine(['m', 'p', 's', '--timeout', '-1'])).toThrow(/--timeout wants a number of seconds/);
  });
});
