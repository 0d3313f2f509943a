// The bytes a patcher writes over the old function's entry, and what they really do.
// Built-in forms are encoded by hand: Keystone would pick the 2-byte `jmp rel8` for a near
// target, and a patcher writes a fixed length. Templates go through Keystone. Either way the
// bytes are decoded again with iced and followed to where control actually goes, so a
// template that misses the target or uses `call` becomes data the verifier reports.

import {
  Code,
  Decoder,
  DecoderOptions,
  FlowControl,
  Instruction,
  InstructionInfoFactory,
  Mnemonic,
  OpAccess,
  OpKind,
  Register,
  RegisterExt,
} from 'iced-x86';
import { AsmError } from './error.js';
import { formatInstruction } from './instruction-text.js';
import type { Assembler } from './keystone.js';
import { hex } from '../hex.js';

/**
 * What the user asked for: a built-in form or a Keystone template. A template names the
 * replacement as `{target}`, or as `{target_lo32}`/`{target_hi32}` for forms that build the
 * address in halves (`push {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret`).
 */
export type TrampolineSpec = 'abs-rax' | 'rel32' | 'abs-indirect' | { template: string };

export type TrampolineFormName = 'abs-rax' | 'rel32' | 'abs-indirect' | 'template';

const TARGET_PLACEHOLDER = /\{target(_lo32|_hi32)?\}/;

function substituteTarget(template: string, target: bigint): string {
  return template
    .replaceAll('{target}', hex(target))
    .replaceAll('{target_lo32}', hex(target & 0xffff_ffffn))
    .replaceAll('{target_hi32}', hex((target >> 32n) & 0xffff_ffffn));
}

/** Reads the CLI's --trampoline value: a form name, or else an assembly template. */
export function parseTrampolineSpec(text: string): TrampolineSpec {
  const trimmed = text.trim();
  if (trimmed === 'abs-rax' || trimmed === 'rel32' || trimmed === 'abs-indirect') return trimmed;
  if (!TARGET_PLACEHOLDER.test(trimmed)) {
    throw new AsmError(
      'template',
      `--trampoline "${text}" is neither a form (abs-rax, rel32, abs-indirect) nor a template with {target}, ` +
        `e.g. 'movabs r11, {target}; jmp r11'`,
    );
  }
  const filler = /(^|[;\n])\s*\.(space|skip|zero|fill|rept|incbin|org|align|balign|p2align)\b/i.exec(trimmed);
  if (filler) {
    throw new AsmError('template', `--trampoline template uses the directive .${filler[2]!.toLowerCase()}: a trampoline template holds instructions (and .byte/.quad data), not fill or alignment directives`);
  }
  return { template: trimmed };
}

const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;
const U64_MASK = (1n << 64n) - 1n;
export const REL32_JMP_LENGTH = 5;

/**
 * Whether `jmp rel32` at `site` reaches `target`. `inRange` is about this address layout
 * only. A real process lays out differently: under ASLR a PIE executable sits near
 * 0x55xx_xxxx_xxxx and mmap'd libraries (patch.so) near 0x7fxx_xxxx_xxxx, ~40 TiB apart, and
 * a non-PIE executable at 0x400000 is just as far from them; so a jump from the executable
 * into patch.so is practically never in range there, even when it is in the sandbox.
 */
export interface Rel32Reach {
  site: bigint;
  target: bigint;
  /** target - (site + 5), the value the rel32 field must hold. */
  displacement: bigint;
  inRange: boolean;
  /** Whether a real process would be in range: only when site and target share one object. */
  realProcess: 'in-range' | 'out-of-range-under-aslr';
}

export function rel32Reach(site: bigint, target: bigint, options: { sameObject?: boolean } = {}): Rel32Reach {
  const displacement = target - (site + BigInt(REL32_JMP_LENGTH));
  const inRange = displacement >= INT32_MIN && displacement <= INT32_MAX;
  // Inside one object the distance is fixed at link time, so ASLR cannot change it.
  const realProcess = options.sameObject && inRange ? 'in-range' : 'out-of-range-under-aslr';
  return { site, target, displacement, inRange, realProcess };
}

