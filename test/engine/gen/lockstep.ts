// Lockstep comparison of two engines, one instruction at a time: the same random instance,
// the same register set-up, then GPRs, rip, defined flags, xmm and the data/stack memory
// compared. Undefined flags (per iced-x86) are masked, then copied from the oracle so the two
// machines stay identical for the next instruction.

import { GPRS, Perm, type Engine, type Register, type RunResult } from '../../../src/engine/engine.js';
import { analyseInstance, disassemble, hexBytes, randomInstance, type InstanceInfo, type InstructionForm } from './instruction-forms.js';
import type { Rng } from './rng.js';

export const LAYOUT = {
  code: 0x0010_0000n,
  codeSize: 0x4_0000, // a whole sequence is written before it runs: no code is rewritten after running
  data: 0x0020_0000n,
  dataSize: 0x2000,
  stack: 0x0030_0000n,
  stackSize: 0x1000,
} as const;

/** Flags both engines must agree on when defined: CF PF AF ZF SF DF OF (TF/IF are not guest-controlled here). */
const COMPARED_FLAGS = 0x0cd5n;

const BOUNDARY_VALUES: readonly bigint[] = [
  0n, 1n, 2n, 0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_fffen, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n,
  0x8000_0000_0000_0001n, 0xffff_ffff_8000_0000n, 0x3fn, 0x40n, 0x1fn, 0x20n,
];

const XMM_PATTERNS: readonly number[][] = [
  [0, 0, 0, 0], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0x80000000, 0x80000000, 0x80000000, 0x80000000],
  [0x3f800000, 0xbf800000, 0x7f800000, 0x00000001], // 1.0f, -1.0f, +inf, denormal
  [0x00000000, 0x3ff00000, 0x00000000, 0xbff00000], // 1.0, -1.0 (double)
  [0x7fffffff, 0x00000000, 0x80000001, 0x7fff0000],
];

export function prepareMachine(engine: Engine, dataContents: Uint8Array): void {
  engine.map(LAYOUT.code, LAYOUT.codeSize, Perm.RX);
  engine.map(LAYOUT.data, LAYOUT.dataSize, Perm.RW);
  engine.map(LAYOUT.stack, LAYOUT.stackSize, Perm.RW);
  engine.writeMemory(LAYOUT.data, dataContents);
  for (const gpr of GPRS) engine.writeRegister(gpr, 0n);
  engine.writeRegister('rsp', LAYOUT.stack + 0x800n);
  engine.writeRegister('rflags', 0x2n);
  for (let i = 0; i < 16; i++) engine.writeXmm(i, new Uint8Array(16));
}

export interface MachineState {
  gprs: bigint[];
  rip: bigint;
  rflags: bigint;
  xmm: Uint8Array[];
  data: Uint8Array;
  stack: Uint8Array;
}

