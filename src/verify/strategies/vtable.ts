// --strategy vtable: seed 003's component swap. <sym> is a virtual method; every call on an
// object through its class's virtual table reads a slot, so rewriting the slots that hold
// the method redirects those calls. The tool rewrites every such slot in every loaded object:
// the class's own table, derived classes' tables that inherit the method, secondary tables
// of multiple inheritance (a slot holding a this-adjusting thunk to the method gets the
// replacement's matching thunk), mprotect'ing the RELRO pages (.data.rel.ro) as needed.
// Program-driven, main's handler does it (typically dynahook: slots pointed at generated hook
// stubs that convert the object first, then jump to the new module's method).
//
// Table bounds come from the symbol table: each `_ZTV*` object and its size. Inside one, the
// words before each address point (offset-to-top, typeinfo) are not method slots; writing
// them, or past the object, is WRITE_OUTSIDE_PATCH_TARGET. Calls that never read the table
// (a final class's or a known type's devirtualised direct call) keep the old method.
//
// The phases (slots.ts runs them for both slot strategies): locate = planVtable over every
// loaded object's tables in the live image; the tool writes vtableWrites; after a handler,
// the new module's methods and the converters it looked up are watched, for
// OBJECT_NOT_CONVERTED and the hook stubs' calling convention (checkHookTransfers).

import { CodeMap } from '../../analysis/index.js';
import { codeImageFromElf } from '../../analysis/from-elf.js';
import { SymbolType, type ElfFile, type ElfSymbol } from '../../elf/index.js';
import type { GuestObject, GuestProcess } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { VerifyError } from '../error.js';
import type { Evidence, Finding } from '../finding.js';
import { findFunction, type ResolvedFunction } from '../symbols.js';
import { PATCH_PATH } from '../dynamic/launch.js';
import {
  describeData, relroRanges, slotStrategy, TRANSFER_REGISTERS, type ByteRange, type CallPath, type HookTransfer, type NewModule, type PointerSlot, type SlotObservation, type SlotPlan,
} from './slots.js';

/** A `_ZTV*` object at run time: its words after relocation. */
export interface VtableObject {
  object: GuestObject;
  symbol: ElfSymbol;
  demangled: string;
  start: bigint;
  end: bigint;
  words: bigint[];
}

function vtableSymbols(elf: ElfFile): ElfSymbol[] {
  const seen = new Set<bigint>();
  const out: ElfSymbol[] = [];
  for (const s of [...elf.symbols, ...elf.dynamicSymbols]) {
    if (!s.name.startsWith('_ZTV') || s.sectionIndex === 0 || s.size === 0n || s.type !== SymbolType.Object || seen.has(s.value)) continue;
    seen.add(s.value);
    out.push(s);
  }
  return out;
}

/** Every vtable object of the given loaded objects, read from memory (so after relocation). */
export function vtablesOf(process: GuestProcess, objects: readonly GuestObject[]): VtableObject[] {
  const out: VtableObject[] = [];
  for (const object of objects) {
    if (!object.elf) continue;
    for (const symbol of vtableSymbols(object.elf)) {
      const start = object.base + symbol.value;
      const count = Number(symbol.size / 8n);
      const words: bigint[] = [];
      try {
        for (let i = 0; i < count; i++) words.push(process.mem.u64(start + BigInt(i) * 8n));
      } catch {
        continue;
      }
      out.push({ object, symbol, demangled: object.elf.demangledName(symbol), start, end: start + symbol.size, words });
    }
  }
  return out;
}

/** Run-time addresses of every typeinfo object (_ZTI*) of the loaded objects. */
function typeinfoAddresses(process: GuestProcess): Set<bigint> {
  const out = new Set<bigint>();
  for (const o of process.objects) {
    for (const s of [...(o.elf?.symbols ?? []), ...(o.elf?.dynamicSymbols ?? [])]) {
      if (s.name.startsWith('_ZTI') && s.sectionIndex !== 0) out.add(o.base + s.value);
    }
  }
  // Imported typeinfo (e.g. __cxxabiv1 classes) is bound through relocations: its value is what the words hold.
  return out;
}

/** The method-slot words of a vtable object: everything but each address point's offset-to-top and typeinfo words. */
export function methodSlotRanges(vt: VtableObject, typeinfos: ReadonlySet<bigint>): ByteRange[] {
  const header = new Set<number>([0, 1]);
  vt.words.forEach((w, i) => {
    if (i >= 1 && typeinfos.has(w)) {
      header.add(i);
      header.add(i - 1);
    }
  });
  const ranges: ByteRange[] = [];
  for (let i = 0; i < vt.words.length; i++) {
    if (header.has(i)) continue;
    const start = vt.start + BigInt(i) * 8n;
    const last = ranges[ranges.length - 1];
    if (last && last.end === start) last.end = start + 8n;
    else ranges.push({ start, end: start + 8n, what: `method slots of ${vt.demangled} in ${vt.object.path}` });
  }
  return ranges;
}

