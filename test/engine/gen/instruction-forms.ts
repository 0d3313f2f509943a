// Byte-level instruction generator for the differential tests. Every opcode of the one-byte,
// 0F, 0F38 and 0F3A maps, under each prefix variant, gets random ModRM/SIB/displacement/
// immediate bytes; iced-x86 decides which of those are valid 64-bit instructions and names
// their form (its `Code`). Forms are then filtered to what the two engines can be compared on.

import * as iced from 'iced-x86';
import type { Gpr } from '../../../src/engine/engine.js';
import type { Rng } from './rng.js';

export const OPCODE_MAPS: readonly { name: string; escape: readonly number[] }[] = [
  { name: 'one-byte', escape: [] },
  { name: '0F', escape: [0x0f] },
  { name: '0F38', escape: [0x0f, 0x38] },
  { name: '0F3A', escape: [0x0f, 0x3a] },
];
const LEGACY_PREFIXES: readonly number[][] = [[], [0x66], [0xf2], [0xf3]];
const REX_PREFIXES: readonly number[][] = [[], [0x48] /* REX.W */, [0x47] /* REX.RXB */, [0x4f] /* REX.WRXB */];
/** One-byte opcodes that are prefixes or escapes, not instructions of their own. */
const NOT_OPCODES = new Set([0x0f, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3, ...range(0x40, 0x50)]);
const TAIL_BYTES = 12;

/** Where in the opcode space an instruction form lives; a tail of random bytes completes it. */
export interface OpcodeSite {
  prefix: readonly number[];
  opcode: readonly number[]; // escape bytes + opcode byte
}

export interface InstructionForm {
  code: iced.Code;
  name: string; // iced Code name, e.g. Add_rm64_imm8
  /** Encodings iced decoded to this form, used to make new random instances. */
  examples: Uint8Array[];
  sites: OpcodeSite[];
}

export function codeName(code: iced.Code): string {
  return iced.Code[code] ?? `Code#${code}`;
}

/** Decodes one instruction at the start of bytes (64-bit mode, rip 0). */
export function decodeOne(bytes: Uint8Array, ip = 0n): iced.Instruction {
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  decoder.ip = ip;
  const instruction = decoder.decode();
  decoder.free();
  return instruction;
}

const formatter = new iced.Formatter(iced.FormatterSyntax.Intel);
export function disassemble(bytes: Uint8Array, ip = 0n): string {
  const instruction = decodeOne(bytes, ip);
  const text = instruction.isInvalid ? '(bad)' : formatter.format(instruction);
  instruction.free();
  return text;
}

export function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Walks the opcode space: every (prefix variant, map, opcode) with `samplesPerSite` random
 * tails, grouped by iced Code. Invalid encodings are dropped.
 */
export function buildFormCatalog(rng: Rng, samplesPerSite: number): Map<string, InstructionForm> {
  const forms = new Map<string, InstructionForm>();
  const buffer = new Uint8Array(15 + TAIL_BYTES);
  for (const legacy of LEGACY_PREFIXES) {
    for (const rex of REX_PREFIXES) {
      const prefix = [...legacy, ...rex];
      for (const map of OPCODE_MAPS) {
        for (let op = 0; op < 256; op++) {
          if (map.escape.length === 0 && NOT_OPCODES.has(op)) continue;
          const site: OpcodeSite = { prefix, opcode: [...map.escape, op] };
          const head = [...prefix, ...site.opcode];
          for (let sample = 0; sample < samplesPerSite; sample++) {
            buffer.set(head, 0);
            rng.fill(buffer.subarray(head.length, head.length + TAIL_BYTES));
            const bytes = buffer.slice(0, head.length + TAIL_BYTES);
            const instruction = decodeOne(bytes);
            if (!instruction.isInvalid) {
              const name = codeName(instruction.code);
              let form = forms.get(name);
              if (!form) {
                form = { code: instruction.code, name, examples: [], sites: [] };
                forms.set(name, form);
              }
              if (form.examples.length < 8) form.examples.push(bytes.slice(0, instruction.length));
              if (!form.sites.includes(site) && form.sites.length < 4) form.sites.push(site);
            }
            instruction.free();
          }
        }
      }
    }
  }
  return forms;
}

