// --strategy got: seed 001's "modify the GOT" method. <sym> is a function defined in a shared
// library main needs; callers outside it reach it through their GOT slot (R_X86_64_JUMP_SLOT
// for PLT calls, R_X86_64_GLOB_DAT for address loads and -fno-plt calls), which ld.so filled
// at start-up. The patch stores the replacement's address in those slots, in every loaded
// object that imports the function, as a careful patcher does (mprotect'ing the RELRO page:
// with -z relro -z now the GOT is read-only after start-up).
//
// What it cannot reach, and this file explains when the old function still runs: calls
// inside the defining library (hidden/protected visibility, -Bsymbolic, LTO, a static alias:
// direct calls), a function pointer taken before the patch, an object with its own slot the
// patcher missed, a library dlopen'ed later (it binds the old definition).
//
// The phases (slots.ts runs them for both slot strategies): locate = planGot, in the live
// image after the guest's ld.so relocated it (stubs model: our linker; system model: the
// real ld.so); the tool dlopens patch.so in the guest and writes every slot (gotWrites);
// program-driven, main's handler writes what it writes and the RELRO diff shows it; then the
// old entry is watched and each call that still reaches it is explained (explainGotCall).

import { CodeMap } from '../../analysis/index.js';
import { codeImageFromElf } from '../../analysis/from-elf.js';
import { RelocationType } from '../../elf/index.js';
import type { GuestObject, GuestProcess } from '../../loader/index.js';
import { hex } from '../../hex.js';
import { VerifyError } from '../error.js';
import type { Evidence, Finding } from '../finding.js';
import { findFunction, type ResolvedFunction } from '../symbols.js';
import { relroRanges, slotStrategy, type CallPath, type PointerSlot, type SlotPlan } from './slots.js';

const GOT_RELOCATIONS = new Set<number>([RelocationType.R_X86_64_JUMP_SLOT, RelocationType.R_X86_64_GLOB_DAT]);

/** The library that defines `query` as ld.so would bind main's reference: the first in the global scope. */
function definingLibrary(process: GuestProcess, query: string): { object: GuestObject; fn: ResolvedFunction } {
  for (const object of process.objects) {
    if (object.kind !== 'library' || !object.elf) continue;
    const fn = findFunction(object.elf, query, object.path);
    if (fn && fn.exported) return { object, fn };
  }
  const exe = process.executable;
  if (exe.elf && findFunction(exe.elf, query, exe.path)) {
    throw new VerifyError('symbol-not-found', `'${query}' is defined in the executable itself, not in a shared library: calls to it do not go through a GOT slot; use --strategy prologue`);
  }
  const libraries = process.objects.filter((o) => o.kind === 'library').map((o) => o.path);
  throw new VerifyError('symbol-not-found', `no shared library main needs exports '${query}'${libraries.length > 0 ? ` (loaded: ${libraries.join(', ')})` : ' (main needs no library besides the system ones)'}: the GOT strategy patches calls into a library`);
}

/** Plans a GOT patch in a process that has started (main and its needed libraries mapped and relocated). */
export function planGot(process: GuestProcess, query: string): SlotPlan {
  const { object: library, fn } = definingLibrary(process, query);
  const oldAddress = library.base + fn.address;
  const slots = gotSlots(process, fn.name, oldAddress);
  if (slots.length === 0) {
    throw new VerifyError('symbol-not-found', `no loaded object reaches ${fn.demangled} through a GOT slot (no R_X86_64_JUMP_SLOT or R_X86_64_GLOB_DAT bound to it): there is nothing for the GOT strategy to patch`);
  }
  const plan: SlotPlan = {
    strategy: 'got',
    old: { name: fn.name, demangled: fn.demangled, address: oldAddress, size: fn.size, object: library.path, resolved: fn },
    slots,
    targets: slots.map((s) => ({ start: s.address, end: s.address + 8n, what: `GOT slot for ${fn.demangled} (${s.what})` })),
    // RELRO holds the GOT with -z relro -z now; a lazily bound slot is in .got.plt, outside it.
    watched: [...relroRanges(process), ...slots.map((s) => ({ start: s.address, end: s.address + 8n, what: `GOT slot for ${fn.demangled}` }))],
    findings: [],
  };
  plan.findings.push(...bypassingReferences(process, library, fn, oldAddress));
  return plan;
}

/**
 * Every GOT slot of every loaded object bound to the function: its JUMP_SLOT and GLOB_DAT
 * relocations naming the symbol, read where the object is loaded (what ld.so stored there).
 * A lazily bound JUMP_SLOT still holding its own PLT stub is a slot too: the first call
 * would bind it to the old function.
 */
