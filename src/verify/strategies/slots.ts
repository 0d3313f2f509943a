// What the two pointer-slot strategies (got.ts, vtable.ts) share: their patch rewrites
// 8-byte slots that hold the old function's address instead of code. Here: the plan's shape,
// the PatchStrategy both are built from (slotStrategy: locate, prepare/apply for the tool,
// readProgramPatch for a handler, observe), the tool's write (mprotect the RELRO page like a
// real patcher, write, restore), what a program's handler wrote into relocated read-only
// data (a before/after diff, so libc stores count too), the watch on the old entry after the
// patch, and the findings OLD_FUNCTION_STILL_CALLED and WRITE_OUTSIDE_PATCH_TARGET.
// Everything reads the live image, so it holds on both process models.

import { disassemble } from '../../asm/disasm.js';
import { HookType, type HookHandle } from '../../engine/engine.js';
import { SegmentType, SymbolType, type ElfFile } from '../../elf/index.js';
import type { GuestObject, GuestProcess, ProcessStop } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { checkReached } from '../checks/not-reached.js';
import { checkToolWriteFault, type MprotectCall } from '../checks/write-fault.js';
import { PATCH_PATH } from '../dynamic/launch.js';
import type { HandlerRun } from '../dynamic/program-patcher.js';
import { describeStop } from '../dynamic/stop-text.js';
import { VerifyError } from '../error.js';
import type { Evidence, Finding } from '../finding.js';
import { calledAgain } from '../pipeline/judge.js';
import type { PatchSession } from '../pipeline/session.js';
import type { SlotWriteSummary } from '../result.js';
import type { ResolvedFunction } from '../symbols.js';
import type { PatchStrategy, ReplacementAt } from './strategy.js';

export const PAGE = 0x1000n;
const PROT_READ = 1;
const PROT_WRITE = 2;
/** Old-entry arrivals kept as evidence. */
const MAX_OLD_CALLS_KEPT = 16;

export type SlotStrategyName = 'got' | 'vtable';

/** The function whose slots are rewritten, at its run-time address. */
export interface OldFunction {
  name: string;
  demangled: string;
  address: bigint;
  size: number;
  /** Path of the loaded object that defines it. */
  object: string;
  /** Its symbol, link-time (relative to the object's base). */
  resolved: ResolvedFunction;
}

/** One 8-byte slot holding the old function (or, for a vtable, a thunk to it). */
export interface PointerSlot {
  address: bigint;
  /** Path of the loaded object the slot belongs to. */
  object: string;
  /** "R_X86_64_JUMP_SLOT", "vtable for Imp1 [slot 0]"... */
  what: string;
  /** What it holds before the patch. */
  old: bigint;
  /** For a vtable slot that holds a this-adjusting thunk: its name, so the tool can use the replacement's. */
  thunk?: { name: string; prefix: string };
}

export interface ByteRange {
  start: bigint;
  end: bigint;
  what: string;
}

export interface SlotPlan {
  strategy: SlotStrategyName;
  old: OldFunction;
  slots: PointerSlot[];
  /**
   * What a patcher may write: the slots for the tool; for a program also the ranges it may
   * legitimately rewrite (a hooked vtable's other method slots).
   */
  targets: ByteRange[];
  /** Relocated read-only data of every loaded object (PT_GNU_RELRO) and every vtable: writes here outside `targets` are findings. */
  watched: ByteRange[];
  /** Static findings (infos about call sites that bypass every slot, etc.). */
  findings: Finding[];
}

/** An 8-byte word of watched data that changed while the patch was applied. */
export interface SlotWrite {
  address: bigint;
  before: bigint;
  after: bigint;
  /** Inside what the patcher set out to write. */
  inTarget: boolean;
}

export interface ToolSlotPatch {
  writes: SlotWrite[];
  mprotects: MprotectCall[];
  /** The first mprotect the kernel refused, if any: nothing was written. */
  refused: MprotectCall | null;
}