/** One instruction of the trampoline, as iced reads the assembled bytes back. */
export interface TrampolineInstruction {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  text: string;
}

/** How the trampoline leaves: the first instruction that transfers control. */
export interface TrampolineTransfer {
  kind: 'jmp-direct' | 'jmp-register' | 'jmp-memory' | 'ret' | 'call-direct' | 'call-register' | 'call-memory';
  /** The instruction's address. */
  at: bigint;
  /** Where control goes, when the trampoline's own bytes determine it; null if unknown. */
  destination: bigint | null;
  /** An indirect jump or call: under CET/IBT the destination must begin with endbr64. */
  indirect: boolean;
}

export type TrampolineProblem =
  | { code: 'rel32-out-of-range'; message: string; reach: Rel32Reach }
  | { code: 'misses-target'; message: string; destination: bigint | null }
  | { code: 'uses-call'; message: string; at: bigint; text: string }
  | { code: 'no-transfer'; message: string }
  | { code: 'conditional-transfer'; message: string; at: bigint; text: string }
  | { code: 'invalid-instruction'; message: string; at: bigint }
  /** A push/pop with the 0x66 operand-size prefix: it moves 2 bytes, not 8 (Keystone's `push imm` above 0x7fffffff). */
  | { code: 'word-sized-push-pop'; message: string; at: bigint; text: string; bytes: Uint8Array };

export interface Trampoline {
  form: TrampolineFormName;
  /** The template as given (before {target} substitution), for form 'template'. */
  template: string | null;
  /** The patch site: the old function's entry, where the bytes are written. */
  site: bigint;
  /** The replacement function the trampoline must reach. */
  target: bigint;
  /** Empty when the form cannot be encoded (rel32 out of range). */
  bytes: Uint8Array;
  length: number;
  /** Instructions up to and including the transfer; bytes after it are data (abs-indirect's address). */
  instructions: TrampolineInstruction[];
  transfer: TrampolineTransfer | null;
  /** Full 64-bit registers written before the transfer (plus 'rflags' if flags change). */
  clobbers: string[];
  /** The trampoline transfers with `call`: a return address is pushed, the stack is off by 8. */
  transfersWithCall: boolean;
  /**
   * rsp change from the trampoline's start to the transfer into the target (0 for jmp forms),
   * counting push/pop/call/ret and `sub/add rsp, imm` and `lea rsp, [rsp+disp]`; null when an
   * instruction sets rsp to a value the bytes do not determine (`mov rsp, rax`, `and rsp, -16`, `leave`).
   */
  stackDelta: number | null;
  /** For rel32: reach, in this layout and in a real process. */
  reach: Rel32Reach | null;
  /** Empty when the trampoline is sound. */
  problems: TrampolineProblem[];
}


function u64le(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value & U64_MASK, true);
  return out;
}

/** `movabs rax, imm64; jmp rax`: 48 b8 imm64 ff e0. */
function encodeAbsRax(target: bigint): Uint8Array {
  return Uint8Array.of(0x48, 0xb8, ...u64le(target), 0xff, 0xe0);
}

/** `jmp qword ptr [rip+0]` then the absolute address: ff 25 00 00 00 00 imm64. */
function encodeAbsIndirect(target: bigint): Uint8Array {
  return Uint8Array.of(0xff, 0x25, 0, 0, 0, 0, ...u64le(target));
}

/** `jmp rel32`: e9 rel32, or null when the displacement does not fit. */
function encodeRel32(reach: Rel32Reach): Uint8Array | null {
  if (!reach.inRange) return null;
  const out = new Uint8Array(REL32_JMP_LENGTH);
  out[0] = 0xe9;
  new DataView(out.buffer).setInt32(1, Number(reach.displacement), true);
  return out;
}

export interface BuildTrampolineOptions {
  /** Needed for templates only. */
  assembler?: Assembler;
  /** Site and target lie in the same loaded object (affects Rel32Reach.realProcess). */
  sameObject?: boolean;
}

/**
 * Encodes the trampoline for `spec` at `site` jumping to `target`, then reads it back.
 * Throws AsmError only for input errors (Keystone rejects a template, template without
 * {target}); everything else is in `problems`.
 */
