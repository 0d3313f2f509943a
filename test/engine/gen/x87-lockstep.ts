// Lockstep comparison of the x87: random x87 instructions over valid 80-bit operands (zeros,
// denormals, infinities, NaNs, extreme exponents, halfway cases) under random precision and
// rounding control, run one at a time on two engines and compared after each: ST(0)..ST(7)
// bit-exactly, FCW, FSW (bits both engines define, see STATUS_COMPARED), the tag word, rax,
// CF/PF/ZF and the operand/result memory. The generator tracks the stack depth so it never
// under- or overflows the stack (QEMU does not model stack faults: unicorn-oracle-gaps.test.ts).

import { Perm, type Engine, type X87State } from '../../../src/engine/engine.js';
import { hexBytes } from './instruction-forms.js';
import type { Rng } from './rng.js';

const CODE = 0x0010_0000n;
const CODE_SIZE = 0x4_0000;
const DATA = 0x0020_0000n;
const DATA_SIZE = 0x1000;
/** [rbx+0x00] operand (up to 10 bytes), [rbx+0x20] store target, [rbx+0x40] control word for fldcw. */
const OPERAND = 0x00, OUTPUT = 0x20, CONTROL = 0x40;

/**
 * Status word bits compared: TOP always; C0 C2 C3 while both engines define them (see cValid in
 * runX87Lockstep). Not compared: C1 and the exception bits IE DE ZE OE UE PE SF ES B. Unicorn
 * 2.0.1 (QEMU 5.0) keeps no softfloat exception flags in FSW: it never sets IE/DE/OE/UE/PE/SF and
 * sets ZE for any division whose divisor is zero, 0/0 included (the CPU: IE). The core sets them
 * as the CPU does; wasm-ext.test.ts checks them against the architectural values.
 */
const TOP_BITS = 0x3800;
const CONDITION_BITS = 0x4000 | 0x0400 | 0x0100;

export interface X87Stats {
  compared: number;
  perForm: Map<string, number>;
  /** Steps whose only difference is a known Unicorn deviation (unicorn-oracle-gaps.test.ts), by kind. */
  knownGaps: Map<string, number>;
}

interface Step {
  name: string;
  bytes: number[];
  /** Stack depth change. */
  delta: number;
  /** Bytes to place at [rbx+OPERAND] before the step. */
  operand?: Uint8Array;
}

function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** A valid 80-bit value (no unnormals, pseudo-NaNs or pseudo-infinities), edge cases weighted in. */
export function randomExtended(rng: Rng): Uint8Array {
  const sign = rng.chance(0.4) ? 0x8000n : 0n;
  const top = 1n << 63n;
  const random63 = rng.u64() & (top - 1n);
  let mant: bigint, exp: bigint;
  switch (rng.below(14)) {
    case 0: mant = 0n; exp = 0n; break; // zero
    case 1: mant = rng.chance(0.3) ? 1n : random63 >> BigInt(rng.below(63)); exp = 0n; break; // denormal
    case 2: mant = top; exp = 1n; break; // smallest normal
    case 3: mant = (1n << 64n) - 1n; exp = 0x7ffen; break; // largest finite
    case 4: mant = top; exp = 0x7fffn; break; // infinity
    case 5: mant = top | (1n << 62n) | (rng.chance(0.5) ? 0n : random63 & ((1n << 62n) - 1n)); exp = 0x7fffn; break; // QNaN
    case 6: mant = top | ((random63 & ((1n << 62n) - 1n)) | 1n); exp = 0x7fffn; break; // SNaN
    case 7: mant = top | random63; exp = BigInt(1 + rng.below(64)); break; // tiny normal
    case 8: mant = top | random63; exp = BigInt(0x7ffe - rng.below(64)); break; // huge normal
    case 9: { // integer or halfway value near 1..2^20
      const k = rng.below(22);
      mant = (top | random63) & ~((1n << BigInt(63 - k)) - 1n);
      if (rng.chance(0.5) && k < 62) mant |= 1n << BigInt(62 - k); // x.5
      exp = BigInt(0x3fff + k);
      break;
    }
    case 10: mant = top | (random63 & ~((1n << 11n) - 1n)); exp = BigInt(0x3fff - 40 + rng.below(80)); break; // double-representable
    case 11: mant = top | (rng.chance(0.5) ? 0n : 1n); exp = BigInt(0x3fff - 2 + rng.below(4)); break; // 1, 1+ulp
    default: mant = top | random63; exp = BigInt(0x3fff - 70 + rng.below(140)); break;
  }
  return le(mant | ((exp | sign) << 64n), 10);
}