function findMethod(process: GuestProcess, query: string): { object: GuestObject; fn: ResolvedFunction } {
  for (const object of process.objects) {
    if (!object.elf || object.kind === 'libc-image') continue;
    const fn = findFunction(object.elf, query, object.path);
    if (fn) return { object, fn };
  }
  throw new VerifyError('symbol-not-found', `virtual method '${query}' not found in main or the libraries it needs (give it as 'Class::method()' or mangled, e.g. _ZN5Shape4areaEv)`);
}

/** A this-adjusting thunk to the method: `_ZThn8_N4Imp15helloEv` for `_ZN4Imp15helloEv`. */
function thunkPrefix(name: string, method: string): string | null {
  if (!method.startsWith('_Z') || !(name.startsWith('_ZTh') || name.startsWith('_ZTv'))) return null;
  const rest = method.slice(2);
  return name.endsWith(rest) && name.length > rest.length ? name.slice(0, name.length - rest.length) : null;
}

/** Plans a vtable patch in a started process (main and its libraries relocated, the patch not loaded yet). */
export function planVtable(process: GuestProcess, query: string): SlotPlan {
  const { object: owner, fn } = findMethod(process, query);
  const oldAddress = owner.base + fn.address;
  const typeinfos = typeinfoAddresses(process);
  const tables = vtablesOf(process, process.objects);
  const slots: PointerSlot[] = [];
  const targets: ByteRange[] = [];
  for (const vt of tables) {
    let holds = false;
    vt.words.forEach((w, i) => {
      const address = vt.start + BigInt(i) * 8n;
      if (w === oldAddress) {
        slots.push({ address, object: vt.object.path, what: `${vt.demangled} [word ${i}]`, old: w });
        holds = true;
        return;
      }
      const target = process.objects.find((o) => o.contains(w));
      const sym = target?.elf?.functionContaining(w - target.base);
      const prefix = sym && target!.base + sym.value === w ? thunkPrefix(sym.name, fn.name) : null;
      if (prefix !== null) {
        slots.push({ address, object: vt.object.path, what: `${vt.demangled} [word ${i}], thunk ${sym!.name}`, old: w, thunk: { name: sym!.name, prefix } });
        holds = true;
      }
    });
    if (holds) targets.push(...methodSlotRanges(vt, typeinfos));
  }
  if (slots.length === 0) {
    throw new VerifyError('symbol-not-found', `no vtable of main or its libraries holds ${fn.demangled} (is it virtual? a class without a key function may have its vtable only where it is constructed)`);
  }
  const plan: SlotPlan = {
    strategy: 'vtable',
    old: { name: fn.name, demangled: fn.demangled, address: oldAddress, size: fn.size, object: owner.path, resolved: fn },
    slots,
    targets,
    watched: [...relroRanges(process), ...tables.map((vt) => ({ start: vt.start, end: vt.end, what: vt.demangled }))],
    findings: [],
  };
  plan.findings.push(...tableBypasses(process, fn, oldAddress));
  return plan;
}

/**
 * Static view (info): direct calls to the method (devirtualised: a final class, a known
 * dynamic type) never read a table; an address comparison is speculative devirtualisation,
 * which reads the slot first and so follows a rewritten one.
 */
function tableBypasses(process: GuestProcess, fn: ResolvedFunction, oldAddress: bigint): Finding[] {
  const direct: Evidence[] = [];
  const compared: Evidence[] = [];
  // Only the object that defines the method can call it directly (a call from elsewhere goes through a PLT).
  for (const o of process.objects) {
    if (!o.elf || o.kind === 'libc-image' || !o.contains(oldAddress)) continue;
    const link = oldAddress - o.base;
    let map: CodeMap;
    try {
      map = CodeMap.build(codeImageFromElf(o.elf));
    } catch {
      continue;
    }
    if (o.contains(oldAddress)) {
      for (const e of map.branchesInto(link, link + 1n)) {
        if (e.kind !== 'call' && e.kind !== 'jmp') continue;
        direct.push({ label: `direct ${e.kind}`, address: o.base + e.source, location: process.describe(o.base + e.source), text: `devirtualised: never reads a vtable` });
      }
      for (const r of map.ripRelativeOperands()) {
        if (r.target !== link) continue;
        compared.push({ label: 'address of the method loaded', address: o.base + r.address, location: process.describe(o.base + r.address), text: 'speculative devirtualisation compares the slot with it: a rewritten slot fails the comparison and is called' });
      }
    }
  }
  const out: Finding[] = [];
  if (direct.length > 0) {
    out.push({
      code: 'OLD_FUNCTION_STILL_CALLED',
      severity: 'info',
      message: `${direct.length} direct call(s) of ${fn.demangled} never read a vtable (devirtualised): whoever runs them after a vtable patch gets the old method`,
      address: oldAddress,
      evidence: direct.slice(0, 8),
    });
  }
  if (compared.length > 0) {
    out.push({
      code: 'OLD_FUNCTION_STILL_CALLED',
      severity: 'info',
      message: `${compared.length} site(s) load ${fn.demangled}'s address (speculative devirtualisation or a method pointer): a comparison with the slot follows a rewritten slot; a stored pointer does not`,
      address: oldAddress,
      evidence: compared.slice(0, 8),
    });
  }
  return out;
}