export function buildTrampoline(
  spec: TrampolineSpec,
  site: bigint,
  target: bigint,
  options: BuildTrampolineOptions = {},
): Trampoline {
  if (site < 0n || site > U64_MASK || target < 0n || target > U64_MASK) {
    throw new AsmError('address', `site ${hex(site)} or target ${hex(target)} is outside the 64-bit address space`);
  }
  let form: TrampolineFormName;
  let template: string | null = null;
  let bytes: Uint8Array;
  let reach: Rel32Reach | null = null;
  if (spec === 'abs-rax') {
    form = spec;
    bytes = encodeAbsRax(target);
  } else if (spec === 'abs-indirect') {
    form = spec;
    bytes = encodeAbsIndirect(target);
  } else if (spec === 'rel32') {
    form = spec;
    reach = rel32Reach(site, target, { sameObject: options.sameObject ?? false });
    const encoded = encodeRel32(reach);
    if (!encoded) {
      return {
        form, template, site, target,
        bytes: new Uint8Array(0), length: REL32_JMP_LENGTH, instructions: [], transfer: null,
        clobbers: [], transfersWithCall: false, stackDelta: 0, reach,
        problems: [{
          code: 'rel32-out-of-range',
          message: `jmp rel32 at ${hex(site)} cannot reach ${hex(target)}: displacement ${reach.displacement} does not fit in a signed 32-bit field (±2 GiB)`,
          reach,
        }],
      };
    }
    bytes = encoded;
  } else {
    form = 'template';
    template = spec.template;
    if (!TARGET_PLACEHOLDER.test(template)) {
      throw new AsmError('template', `trampoline template "${template}" has no {target} placeholder`);
    }
    if (!options.assembler) {
      throw new AsmError('template', 'a trampoline template needs Keystone: pass { assembler: await Assembler.load() }');
    }
    bytes = options.assembler.assemble(substituteTarget(template, target), site);
  }
  return { form, template, site, target, bytes, length: bytes.length, reach, ...followTransfer(bytes, site, target) };
}

type FollowResult = Pick<Trampoline, 'instructions' | 'transfer' | 'clobbers' | 'transfersWithCall' | 'stackDelta' | 'problems'>;

/**
 * Decodes the trampoline and evaluates the few instructions trampolines are made of
 * (mov/movabs/lea of constants, push/pop, xchg [rsp], mov [rsp+4], rsp arithmetic, jmp, call, ret)
 * to find where control goes and how far rsp moved.
 */