function randomFloatBits(rng: Rng, bytes: 4 | 8): Uint8Array {
  const special: bigint[] = bytes === 4
    ? [0n, 0x80000000n, 0x3f800000n, 0x7f800000n, 0xff800000n, 0x7fc00000n, 0x7f800001n, 0x00000001n, 0x007fffffn, 0x00800000n, 0x7f7fffffn]
    : [0n, 1n << 63n, 0x3ff0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff0000000000001n, 1n, 0x000fffffffffffffn, 0x0010000000000000n, 0x7fefffffffffffffn];
  if (rng.chance(0.3)) return le(rng.pick(special), bytes);
  const raw = rng.u64();
  if (bytes === 4) return le(rng.chance(0.5) ? (raw & 0x807fffffn) | (BigInt(0x70 + rng.below(32)) << 23n) : raw & 0xffffffffn, 4);
  return le(rng.chance(0.5) ? (raw & 0x800fffffffffffffn) | (BigInt(0x3e0 + rng.below(64)) << 52n) : raw, 8);
}

function randomInt(rng: Rng, bytes: 2 | 4 | 8): Uint8Array {
  const bits = BigInt(bytes * 8);
  const edges = [0n, 1n, (1n << bits) - 1n, 1n << (bits - 1n), (1n << (bits - 1n)) - 1n];
  const v = rng.chance(0.3) ? rng.pick(edges) : rng.u64() >> BigInt(rng.below(64));
  return le(v & ((1n << bits) - 1n), bytes);
}

/** Control words: PC 24/53/64 bits, every RC, exceptions masked. */
function randomControl(rng: Rng): Uint8Array {
  const pc = rng.pick([0, 2, 3, 3]);
  const rcBits = rng.below(4);
  return le(BigInt(0x7f | (pc << 8) | (rcBits << 10)), 2);
}

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];

