// Whole programs for the block-mode differential: each instance gets its register set-up as
// `movabs` instructions in front of it, so a sequence runs in one start() on both engines
// (the core's decoded-instruction cache, lazy flags and chunked runs are exercised, unlike
// single steps). Chunk layout:
//   [movabs reg, imm64 ... ; jmp short past the unused set-up area] [instance] [add rax, 0]? [jmp $+2]
// `add rax, 0` (48 83 c0 00) follows instances that leave flags undefined: it defines all six
// status flags without changing a register, so no undefined flag is ever consumed.

import { GPRS, type Gpr, type Register } from '../../../src/engine/engine.js';
import { analyseInstance, randomInstance, type InstanceInfo, type InstructionForm } from './instruction-forms.js';
import { LAYOUT, setUp } from './lockstep.js';
import type { Rng } from './rng.js';

const SETUP_AREA = 120; // 11 movabs (10 bytes each) + jmp short (2)
const DEFINE_FLAGS = [0x48, 0x83, 0xc0, 0x00]; // add rax, 0
const NEXT = [0xeb, 0x00]; // jmp $+2

/** Results the CPU leaves undefined or Unicorn cannot be trusted with, which a whole program would carry forward. */
const FLOATING_ARITHMETIC = /^(Add|Sub|Mul|Div|Min|Max|Sqrt|Hadd|Hsub|Addsub|Dp|Rcp|Rsqrt|Round|Cvt)/;

export interface BlockInstance {
  rip: bigint;
  bytes: Uint8Array;
  info: InstanceInfo;
}

export interface BlockProgram {
  code: Uint8Array;
  instances: BlockInstance[];
  /** Start address of each chunk, ascending; a run resumes at the chunk after the one that stopped. */
  chunkStarts: bigint[];
  end: bigint; // the final int3
}

function movabs(reg: Gpr, value: bigint): number[] {
  const n = GPRS.indexOf(reg);
  const bytes = [0x48 | (n >= 8 ? 1 : 0), 0xb8 + (n & 7)];
  for (let i = 0n; i < 8n; i++) bytes.push(Number((BigInt.asUintN(64, value) >> (8n * i)) & 0xffn));
  return bytes;
}

function usableInBlocks(info: InstanceInfo): boolean {
  if (info.branch === 'memory' || info.branch === 'return') return false; // would need memory set-up
  if (info.mnemonic === 'Bsf' || info.mnemonic === 'Bsr') return false; // undefined destination on zero
  if (/(ps|pd|ss|sd)_/.test(info.name) && FLOATING_ARITHMETIC.test(info.mnemonic)) return false; // NaN payloads (oracle gap)
  return true;
}

export function buildBlockProgram(forms: readonly InstructionForm[], rng: Rng, instanceCount: number): BlockProgram {
  const code = new Uint8Array(LAYOUT.codeSize);
  const instances: BlockInstance[] = [];
  const chunkStarts: bigint[] = [];
  let offset = 0;
  while (instances.length < instanceCount && offset + SETUP_AREA + 32 < LAYOUT.codeSize - 1) {
    const form = rng.pick(forms);
    for (let attempt = 0; attempt < 16; attempt++) {
      const bytes = randomInstance(form, rng);
      const info = analyseInstance(bytes);
      if ('excluded' in info || !usableInBlocks(info)) continue;
      const chunk = LAYOUT.code + BigInt(offset);
      const rip = chunk + BigInt(SETUP_AREA);
      const trailer = [...(info.undefinedFlags !== 0n ? DEFINE_FLAGS : []), ...NEXT];
      const next = rip + BigInt(bytes.length + trailer.length);
      if (info.branch === 'relative') {
        const size = info.branchDisplacementSize ?? 4;
        bytes.fill(0, bytes.length - size);
        bytes[bytes.length - size] = trailer.length; // a taken branch lands on the next chunk
      }
      const writes = setUp(info, rng, [], [], next, bytes, rip);
      if (!writes) continue;
      const setup = writes.filter((w): w is [Gpr, bigint] => (GPRS as readonly Register[]).includes(w[0])).flatMap(([reg, value]) => movabs(reg, value));
      if (setup.length > SETUP_AREA - 2) continue;
      setup.push(0xeb, SETUP_AREA - setup.length - 2); // jmp short to the instance
      code.set(setup, offset);
      code.set(bytes, offset + SETUP_AREA);
      code.set(trailer, offset + SETUP_AREA + bytes.length);
      chunkStarts.push(chunk);
      instances.push({ rip, bytes, info });
      offset = Number(next - LAYOUT.code);
      break;
    }
  }
  code[offset] = 0xcc; // int3
  return { code, instances, chunkStarts, end: LAYOUT.code + BigInt(offset) };
}