export function capture(engine: Engine): MachineState {
  return {
    gprs: GPRS.map((gpr) => engine.readRegister(gpr)),
    rip: engine.readRegister('rip'),
    rflags: engine.readRegister('rflags'),
    xmm: Array.from({ length: 16 }, (_, i) => engine.readXmm(i)),
    data: engine.readMemory(LAYOUT.data, LAYOUT.dataSize),
    stack: engine.readMemory(LAYOUT.stack, LAYOUT.stackSize),
  };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function diffBytes(label: string, base: bigint, a: Uint8Array, b: Uint8Array, out: string[]): void {
  if (Buffer.compare(a, b) === 0) return;
  let shown = 0;
  for (let i = 0; i < a.length && shown < 4; i++) {
    if (a[i] !== b[i]) {
      const at = i & ~7;
      out.push(`${label} @${hex(base + BigInt(at))}: ${hexBytes(a.subarray(at, at + 8))} vs ${hexBytes(b.subarray(at, at + 8))}`);
      shown++;
      i = at + 7;
    }
  }
}

export function diffStates(subject: MachineState, oracle: MachineState, undefinedFlags: bigint): string[] {
  const out: string[] = [];
  GPRS.forEach((gpr, i) => {
    if (subject.gprs[i] !== oracle.gprs[i]) out.push(`${gpr}: ${hex(subject.gprs[i]!)} vs ${hex(oracle.gprs[i]!)}`);
  });
  if (subject.rip !== oracle.rip) out.push(`rip: ${hex(subject.rip)} vs ${hex(oracle.rip)}`);
  const mask = COMPARED_FLAGS & ~undefinedFlags;
  if ((subject.rflags & mask) !== (oracle.rflags & mask)) {
    out.push(`rflags (mask ${hex(mask)}): ${hex(subject.rflags & mask)} vs ${hex(oracle.rflags & mask)}`);
  }
  for (let i = 0; i < 16; i++) {
    if (Buffer.compare(subject.xmm[i]!, oracle.xmm[i]!) !== 0) out.push(`xmm${i}: ${hexBytes(subject.xmm[i]!)} vs ${hexBytes(oracle.xmm[i]!)}`);
  }
  diffBytes('data', LAYOUT.data, subject.data, oracle.data, out);
  diffBytes('stack', LAYOUT.stack, subject.stack, oracle.stack, out);
  return out;
}

export function describeResult(r: RunResult): string {
  const extra = r.fault ? ` ${r.fault.kind}-${r.fault.access}@${hex(r.fault.address)}/${r.fault.size}` : r.interrupt !== undefined ? ` int ${r.interrupt}` : '';
  return `${r.reason}${extra} n=${r.instructions} rip=${hex(r.rip)}`;
}

/** The register writes that make one instance's memory operands land in the data area. */
/** The register (and xmm/memory) values an instance needs, with random boundary values mixed in. */
export function setUp(
  info: InstanceInfo,
  rng: Rng,
  xmmWrites: [number, Uint8Array][],
  memoryWrites: [bigint, Uint8Array][],
  branchTarget: bigint,
  bytes: Uint8Array,
  rip: bigint,
): [Register, bigint][] | undefined {
  const writes: [Register, bigint][] = [];
  // boundary values in a few random registers
  const boundaryCount = rng.below(4);
  for (let i = 0; i < boundaryCount; i++) {
    const gpr = rng.pick(GPRS.filter((g) => g !== 'rsp'));
    writes.push([gpr, rng.chance(0.75) ? rng.pick(BOUNDARY_VALUES) : rng.u64()]);
  }
  if (rng.chance(0.3)) {
    // random status flags; DF set rarely so string instructions mostly run forwards
    let flags = 0x2n;
    for (const bit of [0n, 2n, 4n, 6n, 7n, 11n]) if (rng.chance(0.5)) flags |= 1n << bit;
    if (rng.chance(0.1)) flags |= 1n << 10n;
    writes.push(['rflags', flags]);
  }
  if (rng.chance(0.2)) {
    const pattern = rng.chance(0.5) ? rng.pick(XMM_PATTERNS) : [rng.u32(), rng.u32(), rng.u32(), rng.u32()];
    const bytes = new Uint8Array(Uint32Array.from(pattern).buffer);
    xmmWrites.push([rng.below(16), bytes]);
  }
  const rsp = LAYOUT.stack + 0x800n - BigInt(rng.below(8) * 8);
  writes.push(['rsp', rsp]);
  if (info.branch === 'return') memoryWrites.push([rsp, qword(branchTarget)]);
  if (info.branch === 'register' && info.branchRegister) writes.push([info.branchRegister, branchTarget]);
  const plan = info.plan;
  if (plan.usesFramePointer) writes.push(['rbp', LAYOUT.stack + 0x900n]);
  if (plan.kind === 'string') {
    writes.push(['rsi', LAYOUT.data + 0x800n + BigInt(rng.below(0x400))]);
    writes.push(['rdi', LAYOUT.data + 0x1000n + BigInt(rng.below(0x400))]);
    writes.push(['rcx', BigInt(rng.below(17))]);
  } else if (plan.kind !== 'none') {
    let target = LAYOUT.data + 0x800n + BigInt(rng.below(0x1000));
    if (plan.aligned || info.branch === 'memory') target &= ~15n;
    if (info.branch === 'memory') memoryWrites.push([target, qword(branchTarget)]);
    const scale = BigInt(plan.scale);
    if (plan.displacementField) {
      // rip-relative: disp32 from the end of the instruction; absolute: disp32 or moffs64
      const { offset, size } = plan.displacementField;
      const value = plan.kind === 'rip-relative' ? target - (rip + BigInt(bytes.length)) : target;
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
      if (size === 4) view.setInt32(0, Number(BigInt.asIntN(32, value)), true);
      else view.setBigUint64(0, BigInt.asUintN(64, value), true);
    } else if (plan.base) {
      let indexValue = 0n;
      if (plan.index) {
        indexValue = BigInt(rng.below(65) - 32);
        writes.push([plan.index, BigInt.asUintN(64, indexValue)]);
      }
      writes.push([plan.base, BigInt.asUintN(64, target - plan.displacement - indexValue * scale)]);
    } else if (plan.index) {
      const offset = target - plan.displacement;
      if (offset % scale !== 0n) {
        if (plan.aligned) return undefined;
        target -= offset % scale;
      }
      writes.push([plan.index, BigInt.asUintN(64, (target - plan.displacement) / scale)]);
    }
    if (plan.bitOffsetRegister) {
      if (plan.bitOffsetRegister === plan.base || plan.bitOffsetRegister === plan.index) return undefined;
      writes.push([plan.bitOffsetRegister, BigInt.asUintN(64, BigInt(rng.below(192) - 64))]);
    }
  }
  return writes;
}

function copyState(state: MachineState, engine: Engine): void {
  GPRS.forEach((gpr, i) => engine.writeRegister(gpr, state.gprs[i]!));
  engine.writeRegister('rip', state.rip);
  engine.writeRegister('rflags', state.rflags);
  state.xmm.forEach((value, i) => engine.writeXmm(i, value));
  engine.writeMemory(LAYOUT.data, state.data);
  engine.writeMemory(LAYOUT.stack, state.stack);
}

function qword(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return bytes;
}

export interface LockstepStats {
  compared: number;
  retired: number;
  perForm: Map<string, { compared: number; retired: number }>;
  /** SSE results that differ only in NaN payloads (see nanPayloadsOnly), per form. */
  nanPayloadDifferences: Map<string, number>;
}

/**
 * True when an SSE floating-point form's xmm results differ only in lanes where both engines
 * produced a NaN. Unicorn (QEMU 5 softfloat) does not propagate NaN operands the way the CPU
 * does (unicorn-oracle-gaps.test.ts runs such cases on the real CPU), so NaN payloads are an
 * oracle gap: counted and printed, not compared.
 */
export function nanPayloadsOnly(name: string, subject: MachineState, oracle: MachineState): boolean {
  const lane = /^[A-Za-z]+(ps|ss)_/.test(name) ? 4 : /^[A-Za-z]+(pd|sd)_/.test(name) ? 8 : 0;
  if (lane === 0) return false;
  let differs = false;
  for (let r = 0; r < 16; r++) {
    const a = subject.xmm[r]!;
    const b = oracle.xmm[r]!;
    for (let at = 0; at < 16; at += lane) {
      if (Buffer.compare(a.subarray(at, at + lane), b.subarray(at, at + lane)) === 0) continue;
      if (!isNaNLane(a, at, lane) || !isNaNLane(b, at, lane)) return false;
      differs = true;
    }
  }
  return differs;
}

function isNaNLane(bytes: Uint8Array, at: number, lane: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, lane);
  return lane === 4 ? Number.isNaN(view.getFloat32(0, true)) : Number.isNaN(view.getFloat64(0, true));
}