/** One random x87 step valid at stack depth `depth` (0..8). ModRM forms use [rbx+disp8]. */
function randomStep(rng: Rng, depth: number): Step {
  const modrm = (reg: number, disp: number): number[] => [0x43 | (reg << 3), disp];
  const i = depth > 0 ? rng.below(depth) : 0;
  const options: (() => Step | undefined)[] = [
    // loads (push)
    () => depth < 8 ? { name: 'fld m80', bytes: [0xdb, ...modrm(5, OPERAND)], delta: 1, operand: randomExtended(rng) } : undefined,
    () => depth < 8 ? { name: 'fld m64', bytes: [0xdd, ...modrm(0, OPERAND)], delta: 1, operand: randomFloatBits(rng, 8) } : undefined,
    () => depth < 8 ? { name: 'fld m32', bytes: [0xd9, ...modrm(0, OPERAND)], delta: 1, operand: randomFloatBits(rng, 4) } : undefined,
    () => depth < 8 ? rng.pick([
      { name: 'fild m16', bytes: [0xdf, ...modrm(0, OPERAND)], delta: 1, operand: randomInt(rng, 2) },
      { name: 'fild m32', bytes: [0xdb, ...modrm(0, OPERAND)], delta: 1, operand: randomInt(rng, 4) },
      { name: 'fild m64', bytes: [0xdf, ...modrm(5, OPERAND)], delta: 1, operand: randomInt(rng, 8) },
    ]) : undefined,
    () => depth < 8 && depth > 0 ? { name: 'fld st(i)', bytes: [0xd9, 0xc0 + i], delta: 1 } : undefined,
    () => depth < 8 ? (() => { const c = rng.below(7); return { name: ['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz'][c]!, bytes: [0xd9, 0xe8 + c], delta: 1 }; })() : undefined,
    // stores
    () => depth > 0 ? rng.pick([
      { name: 'fst m32', bytes: [0xd9, ...modrm(2, OUTPUT)], delta: 0 },
      { name: 'fstp m32', bytes: [0xd9, ...modrm(3, OUTPUT)], delta: -1 },
      { name: 'fst m64', bytes: [0xdd, ...modrm(2, OUTPUT)], delta: 0 },
      { name: 'fstp m64', bytes: [0xdd, ...modrm(3, OUTPUT)], delta: -1 },
      { name: 'fstp m80', bytes: [0xdb, ...modrm(7, OUTPUT)], delta: -1 },
      { name: 'fstp st(i)', bytes: [0xdd, 0xd8 + i], delta: -1 },
      { name: 'fst st(i)', bytes: [0xdd, 0xd0 + i], delta: 0 },
    ]) : undefined,
    () => depth > 0 ? rng.pick([
      { name: 'fist m16', bytes: [0xdf, ...modrm(2, OUTPUT)], delta: 0 },
      { name: 'fistp m16', bytes: [0xdf, ...modrm(3, OUTPUT)], delta: -1 },
      { name: 'fist m32', bytes: [0xdb, ...modrm(2, OUTPUT)], delta: 0 },
      { name: 'fistp m32', bytes: [0xdb, ...modrm(3, OUTPUT)], delta: -1 },
      { name: 'fistp m64', bytes: [0xdf, ...modrm(7, OUTPUT)], delta: -1 },
      { name: 'fisttp m16', bytes: [0xdf, ...modrm(1, OUTPUT)], delta: -1 },
      { name: 'fisttp m32', bytes: [0xdb, ...modrm(1, OUTPUT)], delta: -1 },
      { name: 'fisttp m64', bytes: [0xdd, ...modrm(1, OUTPUT)], delta: -1 },
    ]) : undefined,
    // arithmetic and compares, register forms: D8 st0 op st(i), DC st(i) op st0, DE ...p
    () => {
      if (depth === 0) return undefined;
      const reg = rng.below(8);
      const form = rng.below(3);
      if (form === 0) return { name: `${ARITH[reg]} st0,st(i)`, bytes: [0xd8, 0xc0 | (reg << 3) | i], delta: reg === 3 ? -1 : 0 };
      if (reg === 2 || reg === 3) return undefined; // DC D0+/D8+ are aliases of fcom/fcomp
      if (form === 1) return { name: `${ARITH[reg]} st(i),st0`, bytes: [0xdc, 0xc0 | (reg << 3) | i], delta: 0 };
      return { name: `${ARITH[reg]}p st(i),st0`, bytes: [0xde, 0xc0 | (reg << 3) | i], delta: -1 };
    },
    // arithmetic and compares, memory forms
    () => {
      if (depth === 0) return undefined;
      const reg = rng.below(8);
      const delta = reg === 3 ? -1 : 0;
      return rng.pick([
        { name: `${ARITH[reg]} m32`, bytes: [0xd8, ...modrm(reg, OPERAND)], delta, operand: randomFloatBits(rng, 4) },
        { name: `${ARITH[reg]} m64`, bytes: [0xdc, ...modrm(reg, OPERAND)], delta, operand: randomFloatBits(rng, 8) },
        { name: `fi${ARITH[reg]!.slice(1)} m32`, bytes: [0xda, ...modrm(reg, OPERAND)], delta, operand: randomInt(rng, 4) },
        { name: `fi${ARITH[reg]!.slice(1)} m16`, bytes: [0xde, ...modrm(reg, OPERAND)], delta, operand: randomInt(rng, 2) },
      ]);
    },
    () => depth >= 2 ? rng.pick([
      { name: 'fcompp', bytes: [0xde, 0xd9], delta: -2 },
      { name: 'fucompp', bytes: [0xda, 0xe9], delta: -2 },
    ]) : undefined,
    () => depth > 0 ? rng.pick([
      { name: 'fucom st(i)', bytes: [0xdd, 0xe0 + i], delta: 0 },
      { name: 'fucomp st(i)', bytes: [0xdd, 0xe8 + i], delta: -1 },
      { name: 'fcomi st0,st(i)', bytes: [0xdb, 0xf0 + i], delta: 0 },
      { name: 'fucomi st0,st(i)', bytes: [0xdb, 0xe8 + i], delta: 0 },
      { name: 'fcomip st0,st(i)', bytes: [0xdf, 0xf0 + i], delta: -1 },
      { name: 'fucomip st0,st(i)', bytes: [0xdf, 0xe8 + i], delta: -1 },
      { name: 'ftst', bytes: [0xd9, 0xe4], delta: 0 },
      { name: 'fxam', bytes: [0xd9, 0xe5], delta: 0 },
    ]) : undefined,
    () => depth > 0 ? rng.pick([
      { name: 'fchs', bytes: [0xd9, 0xe0], delta: 0 },
      { name: 'fabs', bytes: [0xd9, 0xe1], delta: 0 },
      { name: 'fsqrt', bytes: [0xd9, 0xfa], delta: 0 },
      { name: 'frndint', bytes: [0xd9, 0xfc], delta: 0 },
      { name: 'fxch st(i)', bytes: [0xd9, 0xc8 + i], delta: 0 },
      { name: 'fcmovb st0,st(i)', bytes: [0xda, 0xc0 + i], delta: 0 },
      { name: 'fcmovnbe st0,st(i)', bytes: [0xdb, 0xd0 + i], delta: 0 },
      { name: 'fnstsw ax', bytes: [0xdf, 0xe0], delta: 0 },
    ]) : undefined,
    () => ({ name: 'fldcw m16', bytes: [0xd9, ...modrm(5, CONTROL)], delta: 0 }),
  ];
  for (;;) {
    const step = rng.pick(options)();
    if (step) return step;
  }
}