/**
 * A fresh random instance of a form: an example's prefix/opcode/ModRM.reg kept, the rest
 * random, until iced decodes the same form again (falling back to a stored example).
 */
export function randomInstance(form: InstructionForm, rng: Rng): Uint8Array {
  for (let attempt = 0; attempt < 24; attempt++) {
    const example = rng.pick(form.examples);
    const site = rng.pick(form.sites);
    const head = site.prefix.length + site.opcode.length;
    const bytes = new Uint8Array(head + TAIL_BYTES);
    bytes.set(example.subarray(0, Math.min(example.length, head)), 0);
    rng.fill(bytes.subarray(head));
    if (example.length > head) {
      // keep ModRM.reg (the opcode extension of group opcodes); mod and rm stay random half the time
      const modrm = example[head]!;
      bytes[head] = rng.chance(0.5) ? modrm : (bytes[head]! & 0xc7) | (modrm & 0x38);
    }
    const instruction = decodeOne(bytes);
    const same = !instruction.isInvalid && instruction.code === form.code;
    const length = instruction.length;
    instruction.free();
    if (same) return bytes.slice(0, length);
  }
  return rng.pick(form.examples);
}

// ---- What can be compared between two engines ----

/** Mnemonics whose results depend on the host/system state, or that cannot run unprivileged. */
const EXCLUDED_MNEMONICS = new Set([
  'Cpuid', 'Rdtsc', 'Rdtscp', 'Rdrand', 'Rdseed', 'Rdpid', 'Rdpmc', 'Xgetbv', 'Rdpkru', 'Wrpkru',
  'Popf', 'Popfq', 'Popfd', 'Iretq', 'Iretd', 'Iret', // TF/IF changes would trap or differ
  'Fxsave', 'Fxsave64', 'Fxrstor', 'Fxrstor64', 'Xsave', 'Xsave64', 'Xsaveopt', 'Xsaveopt64', 'Xsavec', 'Xsavec64',
  'Xsaves', 'Xsaves64', 'Xrstor', 'Xrstor64', 'Xrstors', 'Xrstors64', 'Ldmxcsr',
  'Cli', 'Sti', 'Lsl', 'Lar', 'Verr', 'Verw', 'Sldt', 'Str', 'Sgdt', 'Sidt', 'Smsw', 'Lmsw', 'Lfs', 'Lgs', 'Lss',
  'Monitor', 'Mwait', 'Umonitor', 'Umwait', 'Tpause', 'Xlatb', 'Enter', 'Hlt', 'Swapgs', 'Clts', 'Invd', 'Wbinvd',
  'Rdfsbase', 'Rdgsbase', 'Wrfsbase', 'Wrgsbase', 'Xabort', 'Xbegin', 'Xend', 'Xtest', 'Ptwrite', 'Getsec',
  'Ud0', 'Ud1', 'Ud2', 'Int', 'Int1', 'Int3', 'Into', 'Syscall', 'Sysret', 'Sysenter', 'Sysexit',
  'Fnsave', 'Fsave', 'Frstor', 'Fnstenv', 'Fstenv', 'Fldenv', 'Fldcw', 'Fnstcw', 'Fstcw', 'Fxtract', 'Fnstsw', 'Fstsw',
  'Incsspd', 'Incsspq', 'Rdsspd', 'Rdsspq', 'Saveprevssp', 'Rstorssp', 'Wrssd', 'Wrssq', 'Wrussd', 'Wrussq', 'Setssbsy', 'Clrssbsy',
  'Clflush', 'Clflushopt', 'Clwb', 'Cldemote', 'Movdir64b', 'Enqcmd', 'Enqcmds', 'Serialize', 'Hreset', 'Uiret', 'Testui', 'Clui', 'Stui', 'Senduipi',
]);