/** The tool as a careful slot patcher: each page made RW if it is not, the slots written, the pages' protection restored. */
export function applySlotsAsTool(process: GuestProcess, slots: readonly { address: bigint; value: bigint }[]): ToolSlotPatch {
  const mprotects: MprotectCall[] = [];
  const restore: { page: bigint; prot: number }[] = [];
  const pages = [...new Set(slots.map((s) => s.address & ~(PAGE - 1n)))].sort((a, b) => (a < b ? -1 : 1));
  for (const page of pages) {
    const mapping = process.regions().find((m) => m.begin <= page && page < m.end);
    const prot = mapping ? Number(mapping.perms) : 0;
    if (prot & PROT_WRITE) continue;
    const wanted = (prot | PROT_READ | PROT_WRITE) & 7;
    const result = process.mprotect(page, PAGE, wanted);
    const call = { address: page, length: PAGE, prot: wanted, result };
    mprotects.push(call);
    if (result !== 0) return { writes: [], mprotects, refused: call };
    restore.push({ page, prot });
  }
  const writes: SlotWrite[] = [];
  for (const s of slots) {
    const before = process.mem.u64(s.address);
    process.mem.writeU64(s.address, s.value);
    writes.push({ address: s.address, before, after: s.value, inTarget: true });
  }
  for (const r of restore) {
    const result = process.mprotect(r.page, PAGE, r.prot);
    mprotects.push({ address: r.page, length: PAGE, prot: r.prot, result });
  }
  return { writes, mprotects, refused: null };
}

/** The bytes of the watched ranges now, to diff against after a program's handler ran. */
export function readWatched(process: GuestProcess, ranges: readonly ByteRange[]): Uint8Array[] {
  return ranges.map((r) => {
    try {
      return process.engine.readMemory(r.start, Number(r.end - r.start));
    } catch {
      return new Uint8Array(0);
    }
  });
}

/** Every 8-byte word of the watched ranges that differs from `before`. */
export function changedWords(process: GuestProcess, ranges: readonly ByteRange[], before: readonly Uint8Array[], targets: readonly ByteRange[]): SlotWrite[] {
  const out: SlotWrite[] = [];
  const seen = new Set<bigint>();
  ranges.forEach((r, i) => {
    const old = before[i]!;
    if (old.length === 0) return;
    let now: Uint8Array;
    try {
      now = process.engine.readMemory(r.start, old.length);
    } catch {
      return;
    }
    const view = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);
    // Word-aligned in the address space, as slots are.
    const first = Number((8n - (r.start & 7n)) & 7n);
    for (let at = first; at + 8 <= old.length; at += 8) {
      const a = view(old, at);
      const b = view(now, at);
      const address = r.start + BigInt(at);
      if (a === b || seen.has(address)) continue;
      seen.add(address);
      out.push({ address, before: a, after: b, inTarget: targets.some((t) => t.start <= address && address + 8n <= t.end) });
    }
  });
  return out.sort((x, y) => (x.address < y.address ? -1 : 1));
}

/** PT_GNU_RELRO of every loaded object with an ELF image: GOTs, vtables, other relocated constants. */
export function relroRanges(process: GuestProcess): ByteRange[] {
  const out: ByteRange[] = [];
  for (const o of process.objects) {
    const relro = o.elf?.segments.find((s) => s.type === SegmentType.GnuRelro);
    if (relro && relro.memorySize > 0n) out.push({ start: o.base + relro.virtualAddress, end: o.base + relro.virtualAddress + relro.memorySize, what: `RELRO of ${o.path}` });
  }
  return out;
}