function isNaN80(v: Uint8Array): boolean {
  return (v[9]! & 0x7f) === 0x7f && v[8] === 0xff && (v[7]! & 0x80) !== 0 && (v[7]! & 0x7f) + v.subarray(0, 7).reduce((x, y) => x + y, 0) !== 0;
}

/** An 80-bit NaN whose quiet bit is clear (a signaling NaN). */
function isSignalingNaN80(v: Uint8Array): boolean {
  return (v[9]! & 0x7f) === 0x7f && v[8] === 0xff && (v[7]! & 0xc0) === 0x80 && v.subarray(0, 8).some((b, i) => i < 7 ? b !== 0 : (b & 0x3f) !== 0);
}

/**
 * Differences between two x87 states. `statusMask` selects the FSW bits compared. A register
 * that is an SNaN in the oracle and the same NaN quieted in the subject is counted under
 * 'snan-not-quieted' (QEMU 5.0 keeps SNaNs signaling through fld m32/m64 and fscale).
 */
export function diffX87(a: X87State, b: X87State, statusMask: number, gaps: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (Buffer.compare(a.st[i]!, b.st[i]!) === 0) continue;
    const quieted = Uint8Array.from(b.st[i]!);
    quieted[7] = quieted[7]! | 0x40;
    if (isSignalingNaN80(b.st[i]!) && Buffer.compare(a.st[i]!, quieted) === 0) { gaps.add('snan-not-quieted'); continue; }
    // both NaN, different payload or sign: which operand's NaN propagates (the core follows the CPU here, unicorn-oracle-gaps.test.ts)
    if (isNaN80(a.st[i]!) && isNaN80(b.st[i]!)) { gaps.add('nan-choice'); continue; }
    out.push(`st${i}: ${hexBytes(a.st[i]!)} vs ${hexBytes(b.st[i]!)}`);
  }
  if (a.fcw !== b.fcw) out.push(`fcw: ${a.fcw.toString(16)} vs ${b.fcw.toString(16)}`);
  if ((a.fsw & statusMask) !== (b.fsw & statusMask)) out.push(`fsw (masked ${statusMask.toString(16)}): ${a.fsw.toString(16)} vs ${b.fsw.toString(16)}`);
  if (a.ftw !== b.ftw) out.push(`ftw: ${a.ftw.toString(16)} vs ${b.ftw.toString(16)}`);
  return out;
}