const GPR_BY_ICED = new Map<iced.Register, Gpr>([
  [iced.Register.RAX, 'rax'], [iced.Register.RCX, 'rcx'], [iced.Register.RDX, 'rdx'], [iced.Register.RBX, 'rbx'],
  [iced.Register.RSP, 'rsp'], [iced.Register.RBP, 'rbp'], [iced.Register.RSI, 'rsi'], [iced.Register.RDI, 'rdi'],
  [iced.Register.R8, 'r8'], [iced.Register.R9, 'r9'], [iced.Register.R10, 'r10'], [iced.Register.R11, 'r11'],
  [iced.Register.R12, 'r12'], [iced.Register.R13, 'r13'], [iced.Register.R14, 'r14'], [iced.Register.R15, 'r15'],
]);

/** How the registers must be set up before an instance runs so its memory accesses hit the data area. */
export interface MemoryPlan {
  kind: 'none' | 'explicit' | 'string' | 'rip-relative' | 'absolute';
  /** For 'rip-relative' and 'absolute': where the displacement/address bytes are, to point them at the data area. */
  displacementField?: { offset: number; size: number };
  base?: Gpr;
  index?: Gpr;
  scale: number;
  displacement: bigint;
  /** 16-byte aligned target (SSE alignment checks, cmpxchg16b). */
  aligned: boolean;
  /** bt/bts/btr/btc [mem], reg: the register is a signed bit offset; keep it small. */
  bitOffsetRegister?: Gpr;
  /** leave: rbp becomes rsp and is popped. */
  usesFramePointer: boolean;
}

/**
 * How a branch gets a valid target. Every instance is followed by `jmp $+2` (2 bytes), and a
 * taken branch goes to the instance after it, so taken and not-taken end at different rips.
 */
export type BranchKind = 'relative' | 'register' | 'memory' | 'return';

export interface InstanceInfo {
  branch?: BranchKind;
  /** For 'relative': bytes of the displacement at the end of the encoding. */
  branchDisplacementSize?: number;
  branchRegister?: Gpr;
  name: string;
  mnemonic: string;
  length: number;
  /** x86 RFLAGS bits (not iced's RflagsBits) the instruction leaves undefined. */
  undefinedFlags: bigint;
  plan: MemoryPlan;
}

/** The REX byte of an encoding (the last prefix byte in 40..4F before the opcode), or 0. */
function rexOf(bytes: Uint8Array): number {
  let rex = 0;
  for (const b of bytes) {
    if (b >= 0x40 && b <= 0x4f) rex = b;
    else if (b === 0x66 || b === 0xf2 || b === 0xf3) rex = 0; // REX counts only right before the opcode
    else break;
  }
  return rex;
}

const LEGACY_PREFIX_BYTES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

function rexBeforeLegacyPrefix(bytes: Uint8Array): boolean {
  let sawRex = false;
  for (const b of bytes) {
    if (b >= 0x40 && b <= 0x4f) sawRex = true;
    else if (LEGACY_PREFIX_BYTES.has(b)) {
      if (sawRex) return true;
    } else return false;
  }
  return false;
}

/**
 * Instances where Unicorn 2.0.1 (QEMU TCG) departs from the hardware, so it cannot be the
 * oracle for them. Each returns what Unicorn does instead; they are excluded and counted.
 */
