// x87 sequences run on this machine's CPU (a gcc-built harness with the bytes inlined) and on an
// Engine, compared as architectural state: the non-empty ST(i) bit-exactly, FCW, FSW (all bits,
// exceptions and C0..C3 included), the abridged tag word and a 128-byte buffer at rbx. Every
// sequence starts from fninit; the CPU's state is taken with fxsave.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Perm, type Engine } from '../../../src/engine/engine.js';
import { hexBytes } from './instruction-forms.js';

export const BUFFER_SIZE = 128;

export interface X87Case {
  name: string;
  /** Instructions run after fninit with rbx = the buffer (they may use rax too). */
  code: number[];
  /** Initial buffer contents: offset -> bytes. */
  memory?: Record<number, Uint8Array | number[]>;
}

export interface X87Outcome {
  /** ST(0)..ST(7) as 10 hex bytes (little-endian, sign/exponent last), '-' when empty. */
  st: string[];
  fcw: number;
  fsw: number;
  /** Abridged tag word (fxsave): bit r set when physical register r is not empty. */
  tags: number;
  memory: string;
}

// Encodings used by the cases ([rbx+d] is ModRM mod=01 rm=011 with disp8).
/** fld tword [rbx+d] */
export const fld80 = (d: number): number[] => [0xdb, 0x6b, d];
/** fld qword [rbx+d] */
export const fld64 = (d: number): number[] => [0xdd, 0x43, d];
/** fld dword [rbx+d] */
export const fld32 = (d: number): number[] => [0xd9, 0x43, d];
/** fstp tword [rbx+d] */
export const fstp80 = (d: number): number[] => [0xdb, 0x7b, d];
/** fst qword [rbx+d] */
export const fst64 = (d: number): number[] => [0xdd, 0x53, d];
/** fst dword [rbx+d] */
export const fst32 = (d: number): number[] => [0xd9, 0x53, d];
/** fldcw word [rbx+d] */
export const fldcw = (d: number): number[] => [0xd9, 0x6b, d];

/** An 80-bit extended value: sign, biased exponent (15 bits), 64-bit significand (explicit integer bit). */
export function ext(sign: 0 | 1, exponent: number, significand: bigint): Uint8Array {
  const out = new Uint8Array(10);
  for (let i = 0; i < 8; i++) out[i] = Number((significand >> BigInt(8 * i)) & 0xffn);
  const se = (sign << 15) | exponent;
  out[8] = se & 0xff;
  out[9] = se >> 8;
  return out;
}
/** Little-endian bytes of an integer (float bit patterns, integers, control words). */
export function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((BigInt.asUintN(64, value) >> BigInt(8 * i)) & 0xffn);
  return out;
}
/** A control word with every exception masked: pc 0 (24 bits), 2 (53), 3 (64); rc 0 nearest, 1 down, 2 up, 3 chop. */
export const controlWord = (pc: number, rc: number): Uint8Array => le(BigInt(0x7f | (pc << 8) | (rc << 10)), 2);

function initialBuffer(c: X87Case): Uint8Array {
  const buffer = new Uint8Array(BUFFER_SIZE);
  for (const [offset, bytes] of Object.entries(c.memory ?? {})) buffer.set(bytes, Number(offset));
  return buffer;
}

const hex = (bytes: Uint8Array): string => hexBytes(bytes).replaceAll(' ', '');