/** A store's memory difference that is a known Unicorn deviation, or undefined. */
function knownStoreGap(name: string, subject: Uint8Array, oracle: Uint8Array): string | undefined {
  const value = (bytes: Uint8Array, n: number): bigint => bytes.subarray(0, n).reduce((acc, b, i) => acc | (BigInt(b) << BigInt(8 * i)), 0n);
  const int = /^fis?t?t?p? m(16|32|64)$/.exec(name.replace('fisttp', 'fist').replace('fistp', 'fist'));
  if (name.startsWith('fi') && int) {
    // out-of-range or NaN to m32/m64: the CPU stores the integer indefinite, QEMU 5.0 saturates
    const n = Number(int[1]) / 8;
    if (n > 2 && value(subject, n) === 1n << BigInt(n * 8 - 1)) return 'integer-indefinite-saturated';
    return undefined;
  }
  const float = /^fstp? m(32|64|80)$/.exec(name);
  if (float) {
    if (float[1] === '80') return isNaN80(subject.subarray(0, 10)) && isNaN80(oracle.subarray(0, 10)) ? 'nan-choice' : undefined;
    const n = Number(float[1]) / 8;
    const quiet = n === 4 ? 1n << 22n : 1n << 51n;
    const expMask = n === 4 ? 0x7f800000n : 0x7ff0000000000000n;
    const s = value(subject, n), o = value(oracle, n);
    if ((o & quiet) === 0n && s === (o | quiet)) return 'snan-not-quieted';
    const nan = (v: bigint): boolean => (v & expMask) === expMask && (v & (quiet * 2n - 1n)) !== 0n;
    if (nan(s) && nan(o)) return 'nan-choice';
  }
  return undefined;
}

function prepare(engine: Engine): void {
  engine.map(CODE, CODE_SIZE, Perm.RX);
  engine.map(DATA, DATA_SIZE, Perm.RW);
  engine.writeRegister('rbx', DATA);
  engine.writeRegister('rax', 0n);
  engine.writeRegister('rflags', 0x2n);
}

/**
 * Runs `length` random x87 steps on both engines from a fresh fninit state and compares after
 * each. Returns the mismatch description (with seed and step) or undefined.
 */