export const ORACLE_GAPS: readonly ((name: string, bytes: Uint8Array, instruction: iced.Instruction) => string | undefined)[] = [
  (name) => (/^Test_rm\d+_imm\d+_F[67]r1$/.test(name) ? 'F6/F7 /1 (the TEST alias) is #UD in Unicorn' : undefined),
  (name, _bytes, instruction) =>
    /^Pcmp[ei]str[im]/.test(name) && ((instruction.immediate8 >> 2) & 3) === 3
      ? 'pcmp?str? equal-ordered aggregation differs from the CPU in QEMU 5 (checked natively: rcx 15/CF=1 vs 16/CF=0)'
      : undefined,
  (name) => (/^Pcmpestr[im]/.test(name) ? 'pcmpestri/pcmpestrm crash Unicorn 2.0.1 (segfault in translation or helper)' : undefined),
  (name, _bytes, instruction) =>
    name.startsWith('Retnq_imm16') && instruction.immediate16 >= 0x8000 ? 'ret imm16 sign-extends the immediate in Unicorn (hardware zero-extends)' : undefined,
  (_name, bytes) => (rexBeforeLegacyPrefix(bytes) ? 'a REX prefix followed by a legacy prefix is ignored by the CPU, applied by QEMU' : undefined),
  (name, _bytes, instruction) =>
    /^Sh[lr]d_rm\d+_r\d+_imm8$/.test(name) && instruction.isIpRelMemoryOperand
      ? 'rip-relative shld/shrd imm8: QEMU 5 leaves the imm8 out of the address (accesses 1 byte lower)'
      : undefined,
  (name) => (name.startsWith('Movbe_') ? 'movbe is #UD in Unicorn 2.0.1 (the CPU model setting does not enable it)' : undefined),
  (name, _bytes, instruction) =>
    /^Ph(add|sub)/.test(name) && instruction.opKind(1) === iced.OpKind.Register && instruction.opRegister(0) === instruction.opRegister(1)
      ? 'phadd*/phsub* with the same register as source and destination read the half-written destination in QEMU 5'
      : undefined,
  (name) => (name.startsWith('Popcnt_') ? 'popcnt is #UD in Unicorn 2.0.1 whatever the CPU model' : undefined),
  (name) => (name.startsWith('Reservednop_') ? 'hint-NOP register forms (0F 0D, 0F 18..1F) are #UD or mis-sized in Unicorn' : undefined),
  (name, bytes) =>
    /^Mov_rm(8|16|32|64)_imm/.test(name) && (rexOf(bytes) & 0x4) !== 0
      ? 'C6/C7 /0 with REX.R: QEMU 5 folds REX.R into the opcode extension (#UD or mis-sized)'
      : undefined,
  (name, _bytes, instruction) =>
    /^Cmp(ps|pd|ss|sd)_xmm_/.test(name) && instruction.immediate8 > 7 ? 'legacy SSE compare predicates above 7 are not masked to 3 bits in Unicorn' : undefined,
  (name) =>
    name === 'Cmpxchg_rm32_r32'
      ? '32-bit cmpxchg zero-extends rax on success and a register destination on failure in QEMU 5 (checked natively: hardware does neither)'
      : undefined,
  (name, bytes) => ((name === 'Lahf' || name === 'Sahf') && rexOf(bytes) !== 0 ? 'lahf/sahf with a REX prefix use SPL instead of AH in Unicorn' : undefined),
];