function gotSlots(process: GuestProcess, name: string, oldAddress: bigint): PointerSlot[] {
  const slots: PointerSlot[] = [];
  for (const object of process.objects) {
    for (const r of object.elf?.relocations ?? []) {
      if (r.symbol?.name !== name || !GOT_RELOCATIONS.has(r.type)) continue;
      const address = object.base + r.offset;
      let value: bigint;
      try {
        value = process.mem.u64(address);
      } catch {
        continue;
      }
      const lazy = r.type === RelocationType.R_X86_64_JUMP_SLOT && inPlt(object, value);
      if (value !== oldAddress && !lazy) continue;
      slots.push({ address, object: object.path, what: `${r.typeName} of ${object.path}${lazy ? ' (lazy binding: bound at the first call)' : ''}`, old: value });
    }
  }
  return slots;
}

/** The address is in the object's own PLT (where an unbound lazy JUMP_SLOT points: its stub's push). */
function inPlt(object: GuestObject, address: bigint): boolean {
  return (object.elf?.sections ?? []).some((s) => (s.name === '.plt' || s.name === '.plt.sec') && s.address !== 0n && object.base + s.address <= address && address < object.base + s.address + s.size);
}

/**
 * Static view of OLD_FUNCTION_STILL_CALLED (info): direct calls and jumps to the function
 * inside its own library, and address loads there, never go through any GOT slot.
 */
function bypassingReferences(process: GuestProcess, library: GuestObject, fn: ResolvedFunction, oldAddress: bigint): Finding[] {
  const elf = library.elf!;
  const map = CodeMap.build(codeImageFromElf(elf));
  const direct = map.branchesInto(fn.address, fn.address + 1n).filter((e) => e.kind === 'call' || e.kind === 'jmp' || e.kind === 'jcc');
  const taken = map.ripRelativeOperands().filter((r) => r.target === fn.address);
  if (direct.length === 0 && taken.length === 0) return [];
  const evidence: Evidence[] = [
    ...direct.slice(0, 8).map((e) => ({ label: `direct ${e.kind} in ${library.path}`, address: library.base + e.source, location: process.describe(library.base + e.source), text: `to ${fn.demangled} at ${hex(oldAddress)}: no GOT slot involved` })),
    ...taken.slice(0, 8).map((r) => ({ label: `address taken in ${library.path}`, address: library.base + r.address, location: process.describe(library.base + r.address), text: 'a pointer made here keeps the old address' })),
  ];
  return [{
    code: 'OLD_FUNCTION_STILL_CALLED',
    severity: 'info',
    message: `${library.path} reaches ${fn.demangled} without its GOT (${direct.length} direct branch(es), ${taken.length} address load(s)): whoever runs those paths after a GOT patch gets the old code`,
    address: oldAddress,
    evidence,
  }];
}

/** The replacement's address in every slot. */
export function gotWrites(plan: SlotPlan, replacement: bigint): { address: bigint; value: bigint }[] {
  return plan.slots.map((s) => ({ address: s.address, value: replacement }));
}

/** How a call that reached the old function after a GOT patch got there, in GOT terms. */
export function explainGotCall(plan: SlotPlan, patchedSlots: ReadonlySet<bigint>, owner: (address: bigint) => string) {
  return (path: CallPath): string => {
    const where = path.site !== undefined ? owner(path.site) : 'an unknown caller';
    switch (path.kind) {
      case 'direct':
        return where === plan.old.object
          ? `a direct call inside ${plan.old.object} (hidden/protected visibility, -Bsymbolic, LTO or an alias): it never reads a GOT slot`
          : `a direct call from ${where}: it never reads a GOT slot`;
      case 'plt':
        return `through the PLT of ${where}, whose GOT slot was not patched (an object the patcher missed, or one loaded after the patch)`;
      case 'slot':
        if (path.slot !== undefined && patchedSlots.has(path.slot)) return `through a slot that was patched and later written back`;
        return path.slot !== undefined && plan.watched.some((r) => r.start <= path.slot! && path.slot! < r.end)
          ? `through a GOT-like slot at ${hex(path.slot)} in ${where} that holds the old address (not among the patched slots)`
          : `through a function pointer stored in memory${path.slot !== undefined ? ` at ${hex(path.slot)}` : ''}, copied before the patch`;
      case 'pointer':
        return 'through a function pointer copied before the patch (a callback table, a saved handler)';
      case 'unknown':
        return 'reached without a recognisable call (a tail jump or a computed branch)';
    }
  };
}

export const gotStrategy = slotStrategy({
  name: 'got',
  plan: planGot,
  toolWrites: (plan, replacement) => gotWrites(plan, replacement.address),
  redirects: (plan, write) => plan.slots.some((s) => s.address === write.address),
  explain: (process, plan, patchedSlots) => explainGotCall(plan, patchedSlots, (a) => process.objects.find((o) => o.contains(a))?.path ?? hex(a)),
});