/** The tool's writes: the replacement in plain slots, the replacement's matching thunk in thunk slots. */
export function vtableWrites(plan: SlotPlan, replacement: bigint, replacementName: string, patch: GuestObject): { address: bigint; value: bigint }[] {
  return plan.slots.map((s) => {
    if (!s.thunk) return { address: s.address, value: replacement };
    const wanted = s.thunk.prefix + replacementName.slice(2);
    const thunk = patch.elf?.symbols.find((x) => x.name === wanted && x.sectionIndex !== 0) ?? patch.elf?.dynamicSymbols.find((x) => x.name === wanted && x.sectionIndex !== 0);
    if (!thunk) {
      throw new VerifyError('unsupported', `the slot at ${hex(s.address)} (${s.what}) holds a this-adjusting thunk; ${patch.path} has no matching thunk ${wanted} for the replacement: derive the replacement's class from the same bases so the compiler emits it`);
    }
    return { address: s.address, value: patch.base + thunk.value };
  });
}

/** How a call that reached the old method after a vtable patch got there. */
export function explainVtableCall(process: GuestProcess, plan: SlotPlan) {
  return (path: CallPath): string => {
    const where = path.site !== undefined ? process.describe(path.site) : 'an unknown caller';
    switch (path.kind) {
      case 'direct':
        return `a devirtualised direct call at ${where} (a final class or a known dynamic type): it never reads the vtable`;
      case 'plt':
        return `a non-virtual call by name through the PLT at ${where}`;
      case 'slot': {
        if (path.slot === undefined) return `through a vtable slot that was not rewritten (${path.text ?? ''})`;
        const inTable = plan.watched.some((r) => r.start <= path.slot! && path.slot! < r.end);
        return inTable ? `through ${describeData(process, path.slot).text}, which still holds the old method` : `through a method pointer stored at ${hex(path.slot)}, taken before the patch`;
      }
      case 'pointer':
        return `through a slot or method pointer read before the patch (${path.text ?? 'indirect call'}): a vtable slot the patcher did not rewrite, or a copy`;
      case 'unknown':
        return 'reached without a recognisable call (a tail jump or a computed branch)';
    }
  };
}

/** The new module's virtual methods: every function its vtables point at. */
export function newModuleMethods(process: GuestProcess, patch: GuestObject): { methods: Set<bigint>; tables: VtableObject[] } {
  const tables = vtablesOf(process, [patch]);
  const methods = new Set<bigint>();
  for (const vt of tables) for (const w of vt.words) if (patch.contains(w) && patch.elf?.functionContaining(w - patch.base)) methods.add(w);
  return { methods, tables };
}

/**
 * OBJECT_NOT_CONVERTED: a new-module method ran on an object whose vtable pointer is not one
 * of the new module's tables (the converter never ran on it), or a converter ran twice on one
 * object.
 */
export function checkObjectsConverted(
  process: GuestProcess,
  observation: SlotObservation,
  newModule: NewModule,
): Finding[] {
  const converted = new Map<bigint, number>();
  const problems: Evidence[] = [];
  let first: string | null = null;
  for (const e of observation.entries) {
    if (newModule.converters.has(e.address)) {
      const before = converted.get(e.rdi);
      if (before !== undefined) {
        problems.push({ label: `converter ran twice on object ${hex(e.rdi)}`, address: e.address, location: process.describe(e.address), text: `at instructions ${before} and ${e.at}` });
        first ??= `the converter ran twice on object ${hex(e.rdi)}`;
      } else converted.set(e.rdi, e.at);
      continue;
    }
    if (!newModule.methods.has(e.address)) continue;
    const newTable = e.vptr !== null && newModule.tables.some((t) => t.start <= e.vptr! && e.vptr! < t.end);
    if (newTable) continue;
    problems.push({
      label: `new method on an unconverted object`,
      address: e.address,
      location: process.describe(e.address),
      text: `this = ${hex(e.rdi)}, its vtable pointer ${e.vptr === null ? 'unreadable' : describeData(process, e.vptr).text} (instruction ${e.at})`,
    });
    first ??= `${process.describe(e.address)} ran on object ${hex(e.rdi)}, which still has ${e.vptr === null ? 'no readable vtable pointer' : `the vtable pointer ${describeData(process, e.vptr).text}`}`;
  }
  if (problems.length === 0) return [];
  return [{
    code: 'OBJECT_NOT_CONVERTED',
    severity: 'error',
    message: `an object reached the new module unconverted or was converted twice: ${first}`,
    evidence: problems.slice(0, 12),
    hint: 'every hooked slot must convert before it dispatches, exactly once per object: let the hook check the object\'s vtable pointer and convert only old-version objects',
  }];
}