function followTransfer(bytes: Uint8Array, site: bigint, target: bigint): FollowResult {
  const instructions: TrampolineInstruction[] = [];
  const problems: TrampolineProblem[] = [];
  const written = new Set<Register>();
  let flagsWritten = false;
  const registers = new Map<Register, TrackedValue>();
  const stack: StackSlot[] = [];
  let stackDelta: number | null = 0;
  let transfer: TrampolineTransfer | null = null;
  let transfersWithCall = false;

  const readOwnQword = (address: bigint): bigint | null => {
    const offset = address - site;
    if (offset < 0n || offset + 8n > BigInt(bytes.length)) return null;
    return new DataView(bytes.buffer, bytes.byteOffset + Number(offset), 8).getBigUint64(0, true);
  };

  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = site;
  const instruction = new Instruction();
  const infoFactory = new InstructionInfoFactory();
  try {
    while (decoder.canDecode && !transfer) {
      const position = decoder.position;
      decoder.decodeOut(instruction);
      const address = site + BigInt(position);
      if (instruction.isInvalid) {
        problems.push({ code: 'invalid-instruction', message: `bytes at ${hex(address)} do not decode as an instruction`, at: address });
        break;
      }
      const text = formatInstruction(instruction);
      instructions.push({ address, length: instruction.length, bytes: bytes.slice(position, position + instruction.length), text });

      const flow = instruction.flowControl;
      if (flow === FlowControl.ConditionalBranch) {
        problems.push({ code: 'conditional-transfer', message: `"${text}" at ${hex(address)} transfers only conditionally`, at: address, text });
        break;
      }
      if (flow === FlowControl.UnconditionalBranch || flow === FlowControl.IndirectBranch || flow === FlowControl.Call || flow === FlowControl.IndirectCall || flow === FlowControl.Return) {
        transfer = resolveTransfer(instruction, address, registers, stack, readOwnQword);
        // call pushes 8; ret (and ret imm16) pops 8 (plus imm16)
        if (stackDelta !== null) stackDelta += instruction.stackPointerIncrement;
        if (flow === FlowControl.Call || flow === FlowControl.IndirectCall) {
          transfersWithCall = true;
          problems.push({
            code: 'uses-call',
            message: `"${text}" at ${hex(address)} pushes a return address: the replacement sees the stack 8 bytes off and returns into the trampoline`,
            at: address, text,
          });
        }
        break;
      }

      if (isWordSizedPushPop(instruction)) {
        const own = bytes.slice(position, position + instruction.length);
        problems.push({ code: 'word-sized-push-pop', message: wordSizedPushPopMessage(instruction, text, address, own), at: address, text, bytes: own });
      }

      // Not a transfer: follow constants through registers and the stack, then record what it writes.
      const info = infoFactory.info(instruction);
      const writes: Register[] = [];
      let rspWritten = false;
      for (const used of info.usedRegisters() as { register: Register; access: OpAccess }[]) {
        const access = used.access;
        if (access === OpAccess.Write || access === OpAccess.CondWrite || access === OpAccess.ReadWrite || access === OpAccess.ReadCondWrite) {
          const full = RegisterExt.fullRegister(used.register);
          if (full === Register.RSP) rspWritten = true;
          else if (full !== Register.RIP) writes.push(full);
        }
      }
      if (instruction.rflagsModified !== 0) flagsWritten = true;
      const valueOf = (register: Register): TrackedValue | null =>
        registers.get(register) ?? (written.has(register) ? null : { entryOf: register });
      const effect = trackConstants(instruction, rspWritten, valueOf, registers, stack, readOwnQword);
      for (const register of writes) {
        if (!effect.assigned.has(register)) registers.delete(register);
        written.add(register);
      }
      if (stackDelta !== null) stackDelta = effect.rsp === null ? null : stackDelta + effect.rsp;
    }
  } finally {
    infoFactory.free();
    instruction.free();
    decoder.free();
  }

  if (!transfer && problems.length === 0) {
    problems.push({ code: 'no-transfer', message: 'the trampoline ends without a jmp, call or ret: execution would fall into the old function\'s remaining bytes' });
  }
  if (transfer && transfer.destination !== target) {
    const where = transfer.destination === null ? 'an address its bytes do not determine' : hex(transfer.destination);
    problems.push({ code: 'misses-target', message: `the trampoline transfers to ${where}, not to the replacement at ${hex(target)}`, destination: transfer.destination });
  }
  // A register written but holding its entry value again (`push rax; ...; xchg [rsp], rax`) is not clobbered.
  const clobbers = [...written].filter((register) => {
    const value = registers.get(register);
    return !(value !== undefined && typeof value !== 'bigint' && value.entryOf === register);
  }).map(registerName);
  if (flagsWritten) clobbers.push('rflags');
  return { instructions, transfer, clobbers: clobbers.sort(), transfersWithCall, stackDelta, problems };
}

/** A constant, or the value a register had when the trampoline started (what `push rax` saves). */
type TrackedValue = bigint | { entryOf: Register };
/** A stack slot pushed by the trampoline; null when its contents are unknown. */
type StackSlot = TrackedValue | null;

const WORD_STACK_MNEMONICS: ReadonlySet<Mnemonic> = new Set([Mnemonic.Push, Mnemonic.Pop, Mnemonic.Pushf, Mnemonic.Popf]);

function isWordSizedPushPop(instruction: Instruction): boolean {
  return WORD_STACK_MNEMONICS.has(instruction.mnemonic) && Math.abs(instruction.stackPointerIncrement) === 2;
}