/** "vtable for Imp1Loud (_ZTV8Imp1Loud+0x0, ./main)" for a data address: the object symbol that contains it. */
export function describeData(process: GuestProcess, address: bigint): { text: string; symbol?: string; offset?: bigint } {
  const o = process.objects.find((obj) => obj.contains(address));
  if (!o?.elf) return { text: hex(address) };
  const link = address - o.base;
  for (const s of [...o.elf.symbols, ...o.elf.dynamicSymbols]) {
    if (s.sectionIndex === 0 || s.type !== SymbolType.Object || s.size === 0n) continue;
    if (s.value <= link && link < s.value + s.size) {
      const demangled = o.elf.demangledName(s);
      const offset = link - s.value;
      return { text: `${demangled !== s.name ? `${demangled} (${s.name}+${hex(offset)})` : `${s.name}+${hex(offset)}`} in ${o.path}`, symbol: s.name, offset };
    }
  }
  const section = o.elf.sections.find((sec) => sec.address <= link && link < sec.address + sec.size && sec.address !== 0n);
  return { text: `${hex(address)} (${section ? `${section.name}+${hex(link - section.address)}` : `+${hex(link)}`} in ${o.path})` };
}

/** An arrival at the old entry after the patch. */
export interface OldCall {
  at: number;
  returnAddress: bigint;
}

export interface SlotObservation {
  stop: ProcessStop;
  oldCalls: OldCall[];
  oldCallCount: number;
  /** Entries of any new slot value (replacement or hook) after the patch. */
  replacementRuns: number;
  /** Per watched extra address (converter, new methods): the `this` (rdi) and its vtable pointer at each entry. */
  entries: { address: bigint; rdi: bigint; vptr: bigint | null; at: number }[];
  /** Hook stubs (generated code a slot now points at) and the registers there, paired with the next `extra` entry they reach. */
  hookTransfers: HookTransfer[];
}

/** The registers a call's callee may rely on: rsp, the argument registers, the callee-saved ones. */
export const TRANSFER_REGISTERS = ['rsp', 'rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9', 'rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'] as const;
export type TransferRegister = (typeof TRANSFER_REGISTERS)[number];

/** A hook stub's entry and the method it dispatched to: a stub must arrive with the caller's registers. */
export interface HookTransfer {
  stub: bigint;
  method: bigint;
  at: number;
  atStub: Record<TransferRegister, bigint>;
  atMethod: Record<TransferRegister, bigint>;
}

/**
 * Runs on after the patch, watching the old entries (the function and any this-adjusting
 * thunk holding a copy of it), the new targets and `extra` entries (converters, new methods).
 */
export function observeSlots(
  process: GuestProcess,
  options: { olds: readonly bigint[]; replacements: readonly bigint[]; extra: readonly bigint[]; stubs?: readonly bigint[]; converters?: readonly bigint[]; budget: number },
): SlotObservation {
  const observation: SlotObservation = { stop: { reason: 'budget', instructions: process.instructions }, oldCalls: [], oldCallCount: 0, replacementRuns: 0, entries: [], hookTransfers: [] };
  const registers = (): Record<TransferRegister, bigint> => {
    const out = {} as Record<TransferRegister, bigint>;
    for (const r of TRANSFER_REGISTERS) out[r] = process.engine.readRegister(r);
    return out;
  };
  let pendingStub: { stub: bigint; at: number; atStub: Record<TransferRegister, bigint> } | null = null;
  const hooks: HookHandle[] = [];
  const at = (address: bigint, callback: () => void): void => {
    hooks.push(process.engine.addHook({ type: HookType.Code, begin: address, end: address, callback }));
  };
  for (const old of new Set(options.olds)) {
    at(old, () => {
      observation.oldCallCount++;
      if (observation.oldCalls.length < MAX_OLD_CALLS_KEPT) {
        observation.oldCalls.push({ at: process.instructions, returnAddress: process.mem.u64(process.engine.readRegister('rsp')) });
      }
    });
  }
  for (const r of new Set(options.replacements)) at(r, () => observation.replacementRuns++);
  for (const e of new Set(options.extra)) {
    at(e, () => {
      if (observation.entries.length >= 4096) return;
      const rdi = process.engine.readRegister('rdi');
      let vptr: bigint | null;
      try {
        vptr = process.mem.u64(rdi);
      } catch {
        vptr = null;
      }
      observation.entries.push({ address: e, rdi, vptr, at: process.instructions });
      // The converter is called from inside the stub; the method is where the stub goes.
      if (pendingStub && e !== pendingStub.stub && observation.hookTransfers.length < 64 && !(options.converters ?? []).includes(e)) {
        observation.hookTransfers.push({ ...pendingStub, method: e, atMethod: registers() });
        pendingStub = null;
      }
    });
  }
  for (const s of new Set(options.stubs ?? [])) {
    at(s, () => {
      pendingStub = { stub: s, at: process.instructions, atStub: registers() };
    });
  }
  try {
    const left = options.budget - process.instructions;
    observation.stop = left > 0 ? process.run({ maxInstructions: left }) : { reason: 'budget', instructions: process.instructions };
  } finally {
    for (const h of hooks) process.engine.removeHook(h);
  }
  return observation;
}