/** Why an instance cannot be compared, or its setup plan. */
export function analyseInstance(bytes: Uint8Array): { excluded: string } | InstanceInfo {
  const instruction = decodeOne(bytes);
  try {
    if (instruction.isInvalid) return { excluded: 'invalid' };
    const name = codeName(instruction.code);
    const mnemonic = iced.Mnemonic[instruction.mnemonic] ?? '?';
    for (const gap of ORACLE_GAPS) {
      const why = gap(name, bytes, instruction);
      if (why) return { excluded: `oracle gap: ${why}` };
    }
    const branch = branchKind(instruction, bytes, name, mnemonic);
    if (branch === 'excluded') return { excluded: 'control flow without a plannable target' };
    if (instruction.isPrivileged) return { excluded: 'privileged' };
    if (EXCLUDED_MNEMONICS.has(mnemonic)) return { excluded: `system-dependent (${mnemonic})` };
    const opcodeByte = bytes[legacyPrefixes(bytes).length] ?? 0;
    if (opcodeByte >= 0xd8 && opcodeByte <= 0xdf) return { excluded: 'x87 (compared by its own lockstep, gen/x87-lockstep.ts, which keeps the stack valid)' };
    if (/Sreg|_(ES|CS|SS|DS|FS|GS)\b|_(ES|CS|SS|DS|FS|GS)$/.test(name)) return { excluded: 'segment register' };
    const plan: MemoryPlan = { kind: 'none', scale: 1, displacement: 0n, aligned: false, usesFramePointer: mnemonic === 'Leave' };
    if (instruction.isStringInstruction) {
      plan.kind = 'string';
    } else {
      let hasMemory = false;
      for (let i = 0; i < instruction.opCount; i++) {
        const kind = instruction.opKind(i);
        if (kind === iced.OpKind.Memory) hasMemory = true;
        else if (branch === 'relative' && (kind === iced.OpKind.NearBranch64 || kind === iced.OpKind.NearBranch32)) continue;
        else if (kind !== iced.OpKind.Register && !isImmediate(kind)) return { excluded: `operand kind ${iced.OpKind[kind]}` };
      }
      if (hasMemory) {
        const base = instruction.memoryBase;
        const index = instruction.memoryIndex;
        const baseGpr = GPR_BY_ICED.get(base);
        const indexGpr = GPR_BY_ICED.get(index);
        const ripRelative = instruction.isIpRelMemoryOperand;
        if (!ripRelative && ((base !== iced.Register.None && !baseGpr) || (index !== iced.Register.None && !indexGpr))) {
          return { excluded: 'non-64-bit address register' };
        }
        if (baseGpr && baseGpr === indexGpr) return { excluded: 'same base and index' };
        if (ripRelative || (!baseGpr && !indexGpr)) {
          const field = displacementField(bytes);
          if (!field || (field.size !== 4 && field.size !== 8)) return { excluded: 'address field not found' };
          plan.kind = ripRelative ? 'rip-relative' : 'absolute';
          plan.displacementField = field;
        } else {
          plan.kind = 'explicit';
        }
        if (baseGpr) plan.base = baseGpr;
        if (indexGpr) plan.index = indexGpr;
        plan.scale = instruction.memoryIndexScale;
        plan.displacement = BigInt.asIntN(64, instruction.memoryDisplacement);
        plan.aligned = /xmm|m128|Cmpxchg16b/i.test(name);
        if (/^(Bt|Bts|Btr|Btc)$/.test(mnemonic) && instruction.opKind(1) === iced.OpKind.Register) {
          const reg = GPR_BY_ICED.get(fullRegister(instruction.opRegister(1)));
          if (reg) plan.bitOffsetRegister = reg;
        }
      }
    }
    const info: InstanceInfo = { name, mnemonic, length: instruction.length, undefinedFlags: toX86Flags(instruction.rflagsUndefined), plan };
    if (branch) {
      info.branch = branch;
      if (branch === 'relative') info.branchDisplacementSize = /_rel8_/.test(name) ? 1 : 4;
      if (branch === 'register') {
        const reg = GPR_BY_ICED.get(instruction.opRegister(0));
        if (!reg || reg === 'rsp') return { excluded: 'branch through rsp or a non-64-bit register' };
        info.branchRegister = reg;
      }
      if (branch === 'memory' && plan.kind !== 'explicit' && plan.kind !== 'rip-relative' && plan.kind !== 'absolute') {
        return { excluded: 'branch through an unplannable memory operand' };
      }
    }
    return info;
  } finally {
    instruction.free();
  }
}

/** Offset and size of the displacement (or moffs address) bytes in an encoding. */
function displacementField(bytes: Uint8Array): { offset: number; size: number } | undefined {
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const instruction = decoder.decode();
  const offsets = decoder.getConstantOffsets(instruction);
  const field = offsets.hasDisplacement ? { offset: offsets.displacementOffset, size: offsets.displacementSize } : undefined;
  offsets.free();
  instruction.free();
  decoder.free();
  return field;
}