function wordSizedPushPopMessage(instruction: Instruction, text: string, address: bigint, own: Uint8Array): string {
  const encoding = [...own].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const what = `"${text}" at ${hex(address)} (${encoding}) has the operand-size prefix 66: it ${instruction.mnemonic === Mnemonic.Pop || instruction.mnemonic === Mnemonic.Popf ? 'pops' : 'pushes'} 2 bytes, not 8, so the stack no longer holds what the template meant.`;
  const why = instruction.code === Code.Push_imm16
    ? ' Keystone assembles `push imm` this way when imm is above 0x7fffffff: push imm32 sign-extends its immediate to 64 bits, so no push can put a zero-extended 0x80000000..0xffffffff (the low half of an address like 0x7ffff7fbc110) on the stack.'
    : '';
  return `${what}${why} Build the address in a register instead: \`movabs rax, {target}; push rax; ret\`, or, keeping rax, \`push rax; movabs rax, {target}; xchg qword ptr [rsp], rax; ret\``;
}

/** Moves the modelled stack by `delta` bytes; slots no longer 8-byte aligned with our model become unknown. */
function moveStack(stack: StackSlot[], delta: number): void {
  if (delta % 8 !== 0) stack.fill(null);
  if (delta < 0) for (let n = 0; n < Math.ceil(-delta / 8); n++) stack.push(null);
  else for (let n = 0; n < Math.floor(delta / 8) && stack.length > 0; n++) stack.pop();
}

function registerName(register: Register): string {
  return (Register[register] ?? `reg${register}`).toLowerCase();
}

interface InstructionEffect {
  /** rsp change, or null when rsp gets a value the bytes do not determine. */
  rsp: number | null;
  /** Registers given a tracked value by this instruction (other written registers become unknown). */
  assigned: Set<Register>;
}

