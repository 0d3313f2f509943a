// Register liveness over a function's control-flow graph, for the caller-saved registers a
// caller may keep across a call when gcc (-fipa-ra) knows the callee leaves them alone.
// Backward dataflow: live_in(i) = reads(i) | (live_out(i) & ~defines(i)). A call defines
// (clobbers) every caller-saved register and reads what its callee reads on entry (for a
// function of this image: its own live-in argument registers; for an import or an indirect
// call: nothing we can know, so nothing, to stay quiet rather than guess).

import { registerEffects } from '../asm/registers.js';
import type { CodeFunction, CodeMap, InstructionSite } from './code-map.js';

export const CALLER_SAVED = [
  'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11',
  ...Array.from({ length: 16 }, (_, i) => `xmm${i}`),
] as const;
/** What a callee may read on entry: integer and vector argument registers, al for variadic calls. */
const ARGUMENTS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9', 'rax', ...Array.from({ length: 8 }, (_, i) => `xmm${i}`)];

const BIT = new Map<string, number>(CALLER_SAVED.map((r, i) => [r, i]));
const ALL = (2 ** CALLER_SAVED.length - 1) >>> 0;
const ARGUMENT_MASK = maskOf(ARGUMENTS);

function maskOf(names: Iterable<string>): number {
  let m = 0;
  for (const n of names) {
    const b = BIT.get(n);
    if (b !== undefined) m |= 1 << b;
  }
  return m >>> 0;
}

export function registersOf(mask: number): string[] {
  return CALLER_SAVED.filter((_, i) => (mask >>> i) & 1);
}

interface Node {
  site: InstructionSite;
  reads: number;
  defines: number;
  writes: number;
  succ: bigint[];
}

export class CallerSavedLiveness {
  private readonly graphs = new Map<bigint, Map<bigint, Node>>();
  private readonly liveIns = new Map<bigint, Map<bigint, number>>();
  private readonly entryReads = new Map<bigint, number>();
  private readonly clobberSets = new Map<bigint, number>();

  constructor(private readonly codeMap: CodeMap) {}

  private localFunction(address: bigint): CodeFunction | null {
    const fn = this.codeMap.functionContaining(address);
    return fn && fn.address === address ? fn : null;
  }

  private graph(fn: CodeFunction): Map<bigint, Node> {
    const cached = this.graphs.get(fn.address);
    if (cached) return cached;
    const nodes = new Map<bigint, Node>();
    this.graphs.set(fn.address, nodes);
    const tables = new Map(this.codeMap.jumpTables.map((t) => [t.dispatch, t.targets]));
    for (const site of this.codeMap.instructionsOverlapping(fn.address, fn.end)) {
      const bytes = this.codeMap.bytesAt(site.address, site.length);
      const [effect] = bytes ? registerEffects(bytes, site.address, 1) : [];
      let reads = effect ? maskOf(effect.reads) : 0;
      let defines = effect ? maskOf(effect.defines) : 0;
      const writes = effect ? maskOf(effect.writes) : 0;
      const next = site.address + BigInt(site.length);
      const inside = (a: bigint): boolean => a >= fn.address && a < fn.end;
      let succ: bigint[] = [];
      switch (site.kind) {
        case 'jmp':
          if (site.branchTarget !== null && inside(site.branchTarget)) succ = [site.branchTarget];
          else if (site.branchTarget !== null) reads |= this.calleeReads(site.branchTarget); // tail call
          break;
        case 'jcc': case 'loop': case 'jrcxz':
          succ = site.branchTarget !== null && inside(site.branchTarget) ? [site.branchTarget, next] : [next];
          break;
        case 'call':
        case 'indirect-call':
          reads |= site.kind === 'call' && site.branchTarget !== null ? this.calleeReads(site.branchTarget) : 0;
          defines = ALL;
          succ = [next];
          break;
        case 'indirect-jmp':
          succ = (tables.get(site.address) ?? []).filter(inside);
          break;
        case 'return': case 'invalid': case 'interrupt':
          break;
        default:
          succ = [next];
      }
      nodes.set(site.address, { site, reads, defines, writes, succ });
    }
    return nodes;
  }

  /** What a call of `target` reads: its live-in argument registers when it is a function of this image. */
  private calleeReads(target: bigint): number {
    const fn = this.localFunction(target);
    if (!fn) return 0;
    const cached = this.entryReads.get(fn.address);
    if (cached !== undefined) return cached;
    this.entryReads.set(fn.address, 0); // recursion: assume nothing while in progress
    const live = this.liveIn(fn).get(fn.address) ?? 0;
    const reads = (live & ARGUMENT_MASK) >>> 0;
    this.entryReads.set(fn.address, reads);
    return reads;
  }

  private liveIn(fn: CodeFunction): Map<bigint, number> {
    const cached = this.liveIns.get(fn.address);
    if (cached) return cached;
    const nodes = this.graph(fn);
    const live = new Map<bigint, number>();
    for (const a of nodes.keys()) live.set(a, 0);
    const order = [...nodes.keys()].reverse();
    for (let changed = true; changed;) {
      changed = false;
      for (const a of order) {
        const n = nodes.get(a)!;
        let out = 0;
        for (const s of n.succ) out |= live.get(s) ?? 0;
        const inn = (n.reads | (out & ~n.defines)) >>> 0;
        if (inn !== live.get(a)) {
          live.set(a, inn);
          changed = true;
        }
      }
    }
    this.liveIns.set(fn.address, live);
    return live;
  }

  /** Caller-saved registers live just before `address` in `fn` (e.g. a call's return address). */
  liveAt(fn: CodeFunction, address: bigint): string[] {
    return registersOf(this.liveIn(fn).get(address) ?? 0);
  }

  /**
   * The first instruction reading `register` on some path from `address` before anything
   * defines it: the later read that makes the register live there.
   */
  firstRead(fn: CodeFunction, address: bigint, register: string): InstructionSite | null {
    const bit = 1 << BIT.get(register)!;
    const nodes = this.graph(fn);
    const seen = new Set<bigint>();
    const queue = [address];
    while (queue.length > 0) {
      const a = queue.shift()!;
      if (seen.has(a)) continue;
      seen.add(a);
      const n = nodes.get(a);
      if (!n) continue;
      if (n.reads & bit) return n.site;
      if (n.defines & bit) continue;
      queue.push(...n.succ);
    }
    return null;
  }

  /** Caller-saved registers `fn` may change, its callees' included (an unknown callee changes all). */
  clobbers(fn: CodeFunction): string[] {
    return registersOf(this.clobberMask(fn));
  }

  private clobberMask(fn: CodeFunction): number {
    const cached = this.clobberSets.get(fn.address);
    if (cached !== undefined) return cached;
    this.clobberSets.set(fn.address, 0);
    let mask = 0;
    for (const n of this.graph(fn).values()) {
      mask |= n.writes;
      const k = n.site.kind;
      const callee = n.site.branchTarget;
      const leaves = k === 'jmp' && callee !== null && (callee < fn.address || callee >= fn.end);
      if (k === 'call' || leaves) {
        const local = callee !== null ? this.localFunction(callee) : null;
        mask |= local ? this.clobberMask(local) : ALL;
      } else if (k === 'indirect-call' || (k === 'indirect-jmp' && !this.codeMap.jumpTables.some((t) => t.dispatch === n.site.address))) {
        mask |= ALL;
      }
    }
    mask >>>= 0;
    this.clobberSets.set(fn.address, mask);
    return mask;
  }
}