export function runX87Lockstep(subject: Engine, oracle: Engine, rng: Rng, seed: number, length: number, stats: X87Stats): string | undefined {
  if (!subject.readX87 || !oracle.readX87) throw new Error('both engines must expose readX87');
  prepare(subject);
  prepare(oracle);
  let rip = CODE;
  const both = (f: (e: Engine) => void): void => { f(subject); f(oracle); };
  // fninit (db e3), then the control word under test: fldcw [rbx+0x40] (d9 6b 40)
  const control = randomControl(rng);
  both((e) => e.writeMemory(DATA + BigInt(CONTROL), control));
  const prologue = [0xdb, 0xe3, 0xd9, 0x6b, CONTROL];
  both((e) => e.writeMemory(rip, Uint8Array.from(prologue)));
  both((e) => e.start(rip, { until: rip + BigInt(prologue.length) }));
  rip += BigInt(prologue.length);
  let depth = 0;
  let rc = (control[1]! >> 2) & 3;
  // C0 C2 C3 are compared while both engines define them: after fninit and compares/fxam/ftst.
  // Arithmetic leaves them undefined; the core keeps them, QEMU 5.0's fsqrt of a negative
  // operand sets C2, so fsqrt makes them incomparable until the next instruction defining them.
  let cValid = true;
  for (let n = 0; n < length; n++) {
    let step = randomStep(rng, depth);
    // QEMU 5.0 loads the constants rounded to nearest whatever RC says (the CPU honours RC)
    while (rc !== 0 && /^fld(l2t|l2e|pi|lg2|ln2)$/.test(step.name)) step = randomStep(rng, depth);
    if (step.operand) both((e) => e.writeMemory(DATA + BigInt(OPERAND), step.operand!));
    if (step.name === 'fldcw m16') {
      const cw = randomControl(rng);
      rc = (cw[1]! >> 2) & 3;
      both((e) => e.writeMemory(DATA + BigInt(CONTROL), cw));
    }
    if (rng.chance(0.1)) {
      const flags = BigInt(0x2 | (rng.chance(0.5) ? 1 : 0) | (rng.chance(0.5) ? 0x40 : 0) | (rng.chance(0.5) ? 4 : 0));
      both((e) => e.writeRegister('rflags', flags));
    }
    const code = Uint8Array.from(step.bytes);
    both((e) => e.writeMemory(rip, code));
    const rs = subject.start(rip, { count: 1 });
    const ro = oracle.start(rip, { count: 1 });
    const where = `seed ${seed} step ${n}: ${step.name} (${hexBytes(code)})${step.operand ? ` operand ${hexBytes(step.operand)}` : ''}`;
    if (rs.reason !== ro.reason || rs.rip !== ro.rip) return `${where}: ran to ${rs.reason}@${rs.rip.toString(16)} vs ${ro.reason}@${ro.rip.toString(16)}`;
    if (step.name === 'fsqrt') cValid = false;
    if (/^f(u?comp{0,2}|icomp?|tst|xam)( |$)/.test(step.name)) cValid = true; // not fcomi: it leaves C0 C2 C3
    const statusMask = TOP_BITS | (cValid ? CONDITION_BITS : 0);
    const gaps = new Set<string>();
    const out = diffX87(subject.readX87(), oracle.readX87(), statusMask, gaps);
    // fnstsw ax: ax compared under the status mask, then the oracle's copied so the machines stay identical
    const raxMask = step.name === 'fnstsw ax' ? BigInt(statusMask) : ~0n;
    const raxSubject = subject.readRegister('rax'), raxOracle = oracle.readRegister('rax');
    if ((raxSubject & raxMask) !== (raxOracle & raxMask)) out.push(`rax: ${raxSubject.toString(16)} vs ${raxOracle.toString(16)}`);
    else if (raxSubject !== raxOracle) subject.writeRegister('rax', raxOracle);
    const flagMask = 0x45n; // CF PF ZF (fcomi)
    if ((subject.readRegister('rflags') & flagMask) !== (oracle.readRegister('rflags') & flagMask)) out.push(`rflags: ${subject.readRegister('rflags').toString(16)} vs ${oracle.readRegister('rflags').toString(16)}`);
    const ms = subject.readMemory(DATA, 0x40), mo = oracle.readMemory(DATA, 0x40);
    const storeGap = Buffer.compare(ms, mo) !== 0 ? knownStoreGap(step.name, ms.subarray(OUTPUT), mo.subarray(OUTPUT)) : undefined;
    if (storeGap) {
      gaps.add(storeGap);
      both((e) => e.writeMemory(DATA + BigInt(OUTPUT), ms.subarray(OUTPUT, OUTPUT + 16))); // keep the machines identical
    } else if (Buffer.compare(ms, mo) !== 0) out.push(`memory [rbx..rbx+0x40]: ${hexBytes(ms.subarray(OUTPUT, OUTPUT + 16))} vs ${hexBytes(mo.subarray(OUTPUT, OUTPUT + 16))}`);
    if (out.length > 0) return `${where}: ${out.join('; ')}`;
    for (const gap of gaps) stats.knownGaps.set(gap, (stats.knownGaps.get(gap) ?? 0) + 1);
    stats.compared++;
    stats.perForm.set(step.name, (stats.perForm.get(step.name) ?? 0) + 1);
    depth += step.delta;
    rip += BigInt(code.length);
  }
  return undefined;
}