export class LockstepMismatch extends Error {}

/**
 * Runs `steps` random instances of `forms` on both engines, comparing after each.
 * Throws LockstepMismatch with bytes, disassembly, seed, step and the differing state.
 */
export function runLockstep(
  subject: Engine,
  oracle: Engine,
  forms: readonly InstructionForm[],
  rng: Rng,
  seed: number,
  steps: number,
  stats: LockstepStats,
  /** When given, mismatches are collected here (keyed by form) and the subject is resynchronised. */
  collected?: Map<string, string>,
): void {
  interface PlannedStep {
    bytes: Uint8Array;
    info: InstanceInfo;
    writes: [Register, bigint][];
    xmmWrites: [number, Uint8Array][];
    memoryWrites: [bigint, Uint8Array][];
    rip: bigint;
  }
  // Plan the whole sequence, then write its code once (see LAYOUT.codeSize).
  const plan: PlannedStep[] = [];
  const code = new Uint8Array(LAYOUT.codeSize);
  let codeOffset = 0;
  while (plan.length < steps && codeOffset < LAYOUT.codeSize - 16) {
    const form = rng.pick(forms);
    for (let attempt = 0; attempt < 16; attempt++) {
      const bytes = randomInstance(form, rng);
      const analysed = analyseInstance(bytes);
      if ('excluded' in analysed) continue;
      const xmmWrites: [number, Uint8Array][] = [];
      const memoryWrites: [bigint, Uint8Array][] = [];
      const rip = LAYOUT.code + BigInt(codeOffset);
      // a taken branch lands on the next instance, past this one's jmp $+2
      const branchTarget = rip + BigInt(bytes.length) + 2n;
      if (analysed.branch === 'relative') {
        const size = analysed.branchDisplacementSize ?? 4;
        bytes.fill(0, bytes.length - size);
        bytes[bytes.length - size] = 2;
      }
      const writes = setUp(analysed, rng, xmmWrites, memoryWrites, branchTarget, bytes, rip);
      if (!writes) continue;
      code.set(bytes, codeOffset);
      // jmp $+2 after each instance ends Unicorn's translation block there; without it every
      // step would translate the rest of the sequence (~0.5 ms). It never runs: count is 1.
      code.set([0xeb, 0x00], codeOffset + bytes.length);
      plan.push({ bytes, info: analysed, writes, xmmWrites, memoryWrites, rip });
      codeOffset += bytes.length + 2;
      break;
    }
  }
  subject.writeMemory(LAYOUT.code, code);
  oracle.writeMemory(LAYOUT.code, code);

  for (let step = 0; step < plan.length; step++) {
    const { bytes, info, writes, xmmWrites, memoryWrites, rip } = plan[step]!;
    for (const engine of [subject, oracle]) {
      for (const [reg, value] of writes) engine.writeRegister(reg, value);
      for (const [index, value] of xmmWrites) engine.writeXmm(index, value);
      for (const [address, value] of memoryWrites) engine.writeMemory(address, value);
    }
    const before = capture(oracle);
    const subjectResult = subject.start(rip, { count: 1 });
    const oracleResult = oracle.start(rip, { count: 1 });
    const problems: string[] = [];
    const a = describeResult(subjectResult);
    const b = describeResult(oracleResult);
    if (a !== b) problems.push(`stop: ${a} vs ${b}`);
    const subjectState = capture(subject);
    const oracleState = capture(oracle);
    // bsf/bsr of zero leave the destination undefined (QEMU zero-extends it, hardware keeps it)
    if ((info.mnemonic === 'Bsf' || info.mnemonic === 'Bsr') && (oracleState.rflags & 0x40n) !== 0n) {
      GPRS.forEach((gpr, i) => {
        if (subjectState.gprs[i] !== oracleState.gprs[i]) {
          subject.writeRegister(gpr, oracleState.gprs[i]!);
          subjectState.gprs[i] = oracleState.gprs[i]!;
        }
      });
    }
    if (nanPayloadsOnly(info.name, subjectState, oracleState)) {
      // oracle gap, kept visible: counted per form and printed by the suite
      stats.nanPayloadDifferences.set(info.name, (stats.nanPayloadDifferences.get(info.name) ?? 0) + 1);
      subjectState.xmm.forEach((_, i) => subject.writeXmm(i, oracleState.xmm[i]!));
      subjectState.xmm = oracleState.xmm;
    }
    problems.push(...diffStates(subjectState, oracleState, info.undefinedFlags));
    if (problems.length > 0) {
      if (collected) {
        if (!collected.has(info.name)) {
          const registers = GPRS.map((g, i) => `${g}=${hex(before.gprs[i]!)}`).join(' ');
          collected.set(info.name, `${hexBytes(bytes)}  ${disassemble(bytes, rip)}: ${problems.join('; ')}\n    before: ${registers} rflags=${hex(before.rflags)}`);
        }
        copyState(oracleState, subject);
        continue;
      }
      const registers = GPRS.map((g, i) => `${g}=${hex(before.gprs[i]!)}`).join(' ');
      throw new LockstepMismatch(
        [
          `lockstep mismatch (${subject.name} vs ${oracle.name}) at seed ${seed}, step ${step}:`,
          `  ${hexBytes(bytes)}    ${disassemble(bytes, rip)}    [${info.name}]`,
          ...problems.map((p) => `  ${p}`),
          `  before: ${registers} rflags=${hex(before.rflags)}`,
        ].join('\n'),
      );
    }
    // undefined flags: the oracle's values become the subject's
    if (info.undefinedFlags !== 0n) subject.writeRegister('rflags', oracleState.rflags);
    const entry = stats.perForm.get(info.name) ?? { compared: 0, retired: 0 };
    entry.compared++;
    stats.compared++;
    if (oracleResult.instructions === 1) {
      entry.retired++;
      stats.retired++;
    }
    stats.perForm.set(info.name, entry);
  }
}