/** How a call that reached the old entry got there, read from the instruction before its return address. */
export interface CallPath {
  kind: 'direct' | 'plt' | 'slot' | 'pointer' | 'unknown';
  /** The call instruction's address and text. */
  site?: bigint;
  text?: string;
  /** For 'slot': the memory word the call read its target from. */
  slot?: bigint;
}

export function callPathOf(process: GuestProcess, returnAddress: bigint, old: bigint, isPlt: (address: bigint) => boolean): CallPath {
  let bytes: Uint8Array;
  try {
    bytes = process.engine.readMemory(returnAddress - 7n, 7);
  } catch {
    return { kind: 'unknown' };
  }
  // Try every length a call can have; the decode must end exactly at the return address.
  for (const length of [5, 6, 7, 2, 3, 4]) {
    const site = returnAddress - BigInt(length);
    const [insn] = disassemble(bytes.subarray(7 - length), site, 1);
    if (!insn || insn.invalid || insn.length !== length || insn.mnemonic !== 'call') continue;
    if (insn.branchTarget !== undefined) {
      if (insn.branchTarget === old) return { kind: 'direct', site, text: insn.text };
      if (isPlt(insn.branchTarget)) return { kind: 'plt', site, text: insn.text };
      return { kind: 'unknown', site, text: insn.text };
    }
    if (insn.ripRelativeTarget !== undefined) return { kind: 'slot', site, text: insn.text, slot: insn.ripRelativeTarget };
    if (/^call (qword ptr )?\[/.test(insn.text) || /^call r/.test(insn.text)) return { kind: insn.text.includes('[') ? 'slot' : 'pointer', site, text: insn.text };
  }
  return { kind: 'unknown' };
}

/** True when `address` is in a PLT section (.plt, .plt.sec, .plt.got) of a loaded object. */
export function pltChecker(process: GuestProcess): (address: bigint) => boolean {
  const ranges: { start: bigint; end: bigint }[] = [];
  for (const o of process.objects) {
    for (const s of o.elf?.sections ?? []) {
      if (s.name === '.plt' || s.name === '.plt.sec' || s.name === '.plt.got') ranges.push({ start: o.base + s.address, end: o.base + s.address + s.size });
    }
  }
  return (a) => ranges.some((r) => r.start <= a && a < r.end);
}

/**
 * OLD_FUNCTION_STILL_CALLED (dynamic): the old entry ran after the patch. `explain` words a
 * call path in the strategy's terms (a direct call inside the library, a devirtualised call...).
 */
export function checkOldStillCalled(
  plan: SlotPlan,
  observation: SlotObservation,
  process: GuestProcess,
  explain: (path: CallPath) => string,
): Finding[] {
  if (observation.oldCallCount === 0) return [];
  const isPlt = pltChecker(process);
  const evidence: Evidence[] = [];
  const reasons = new Set<string>();
  const sites = new Set<bigint>();
  for (const call of observation.oldCalls) {
    const path = callPathOf(process, call.returnAddress, plan.old.address, isPlt);
    const key = path.site ?? call.returnAddress;
    if (sites.has(key)) continue;
    sites.add(key);
    const why = explain(path);
    reasons.add(why);
    const e: Evidence = { label: `call site (instruction ${call.at})`, address: key, location: process.describe(key), text: `${path.text ?? `returns to ${hex(call.returnAddress)}`}: ${why}` };
    evidence.push(e);
  }
  return [{
    code: 'OLD_FUNCTION_STILL_CALLED',
    severity: 'error',
    message: `after the ${plan.strategy === 'got' ? 'GOT' : 'vtable'} patch the old ${plan.old.demangled} still ran ${observation.oldCallCount} time(s): ${[...reasons].join('; ')}`,
    address: plan.old.address,
    evidence,
    hint: plan.strategy === 'got'
      ? 'calls that do not go through a patched slot keep the old code: patch the function itself (--strategy prologue), or make every caller go through the GOT (default visibility, no -Bsymbolic/LTO, no copied pointers)'
      : 'calls that never read the rewritten slots keep the old code: patch the method itself (--strategy prologue) as well, or do not mark the class final / let the compiler know its dynamic type',
  }];
}

/** WRITE_OUTSIDE_PATCH_TARGET: the patcher changed watched data outside what it set out to patch. */
export function checkWritesOutside(plan: SlotPlan, writes: readonly SlotWrite[], process: GuestProcess, by: string): Finding[] {
  const outside = writes.filter((w) => !w.inTarget);
  if (outside.length === 0) return [];
  const evidence: Evidence[] = outside.slice(0, 16).map((w) => {
    const hit = describeData(process, w.address);
    return { label: 'written outside the target', address: w.address, location: hit.text, text: `${hex(w.before)} -> ${hex(w.after)}${roleOf(hit.symbol, hit.offset)}` };
  });
  for (const t of plan.targets.slice(0, 8)) evidence.push({ label: 'the patch target', address: t.start, text: `${hex(t.start)}..${hex(t.end - 1n)}: ${t.what}` });
  const first = describeData(process, outside[0]!.address);
  return [{
    code: 'WRITE_OUTSIDE_PATCH_TARGET',
    severity: 'error',
    message: `${by} wrote ${outside.length} word(s) outside what it set out to patch, first at ${first.text}${roleOf(first.symbol, first.offset)}`,
    address: outside[0]!.address,
    evidence,
    hint: plan.strategy === 'vtable'
      ? 'write only the method slots of the class\'s vtable: take the method count from the class (the _ZTV object\'s size / 8 - 2 for a primary vtable), not a hand-kept constant'
      : 'write only the 8-byte GOT slot bound to the function',
  }];
}

/** ": its offset-to-top" for the first two words of a vtable, ": its typeinfo name" for a _ZTI... */
function roleOf(symbol: string | undefined, offset: bigint | undefined): string {
  if (symbol === undefined || offset === undefined) return '';
  if (symbol.startsWith('_ZTV')) return offset === 0n ? ' (its offset-to-top)' : offset === 8n ? ' (its typeinfo pointer)' : ` (its slot ${(offset - 16n) / 8n})`;
  if (symbol.startsWith('_ZTI')) return ' (typeinfo)';
  return '';
}

/** The new module's side of a program-driven vtable swap: its methods, its tables, the converter(s) the handler looked up. */
export interface NewModule {
  methods: ReadonlySet<bigint>;
  tables: readonly { start: bigint; end: bigint }[];
  converters: ReadonlySet<bigint>;
}

/** A slot strategy's working state through the phases of one verification. */
export interface SlotRun {
  plan: SlotPlan;
  /** Program-driven: the watched data just before the signal. */
  before: Uint8Array[] | null;
  /** What the patcher changed. */
  writes: SlotWrite[];
  /** New values of the rewritten slots: where calls now go (the replacement, a hook stub). */
  replacements: Set<bigint>;
  /** Entries watched besides (vtable, program-driven: the new module's methods and converters). */
  extra: Set<bigint>;
  newModule: NewModule | null;
}

/** What makes a slot strategy a GOT patch or a vtable patch. */
export interface SlotStrategySpec {
  name: SlotStrategyName;
  /** Finds the old function and every slot holding it in the started process. */
  plan(process: GuestProcess, query: string): SlotPlan;
  /** The tool's writes: a value for each slot. */
  toolWrites(plan: SlotPlan, replacement: ReplacementAt, patch: GuestObject): { address: bigint; value: bigint }[];
  /** Whether a handler's write inside the target sends calls somewhere new. */
  redirects(plan: SlotPlan, write: SlotWrite): boolean;
  /** How a call that reached the old function after the patch got there, in the strategy's terms. */
  explain(process: GuestProcess, plan: SlotPlan, patchedSlots: ReadonlySet<bigint>): (path: CallPath) => string;
  /** Program-driven, once the handler returned: what else to watch. */
  afterHandler?(session: PatchSession, handler: HandlerRun, run: SlotRun): void;
  /** Checks of the run after the patch besides OLD_FUNCTION_STILL_CALLED and PATCH_NOT_REACHED. */
  observedChecks?(process: GuestProcess, observation: SlotObservation, run: SlotRun): Finding[];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function u64le(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

function readU64le(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

function runOf(session: PatchSession): SlotRun {
  if (!session.slots) throw new Error('a slot strategy ran without its slots (locate was not called)');
  return session.slots;
}

/**
 * The slots exist once the process's loader has mapped and relocated main's libraries. The
 * stubs model's linker does that before the first instruction; on the system model the
 * guest's own ld.so does it, so the process runs to main's entry point (_start) first.
 * (A library constructor that calls the function runs before that: it is not counted as a
 * call before the patch.)
 */
function startUp(process: GuestProcess, mainElf: ElfFile, budget: number): void {
  if (process.model !== 'system') return;
  const entry = process.executable.base + mainElf.header.entry;
  if (process.engine.readRegister('rip') === entry) return;
  const stop = process.run({ maxInstructions: budget, until: entry });
  if (stop.reason !== 'until') {
    // What ld.so said last on stderr ("error while loading shared libraries", "CPU ISA level is lower than required") explains it.
    const stderr = process.output.filter((c) => c.fd === 2).map((c) => c.text).join('').trim().split('\n').pop();
    const said = stderr ? `; its last words on stderr: "${stderr.slice(0, 300)}"` : '';
    throw new VerifyError(stop.reason === 'budget' ? 'budget' : 'no-patch-point', `the program did not get through start-up to main's entry point (${describeStop(stop)}${said}): the guest's ld.so must load and relocate the libraries before their slots can be found`);
  }
}

/** The PatchStrategy of a slot strategy: the pipeline's phases over slots instead of code bytes. */
export function slotStrategy(spec: SlotStrategySpec): PatchStrategy {
  return {
    name: spec.name,

    locate(plan, process) {
      startUp(process, plan.mainElf, plan.budget);
      const slots = spec.plan(process, plan.input.symbol);
      const owner = process.objects.find((o) => o.path === slots.old.object);
      const file = owner === undefined || owner.kind === 'executable' ? plan.input.mainName : baseName(slots.old.object);
      const run: SlotRun = { plan: slots, before: null, writes: [], replacements: new Set(), extra: new Set(), newModule: null };
      return { target: slots.old.resolved, site: slots.old.address, file, code: null, findings: slots.findings, slots: run };
    },

    prepare(session, replacement) {
      const run = runOf(session);
      const patch = session.process.objects.find((o) => o.path === PATCH_PATH);
      if (!patch) throw new Error(`${PATCH_PATH} is not loaded: the tool patcher opens it before preparing the write`);
      const planned = spec.toolWrites(run.plan, replacement, patch);
      for (const w of planned) run.replacements.add(w.value);
      return { writes: planned.map((w) => ({ address: w.address, bytes: u64le(w.value) })), overwritten: { site: session.site, length: 0 }, findings: [] };
    },

    apply(session, prepared) {
      const run = runOf(session);
      const applied = applySlotsAsTool(session.process, prepared.writes.map((w) => ({ address: w.address, value: readU64le(w.bytes) })));
      const findings = applied.refused ? checkToolWriteFault(applied.refused.result, { first: applied.refused.address, length: applied.refused.length }) : [];
      run.writes = applied.writes;
      session.result.slotWrites = run.writes.map((w) => slotSummary(session.process, run.plan, w));
      findings.push(...checkWritesOutside(run.plan, run.writes, session.process, 'the tool'));
      return { written: applied.refused === null && run.writes.length > 0, findings };
    },

    beforeHandler(session) {
      const run = runOf(session);
      run.before = readWatched(session.process, run.plan.watched);
    },

    readProgramPatch(session, handler) {
      const run = runOf(session);
      const { process } = session;
      run.writes = changedWords(process, run.plan.watched, run.before ?? [], run.plan.targets);
      const redirecting = run.writes.filter((w) => w.inTarget && spec.redirects(run.plan, w));
      for (const w of redirecting) run.replacements.add(w.after);
      if (handler.stop === null) spec.afterHandler?.(session, handler, run);
      session.result.slotWrites = run.writes.map((w) => slotSummary(process, run.plan, w));
      const fault = handler.stop?.reason === 'killed' ? handler.stop.fault : undefined;
      const firstSlot = run.plan.slots[0]!.address;
      return {
        written: run.writes.some((w) => w.inTarget),
        overwritten: { site: session.site, length: 0 },
        destination: redirecting[0]?.after ?? null,
        findings: checkWritesOutside(run.plan, run.writes, process, "main's handler"),
        writeRange: { site: fault ? fault.address & ~7n : firstSlot, length: 8 },
      };
    },

    destinationFindings() {
      return [];
    },

    observe(session, outcome) {
      const run = runOf(session);
      const { process, point, plan } = session;
      // Hook stubs: new slot values in code no loaded object owns (generated by the handler).
      const stubs = [...run.replacements].filter((a) => !process.objects.some((o) => o.contains(a)));
      const observation = observeSlots(process, {
        olds: [run.plan.old.address, ...run.plan.slots.filter((s) => s.thunk).map((s) => s.old)],
        replacements: [...run.replacements],
        extra: [...run.extra],
        stubs,
        converters: [...(run.newModule?.converters ?? [])],
        budget: plan.budget,
      });
      const patched = run.writes.some((w) => w.inTarget);
      const findings: Finding[] = [];
      if (patched) findings.push(...checkOldStillCalled(run.plan, observation, process, spec.explain(process, run.plan, new Set(run.writes.map((w) => w.address)))));
      findings.push(...(spec.observedChecks?.(process, observation, run) ?? []));
      if (calledAgain(observation.stop, observation.oldCallCount, observation.replacementRuns)) {
        findings.push(...checkReached({
          targetName: run.plan.old.demangled,
          replacementName: outcome.replacementName ?? (patched ? 'the new slot targets' : null),
          targetCallsBefore: point.targetCallsBefore,
          targetCallsAfter: observation.oldCallCount,
          replacementRuns: observation.replacementRuns,
          instructionsAfter: process.instructions - point.instruction,
          writesElsewhere: [],
          nothingWritten: !patched,
        }));
      }
      return { stop: observation.stop, targetCalls: observation.oldCallCount, replacementRuns: observation.replacementRuns, findings };
    },
  };
}

/** A slot write for the report: where, what it held and now holds, each symbolised. */
export function slotSummary(process: GuestProcess, plan: SlotPlan, w: SlotWrite): SlotWriteSummary {
  const slot = plan.slots.find((s) => s.address === w.address);
  const data = describeData(process, w.address).text;
  return {
    address: w.address,
    location: slot && plan.strategy === 'got' ? `${slot.what}: ${data}` : data,
    before: w.before,
    beforeTarget: describeCode(process, w.before),
    after: w.after,
    afterTarget: describeCode(process, w.after),
    inTarget: w.inTarget,
  };
}

/** Symbol+offset in a loaded object, else the mapping (a hook stub in an anonymous page), else "not code". */
function describeCode(process: GuestProcess, address: bigint): string {
  if (process.objects.some((o) => o.contains(address))) return process.describe(address);
  const mapping = process.regions().find((m) => m.begin <= address && address < m.end);
  if (mapping) return `${mapping.name}+${hex(address - mapping.begin)}${mapping.perms & 4 ? ', code generated at run time' : ''}`;
  return address === 0n ? 'null' : 'unmapped';
}