function legacyPrefixes(bytes: Uint8Array): number[] {
  const prefixes: number[] = [];
  for (const b of bytes) {
    if (b === 0x66 || b === 0xf2 || b === 0xf3 || (b >= 0x40 && b <= 0x4f)) prefixes.push(b);
    else break;
  }
  return prefixes;
}

function branchKind(instruction: iced.Instruction, bytes: Uint8Array, name: string, mnemonic: string): BranchKind | 'excluded' | undefined {
  switch (instruction.flowControl) {
    case iced.FlowControl.Next:
      return undefined;
    case iced.FlowControl.ConditionalBranch:
    case iced.FlowControl.UnconditionalBranch:
    case iced.FlowControl.Call:
      // rel16 (66-prefixed) branches truncate rip on AMD and not on Intel: vendor-dependent
      if (/_rel(8|32)_64(_RCX)?$/.test(name)) return 'relative';
      return 'excluded';
    case iced.FlowControl.IndirectBranch:
    case iced.FlowControl.IndirectCall:
      // with 66, Intel ignores the prefix and AMD (and Unicorn) jump to a 16-bit target
      if (/^(Jmp|Call)_rm64$/.test(name) && !legacyPrefixes(bytes).includes(0x66)) {
        return instruction.opKind(0) === iced.OpKind.Register ? 'register' : 'memory';
      }
      return 'excluded';
    case iced.FlowControl.Return:
      return mnemonic === 'Ret' && /^Retnq/.test(name) ? 'return' : 'excluded';
    default:
      return 'excluded';
  }
}

function isImmediate(kind: iced.OpKind): boolean {
  return iced.OpKind[kind]?.startsWith('Immediate') ?? false;
}

/** The 64-bit register containing a 8/16/32-bit one. */
function fullRegister(register: iced.Register): iced.Register {
  const name = iced.Register[register] ?? '';
  const m = /^(?:E|R)?([ABCD])X$|^([ABCD])L$|^([ABCD])X$/.exec(name);
  if (m) return iced.Register[`R${m[1] ?? m[2] ?? m[3]}X` as keyof typeof iced.Register] as iced.Register;
  const r = /^R(\d+)[DWL]?$/.exec(name);
  if (r) return iced.Register[`R${r[1]}` as keyof typeof iced.Register] as iced.Register;
  const s = /^E?(SI|DI|BP|SP)L?$/.exec(name);
  if (s) return iced.Register[`R${s[1]}` as keyof typeof iced.Register] as iced.Register;
  return register;
}

const ICED_TO_X86_FLAG: readonly [number, bigint][] = [
  [iced.RflagsBits.CF, 1n << 0n],
  [iced.RflagsBits.PF, 1n << 2n],
  [iced.RflagsBits.AF, 1n << 4n],
  [iced.RflagsBits.ZF, 1n << 6n],
  [iced.RflagsBits.SF, 1n << 7n],
  [iced.RflagsBits.DF, 1n << 10n],
  [iced.RflagsBits.OF, 1n << 11n],
];

export function toX86Flags(icedBits: number): bigint {
  let bits = 0n;
  for (const [icedBit, x86Bit] of ICED_TO_X86_FLAG) if (icedBits & icedBit) bits |= x86Bit;
  return bits;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * The catalog's forms a core decodes whole (`probe`), keeping only their supported examples, and
 * only forms of which some random instance is not excluded from comparison (analyseInstance).
 */
export function programForms(
  catalog: Map<string, InstructionForm>,
  rng: Rng,
  probe: (bytes: Uint8Array) => { supported: boolean; length: number },
): InstructionForm[] {
  const forms: InstructionForm[] = [];
  for (const form of catalog.values()) {
    const examples = form.examples.filter((bytes) => {
      const p = probe(bytes);
      return p.supported && p.length === bytes.length;
    });
    if (examples.length === 0) continue;
    const usable = { ...form, examples };
    for (let i = 0; i < 64; i++) {
      if (!('excluded' in analyseInstance(randomInstance(usable, rng)))) {
        forms.push(usable);
        break;
      }
    }
  }
  return forms;
}
