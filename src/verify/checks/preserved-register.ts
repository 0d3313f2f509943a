// CALLER_ASSUMES_PRESERVED_REGISTER: gcc -fipa-ra lets a caller keep a value in a caller-saved
// register across a call when it knows the callee (in the same unit) never touches that
// register. A replacement built separately knows nothing of that promise. For every call site
// (and tail call) of the target in main, the registers live after the call (a liveness analysis
// over the caller's CFG) that the old function leaves intact are the ones callers may rely on;
// if the replacement writes one, or calls anything (any callee may clobber them under the ABI),
// the caller reads a changed value. Evidence: the register, the call site, the later read,
// what in the replacement clobbers it, and, when the run saw it, the values before and after.

import { CALLER_SAVED, CallerSavedLiveness, type CodeFunction, type CodeMap } from '../../analysis/index.js';
import { disassemble } from '../../asm/disasm.js';
import { registerEffects } from '../../asm/registers.js';
import { hex } from '../../hex.js';
import type { StaticContext } from '../context.js';
import { codeEvidence } from '../context.js';
import type { CallThroughTrampoline } from '../dynamic/observe.js';
import type { Evidence, Finding } from '../finding.js';

/** What the replacement's own code does to caller-saved registers, decoded from its bytes. */
export interface ReplacementEffects {
  name: string;
  /** First instruction writing each caller-saved register. */
  writes: Map<string, { address: bigint; text: string }>;
  /** First call (or tail jump out of it), if any: after it every caller-saved register may have changed. */
  call: { address: bigint; text: string; target?: bigint } | null;
}

const CALLER_SAVED_SET = new Set<string>(CALLER_SAVED);

export function replacementEffects(name: string, address: bigint, code: Uint8Array): ReplacementEffects {
  const writes = new Map<string, { address: bigint; text: string }>();
  let call: ReplacementEffects['call'] = null;
  const end = address + BigInt(code.length);
  const listed = disassemble(code, address);
  const effects = new Map(registerEffects(code, address).map((e) => [e.address, e]));
  for (const insn of listed) {
    if (insn.invalid) continue;
    const effect = effects.get(insn.address);
    for (const r of effect?.writes ?? []) if (CALLER_SAVED_SET.has(r) && !writes.has(r)) writes.set(r, { address: insn.address, text: insn.text });
    const leaves = insn.flowControl === 'branch' && insn.branchTarget !== undefined && (insn.branchTarget < address || insn.branchTarget >= end);
    if (!call && (insn.flowControl === 'call' || insn.flowControl === 'indirect-call' || leaves)) {
      call = { address: insn.address, text: insn.text, ...(insn.branchTarget !== undefined ? { target: insn.branchTarget } : {}) };
    }
  }
  return { name, writes, call };
}

interface CallSite {
  /** Link-time address of the call (or tail jmp) and its length. */
  source: bigint;
  length: number;
  caller: CodeFunction;
  /** For a tail call: the call of the tail-calling function whose return the target's return becomes. */
  via?: bigint;
}

function callSitesOf(codeMap: CodeMap, target: bigint): CallSite[] {
  const sites: CallSite[] = [];
  const edges = codeMap.directBranches();
  for (const e of edges) {
    if (e.target !== target) continue;
    const caller = codeMap.functionContaining(e.source);
    if (!caller || caller.address === target) continue;
    if (e.kind === 'call') sites.push({ source: e.source, length: e.sourceLength, caller });
    else if (e.kind === 'jmp' || e.kind === 'jcc') {
      // A tail call: the target returns to whoever called the tail-calling function.
      for (const outer of edges) {
        if (outer.kind !== 'call' || outer.target !== caller.address) continue;
        const outerCaller = codeMap.functionContaining(outer.source);
        if (outerCaller) sites.push({ source: outer.source, length: outer.sourceLength, caller: outerCaller, via: e.source });
      }
    }
  }
  return sites;
}

export function checkCallerAssumptions(
  ctx: StaticContext,
  replacement: ReplacementEffects,
  calls: readonly CallThroughTrampoline[],
  describe: (address: bigint) => string = hex,
): Finding[] {
  const { codeMap } = ctx;
  const targetFn = codeMap.functionContaining(ctx.target.address);
  if (!targetFn || targetFn.address !== ctx.target.address) return [];
  const liveness = new CallerSavedLiveness(codeMap);
  // What the old function itself may change: callers cannot have relied on those.
  const oldClobbers = new Set(liveness.clobbers(targetFn));
  const findings: Finding[] = [];
  const reported = new Set<string>();
  for (const site of callSitesOf(codeMap, targetFn.address)) {
    if (reported.has(`${site.source}`)) continue;
    reported.add(`${site.source}`);
    const after = site.source + BigInt(site.length);
    const relied = liveness.liveAt(site.caller, after).filter((r) => !oldClobbers.has(r) && (replacement.writes.has(r) || replacement.call !== null));
    if (relied.length === 0) continue;
    const evidence: Evidence[] = [
      codeEvidence(ctx, site.via !== undefined ? 'call site (its callee tail-calls the target)' : 'call site', site.source, codeMap.describe(site.source)),
    ];
    if (site.via !== undefined) evidence.push(codeEvidence(ctx, 'tail call of the target', site.via, codeMap.describe(site.via)));
    const runtimeReturn = after + ctx.loadBias;
    const seen = calls.find((c) => c.returnAddress === runtimeReturn && c.afterReturn);
    for (const register of relied) {
      const read = liveness.firstRead(site.caller, after, register);
      if (read) evidence.push(codeEvidence(ctx, `later read of ${register} (no write in between on some path)`, read.address, codeMap.describe(read.address)));
      const own = replacement.writes.get(register);
      const clobber = own ?? replacement.call!;
      evidence.push({ label: `${replacement.name} ${own ? `writes ${register}` : `calls a function (may clobber ${register})`}`, address: clobber.address, location: describe(clobber.address), text: clobber.text });
      if (seen?.afterReturn && register in seen.afterReturn) {
        const r = register as keyof typeof seen.atOldEntry;
        const changed = seen.afterReturn[r] !== seen.atOldEntry[r];
        evidence.push({ label: `${register} in the run`, text: `${hex(seen.atOldEntry[r])} at the call, ${hex(seen.afterReturn[r])} after ${replacement.name} returned${changed ? ': the caller reads a changed value' : ' (unchanged this time)'}` });
      }
    }
    const writes = relied.filter((r) => replacement.writes.has(r));
    const how = [
      ...(writes.length > 0 ? [`writes ${writes.join(', ')}`] : []),
      ...(replacement.call ? [`calls a function (${replacement.call.text}), which may clobber any of them under the ABI`] : []),
    ].join(' and ');
    findings.push({
      code: 'CALLER_ASSUMES_PRESERVED_REGISTER',
      severity: 'error',
      address: site.source + ctx.loadBias,
      message: `${site.caller.name} keeps ${relied.join(', ')} live across its call of ${ctx.target.demangled}, which never touches ${relied.length > 1 ? 'them' : 'it'} (gcc -fipa-ra relies on that), but ${replacement.name} ${how}: after the patch ${site.caller.name} reads clobbered values`,
      evidence,
      hint: `build main with -fno-ipa-ra (or -flive-patching=inline-clone, as kpatch and Linux livepatch do) so callers assume only the ABI, or make ${replacement.name} preserve ${relied.join(', ')}`,
    });
  }
  return findings;
}