/**
 * STACK_IMBALANCE / REGISTER_CLOBBERED for hook stubs: a stub (generated code a rewritten
 * slot points at) must reach the new method as the caller's call reached the stub: the same
 * rsp (it jumps, it does not call), `this` and the other argument registers, the callee-saved
 * ones. The converter it calls in between may use them; the stub must restore them.
 */
export function checkHookTransfers(process: GuestProcess, transfers: readonly HookTransfer[]): Finding[] {
  const findings: Finding[] = [];
  const stack = transfers.find((t) => t.atMethod.rsp !== t.atStub.rsp);
  if (stack) {
    const delta = stack.atMethod.rsp - stack.atStub.rsp;
    findings.push({
      code: 'STACK_IMBALANCE',
      severity: 'error',
      message: `the hook stub at ${hex(stack.stub)} reaches ${process.describe(stack.method)} with rsp ${delta < 0n ? '-' : '+'}${hex(delta < 0n ? -delta : delta)} from where the caller's call left it: the method returns to the wrong place`,
      address: stack.stub,
      evidence: [
        { label: 'rsp at the stub (the virtual call arrived)', address: stack.stub, text: hex(stack.atStub.rsp) },
        { label: 'rsp at the method the stub jumped to', address: stack.method, location: process.describe(stack.method), text: hex(stack.atMethod.rsp) },
      ],
      hint: 'the stub must undo every push before it jumps to the method (jmp, not call)',
    });
  }
  const clobbered = transfers.flatMap((t) => TRANSFER_REGISTERS.filter((r) => r !== 'rsp' && t.atMethod[r] !== t.atStub[r]).map((r) => ({ t, r })));
  if (clobbered.length > 0) {
    const names = [...new Set(clobbered.map((c) => c.r))];
    const first = clobbered[0]!;
    findings.push({
      code: 'REGISTER_CLOBBERED',
      severity: 'error',
      message: `the hook stub at ${hex(first.t.stub)} changes ${names.join(', ')} on the way to ${process.describe(first.t.method)}${names.includes('rdi') ? ': the method runs on the wrong `this`' : ''}`,
      address: first.t.stub,
      evidence: clobbered.slice(0, 8).map(({ t, r }) => ({ label: r, address: t.method, location: process.describe(t.method), text: `${hex(t.atStub[r])} at the stub, ${hex(t.atMethod[r])} at the method` })),
      hint: 'save rdi, rsi, rdx, rcx, r8, r9 before calling the converter and restore them before the jump; keep rbx, rbp, r12-r15',
    });
  }
  return findings;
}

export const vtableStrategy = slotStrategy({
  name: 'vtable',
  plan: planVtable,
  toolWrites: (plan, replacement, patch) => vtableWrites(plan, replacement.address, patch.elf?.functionContaining(replacement.address - patch.base)?.name ?? plan.old.name, patch),
  // A hook may rewrite every method slot of a hooked table (dynahook does): each one sends calls somewhere new.
  redirects: () => true,
  explain: (process, plan) => explainVtableCall(process, plan),
  afterHandler(session, handler, run) {
    const { process } = session;
    const patchObject = process.objects.find((o) => o.path === PATCH_PATH || o.path === `./${baseName(session.plan.input.patchName)}`);
    if (!patchObject) return;
    const { methods, tables } = newModuleMethods(process, patchObject);
    // What the handler looked up in the patch that is not a method: the converter(s).
    const converters = new Set(handler.dlsyms.filter((d) => d.error === undefined && patchObject.contains(d.address) && !methods.has(d.address)).map((d) => d.address));
    run.newModule = { methods, tables, converters };
    for (const a of [...methods, ...converters]) run.extra.add(a);
  },
  observedChecks(process, observation, run) {
    return [...(run.newModule ? checkObjectsConverted(process, observation, run.newModule) : []), ...checkHookTransfers(process, observation.hookTransfers)];
  },
});

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