/** The C harness for all cases: one function each, run from main, fxsave image and buffer printed. */
function nativeSource(cases: X87Case[]): string {
  const functions = cases.map((c, i) => `__asm__(".pushsection .text\\n.globl x87_case${i}\\nx87_case${i}:\\n"
"push %rbx\\nmov %rdi, %rbx\\nfninit\\n"
".byte ${c.code.map((b) => `0x${b.toString(16)}`).join(',')}\\n"
"fxsave (%rsi)\\nfninit\\npop %rbx\\nret\\n.popsection\\n");
void x87_case${i}(uint8_t *buffer, uint8_t *fx);
static uint8_t buffer${i}[${BUFFER_SIZE}] __attribute__((aligned(16))) = { ${[...initialBuffer(c)].join(',')} };`).join('\n');
  const calls = cases.map((_, i) => `  run(x87_case${i}, buffer${i});`).join('\n');
  return `#include <stdio.h>
#include <stdint.h>
#include <string.h>
${functions}
static void run(void (*f)(uint8_t *, uint8_t *), uint8_t *buffer) {
  static uint8_t fx[512] __attribute__((aligned(16)));
  memset(fx, 0, sizeof fx);
  f(buffer, fx);
  printf("%02x%02x %02x%02x %02x", fx[1], fx[0], fx[3], fx[2], fx[4]);
  for (int i = 0; i < 8; i++) { printf(" "); for (int j = 0; j < 10; j++) printf("%02x", fx[32 + 16 * i + j]); }
  printf(" ");
  for (int i = 0; i < ${BUFFER_SIZE}; i++) printf("%02x", buffer[i]);
  printf("\\n");
}
int main(void) {
${calls}
  return 0;
}
`;
}

function emptyMarked(st: string[], fsw: number, tags: number): string[] {
  const top = (fsw >> 11) & 7;
  return st.map((v, i) => ((tags >> ((top + i) & 7)) & 1 ? v : '-'));
}

/** Runs every case on the CPU (one gcc build). Returns undefined when gcc on x86-64 is not available. */
export function runNativeX87(cases: X87Case[]): X87Outcome[] | undefined {
  if (!nativeAvailable()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'x87-native-'));
  const source = join(dir, 'x87.c');
  const binary = join(dir, 'x87');
  writeFileSync(source, nativeSource(cases));
  execFileSync('gcc', ['-O0', '-o', binary, source]);
  const lines = execFileSync(binary, { encoding: 'utf8' }).trim().split('\n');
  return lines.map((line) => {
    const [fcw, fsw, tags, ...rest] = line.split(' ');
    const st = rest.slice(0, 8);
    const fswValue = parseInt(fsw!, 16), tagValue = parseInt(tags!, 16);
    return { fcw: parseInt(fcw!, 16), fsw: fswValue, tags: tagValue, st: emptyMarked(st, fswValue, tagValue), memory: rest[8]! };
  });
}

let gccChecked: boolean | undefined;
export function nativeAvailable(): boolean {
  if (gccChecked === undefined) {
    try {
      execFileSync('gcc', ['--version']);
      gccChecked = process.arch === 'x64';
    } catch {
      gccChecked = false;
    }
  }
  return gccChecked;
}

const CODE = 0x10000n;
const DATA = 0x20000n;

/** Runs one case on an engine (fninit, the code, then stop). */
export function runEngineX87(engine: Engine, c: X87Case): X87Outcome {
  if (!engine.readX87) throw new Error(`${engine.name} has no readX87`);
  engine.map(CODE, 0x1000, Perm.RX);
  engine.map(DATA, 0x1000, Perm.RW);
  const code = Uint8Array.of(0xdb, 0xe3, ...c.code); // fninit; code
  engine.writeMemory(CODE, Uint8Array.of(...code, 0xf4));
  engine.writeMemory(DATA, initialBuffer(c));
  engine.writeRegister('rbx', DATA);
  engine.writeRegister('rax', 0n);
  engine.writeRegister('rsp', 0x20800n);
  const result = engine.start(CODE, { until: CODE + BigInt(code.length) });
  if (result.rip !== CODE + BigInt(code.length)) throw new Error(`${c.name}: stopped at ${result.rip.toString(16)} (${result.reason})`);
  const state = engine.readX87();
  let tags = 0;
  for (let r = 0; r < 8; r++) if (((state.ftw >> (2 * r)) & 3) !== 3) tags |= 1 << r;
  return {
    fcw: state.fcw,
    fsw: state.fsw,
    tags,
    st: emptyMarked(state.st.map(hex), state.fsw, tags),
    memory: hex(engine.readMemory(DATA, BUFFER_SIZE)),
  };
}

/** One line per field, for readable diffs. */
export function describeX87(o: X87Outcome): string {
  return [`fcw ${o.fcw.toString(16)} fsw ${o.fsw.toString(16)} tags ${o.tags.toString(16)}`, ...o.st.map((v, i) => `st${i} ${v}`), `mem ${o.memory}`].join('\n');
}