/** Follows constants through registers and the stack, and says how the instruction moves rsp. */
function trackConstants(
  instruction: Instruction,
  rspWritten: boolean,
  valueOf: (register: Register) => TrackedValue | null,
  registers: Map<Register, TrackedValue>,
  stack: StackSlot[],
  readOwnQword: (address: bigint) => bigint | null,
): InstructionEffect {
  const assigned = new Set<Register>();
  const set = (register: Register, value: TrackedValue | null): void => {
    if (value === null) return; // left out of `assigned`: the caller forgets it
    registers.set(register, value);
    assigned.add(register);
  };
  const moved = (delta: number): InstructionEffect => {
    moveStack(stack, delta);
    return { rsp: delta, assigned };
  };
  const code = instruction.code;
  const dest = instruction.op0Kind === OpKind.Register ? RegisterExt.fullRegister(instruction.op0Register) : Register.None;
  const writesRsp = instruction.op0Kind === OpKind.Register && instruction.op0Register === Register.RSP;
  const topIsRsp = instruction.op0Kind === OpKind.Memory && instruction.memoryBase === Register.RSP && instruction.memoryIndex === Register.None;
  switch (code) {
    case Code.Mov_r64_imm64:
      set(dest, instruction.immediate64);
      return { rsp: writesRsp ? null : 0, assigned };
    case Code.Mov_rm64_imm32:
      if (dest !== Register.None) set(dest, instruction.immediate32to64 & U64_MASK);
      return { rsp: writesRsp ? null : 0, assigned };
    case Code.Mov_r32_imm32:
      set(dest, BigInt(instruction.immediate32 >>> 0)); // zero-extends into the full register
      return { rsp: dest === Register.RSP ? null : 0, assigned };
    case Code.Sub_rm64_imm8:
    case Code.Sub_rm64_imm32:
      if (writesRsp) return moved(-Number(BigInt.asIntN(64, instruction.immediate32to64)));
      return { rsp: 0, assigned };
    case Code.Add_rm64_imm8:
    case Code.Add_rm64_imm32:
      if (writesRsp) return moved(Number(BigInt.asIntN(64, instruction.immediate32to64)));
      return { rsp: 0, assigned };
    case Code.Lea_r64_m:
      if (writesRsp) {
        // lea rsp, [rsp+disp] moves rsp by disp; any other base or an index makes it unknown
        if (instruction.memoryBase === Register.RSP && instruction.memoryIndex === Register.None) {
          return moved(Number(BigInt.asIntN(64, instruction.memoryDisplacement)));
        }
        return { rsp: null, assigned };
      }
      if (instruction.isIpRelMemoryOperand) set(dest, instruction.ipRelMemoryAddress);
      return { rsp: 0, assigned };
    case Code.Mov_r64_rm64:
      if (instruction.op1Kind === OpKind.Memory && instruction.isIpRelMemoryOperand) {
        set(dest, readOwnQword(instruction.ipRelMemoryAddress));
      } else if (instruction.op1Kind === OpKind.Register) {
        set(dest, valueOf(RegisterExt.fullRegister(instruction.opRegister(1))));
      }
      return { rsp: writesRsp ? null : 0, assigned };
    case Code.Pushq_imm32:
    case Code.Pushq_imm8:
      stack.push(instruction.immediate32to64 & U64_MASK);
      return { rsp: -8, assigned };
    case Code.Push_r64:
      stack.push(valueOf(dest));
      return { rsp: -8, assigned };
    case Code.Pop_r64:
      if (dest === Register.RSP) return { rsp: null, assigned };
      set(dest, stack.pop() ?? null);
      return { rsp: 8, assigned };
    case Code.Xchg_rm64_r64: {
      // `xchg qword ptr [rsp], rax` swaps the pushed slot and the register (the rax-preserving push form)
      const register = RegisterExt.fullRegister(instruction.op1Register);
      if (topIsRsp && instruction.memoryDisplacement === 0n && stack.length > 0 && register !== Register.RSP) {
        const slot = stack[stack.length - 1] ?? null;
        stack[stack.length - 1] = valueOf(register);
        set(register, slot);
        return { rsp: 0, assigned };
      }
      if (topIsRsp && stack.length > 0) stack.fill(null);
      return { rsp: register === Register.RSP || writesRsp ? null : 0, assigned };
    }
    case Code.Mov_rm32_imm32: {
      // The classic `push lo32; mov dword ptr [rsp+4], hi32; ret` builds a 64-bit address.
      const top = stack.length - 1;
      if (topIsRsp && instruction.memoryDisplacement === 4n && top >= 0) {
        const slot = stack[top] ?? null;
        stack[top] = typeof slot === 'bigint' ? (BigInt(instruction.immediate32 >>> 0) << 32n) | (slot & 0xffff_ffffn) : null;
      }
      return { rsp: dest === Register.RSP ? null : 0, assigned };
    }
    default: {
      // push/pop of other kinds move rsp by a known amount; any other write to rsp
      // (mov/and/xchg rsp, 32-bit esp writes, leave, pop rsp) leaves it unknown.
      if (WORD_STACK_MNEMONICS.has(instruction.mnemonic) && !(instruction.op0Kind === OpKind.Register && RegisterExt.fullRegister(instruction.op0Register) === Register.RSP)) {
        return moved(instruction.stackPointerIncrement);
      }
      if (rspWritten) return { rsp: null, assigned };
      // a store through [rsp+disp] we do not model may change a pushed slot
      if (topIsRsp) stack.fill(null);
      return { rsp: 0, assigned };
    }
  }
}

function resolveTransfer(
  instruction: Instruction,
  address: bigint,
  registers: Map<Register, TrackedValue>,
  stack: StackSlot[],
  readOwnQword: (address: bigint) => bigint | null,
): TrampolineTransfer {
  const flow = instruction.flowControl;
  const isCall = flow === FlowControl.Call || flow === FlowControl.IndirectCall;
  const constant = (value: TrackedValue | null | undefined): bigint | null => (typeof value === 'bigint' ? value : null);
  if (flow === FlowControl.Return) {
    return { kind: 'ret', at: address, destination: constant(stack.at(-1)), indirect: true };
  }
  if (flow === FlowControl.UnconditionalBranch || flow === FlowControl.Call) {
    return { kind: isCall ? 'call-direct' : 'jmp-direct', at: address, destination: instruction.nearBranchTarget, indirect: false };
  }
  if (instruction.op0Kind === OpKind.Register) {
    const destination = constant(registers.get(RegisterExt.fullRegister(instruction.op0Register)));
    return { kind: isCall ? 'call-register' : 'jmp-register', at: address, destination, indirect: true };
  }
  const destination = instruction.isIpRelMemoryOperand ? readOwnQword(instruction.ipRelMemoryAddress) : null;
  return { kind: isCall ? 'call-memory' : 'jmp-memory', at: address, destination, indirect: true };
}
