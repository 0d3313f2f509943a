// The block compiler's driver: hot decoded blocks of the wasm core (listed by wasm/assembly/jit.ts)
// become WebAssembly functions (wasm-jit-compiler.ts), one module per batch, installed into the
// core's function table; the core runs them instead of interpreting (cpu.ts runCompiled). A block
// is compiled up to its first record the compiler does not know; the core interprets the rest.

import { Op } from './generated/core-ops.js';
import type { CoreExports } from './wasm-core.js';
import { BlockCompiler, type CoreLayout, HELPERS, INSN_SIZE, type InsnRecord, compilable, isBranch, readRecord } from './wasm-jit-compiler.js';
import { encodeModule } from './wasm-jit-module.js';

/** The core's exports the block compiler uses (wasm/assembly/index.ts). */
export interface JitCoreExports {
  memory: WebAssembly.Memory;
  table: WebAssembly.Table;
  gprBase(): number;
  xmmBase(): number;
  jitThreshold(n: number): void;
  jitHotList(): number;
  jitHotLength(): number;
  jitHotClear(): void;
  jitInstall(block: number, rip: bigint, index: number): number;
  jitEpoch(): number;
  jitTlbTag(): number;
  jitTlbPte(): number;
  jitExitRecord(): number;
  jitRetiredCount(): bigint;
  jitHeaders(): number;
  jitRegionRange(slot: number, i: number, start: bigint, end: bigint): number;
  getRetired(): bigint;
}

export interface JitOptions {
  /** Interpreted executions after which a block is compiled (1: everything eligible, as tests use). */
  threshold: number;
  /**
   * Instructions the core retires before blocks are counted at all: a short run (a cold start's
   * 100k instructions) would pay for compiling and not gain from it.
   */
  warmup: number;
}

export interface JitStats {
  /** Blocks installed as entries of compiled regions. */
  blocks: number;
  /** Decoded records the compiled regions cover. */
  records: number;
  /** Modules instantiated (one per drained batch, one function per region). */
  modules: number;
  /** Blocks listed as hot that had no compilable first record. */
  skipped: number;
  /** Bytes of WebAssembly generated, and the time spent generating and compiling it. */
  codeBytes: number;
  compileMilliseconds: number;
  /** Instructions compiled code retired (since the core was created). */
  retired: number;
  /** Blocks whose compiled prefix ended before their end, by the Op name of the first record left out. */
  stoppedAt: { [op: string]: number };
}

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([name, value]) => [value, name]));

const HEADER_RIP = 0, HEADER_EPOCH = 8, HEADER_COUNT = 12, HEADER_FIRST = 16, HEADER_JIT = 24;
/** Block headers (wasm/assembly/icache.ts): 32 bytes each, direct-mapped by (rip ^ rip >> 13) & HEADER_MASK. */
const HEADER_SIZE = 32, HEADER_MASK = (1 << 13) - 1;

/** Compiled regions by what they were compiled from (the layout and the records), shared by the realm's engines. */
const COMPILED = new Map<string, { module: WebAssembly.Module; name: string }>();
const COMPILED_MAX = 8192;

/** Blocks compiled into one function, and the hot ones among them (installed as entries). */
interface Region {
  blocks: { rip: bigint; records: InsnRecord[] }[];
  entries: { header: number; rip: bigint; id: number }[];
}
/** The most blocks one compiled function covers. */
const REGION_BLOCKS = 16;
/** Table slots for compiled regions (the core keeps each one's block ranges: REGION_SLOTS in icache.ts); when they run out, compiling waits for the next epoch. */
const TABLE_SLOTS = 4096 - 16;

/**
 * The host side of the block compiler for one core: drains the core's hot-block list, compiles
 * each batch into one module and installs its functions (WasmEngine calls drain between runs).
 */
export class BlockJit {
  private readonly core: JitCoreExports;
  private readonly imports: WebAssembly.Imports;
  private readonly tableBase: number;
  private nextSlot: number;
  private epoch = -1;
  private readonly layout: CoreLayout;
  /** This core's instance of each cached module it uses. */
  private readonly instances = new Map<WebAssembly.Module, WebAssembly.Instance>();
  private readonly headers: number;
  private disabled = false;
  private readonly stoppedAt: { [op: string]: number } = {};
  private readonly counts = { blocks: 0, records: 0, modules: 0, skipped: 0, codeBytes: 0, compileMilliseconds: 0 };

  stats(): JitStats {
    return { ...this.counts, retired: Number(this.core.jitRetiredCount()), stoppedAt: { ...this.stoppedAt } };
  }

  constructor(coreExports: CoreExports, options: JitOptions) {
    const core = coreExports as unknown as JitCoreExports;
    this.core = core;
    const fns: { [name: string]: WebAssembly.ExportValue } = { memory: core.memory };
    const exported = coreExports as unknown as { [name: string]: WebAssembly.ExportValue };
    for (const h of HELPERS) fns[h.name] = exported[h.name]!;
    this.imports = { core: fns };
    this.tableBase = core.table.length;
    this.nextSlot = this.tableBase;
    this.headers = core.jitHeaders();
    this.layout = { gpr: core.gprBase(), xmm: core.xmmBase(), tlbTag: core.jitTlbTag(), tlbPte: core.jitTlbPte(), out: core.jitExitRecord() };
    this.threshold = Math.max(1, Math.floor(options.threshold));
    this.warmup = Math.max(0, options.warmup);
    this.armIfWarm();
  }

  private readonly threshold: number;
  private readonly warmup: number;
  private armed = false;

  private armIfWarm(): void {
    if (this.armed || this.disabled || Number(this.core.getRetired()) < this.warmup) return;
    this.armed = true;
    this.core.jitThreshold(this.threshold);
  }

  /** Stops listing blocks (compiled code already installed keeps running). */
  disable(): void {
    this.disabled = true;
    this.core.jitThreshold(0);
    this.core.jitHotClear();
  }

  /** The compilable records of the block whose header is at `header`, or null when it is not current. */
  private compilablePrefix(view: DataView, header: number, epoch: number, count: boolean): InsnRecord[] | null {
    if (view.getUint32(header + HEADER_EPOCH, true) !== epoch) return null;
    const n = view.getUint32(header + HEADER_COUNT, true);
    const first = view.getUint32(header + HEADER_FIRST, true);
    const records: InsnRecord[] = [];
    for (let k = 0; k < n; k++) {
      const e = readRecord(view, first + k * INSN_SIZE);
      if (!compilable(e)) {
        if (count) {
          const name = OP_NAMES.get(e.op) ?? String(e.op);
          this.stoppedAt[name] = (this.stoppedAt[name] ?? 0) + 1;
        }
        break;
      }
      records.push(e);
      if (isBranch(e.op)) break;
    }
    return records;
  }

  /**
   * Regions for a batch of hot blocks: each grows breadth first from a hot block not yet taken,
   * through direct jumps, calls and fall-through, over decoded blocks (hot or not) no other region
   * of the batch has, up to REGION_BLOCKS. Control stays in one function while it moves between a
   * region's blocks; every hot block of a region enters it at its own block.
   */
  private regions(view: DataView, hot: { header: number; rip: bigint; records: InsnRecord[] }[], epoch: number): Region[] {
    const taken = new Set<bigint>();
    const hotByRip = new Map(hot.map((b) => [b.rip, b]));
    const regions: Region[] = [];
    for (const start of hot) {
      if (taken.has(start.rip)) continue;
      const region: Region = { blocks: [start], entries: [{ header: start.header, rip: start.rip, id: 0 }] };
      taken.add(start.rip);
      for (let i = 0; i < region.blocks.length && region.blocks.length < REGION_BLOCKS; i++) {
        const b = region.blocks[i]!;
        const last = b.records[b.records.length - 1]!;
        const next = last.rip + BigInt(last.len);
        const targets = last.op === Op.FJcc ? [last.imm, next] : last.op === Op.FJmp || last.op === Op.FCall ? [last.imm] : last.op === Op.FRet ? [] : [next];
        for (const rip of targets) {
          if (taken.has(rip) || region.blocks.length >= REGION_BLOCKS) continue;
          const h = hotByRip.get(rip);
          let header: number;
          let records: InsnRecord[] | null;
          if (h) {
            header = h.header;
            records = h.records;
          } else {
            const lo = Number(rip & 0xffffffffn), hi = Number((rip >> 13n) & 0xffffffffn);
            header = this.headers + (((lo ^ hi) & HEADER_MASK) >>> 0) * HEADER_SIZE;
            if (view.getBigUint64(header + HEADER_RIP, true) !== rip) continue;
            records = this.compilablePrefix(view, header, epoch, false);
          }
          if (records === null || records.length === 0) continue;
          taken.add(rip);
          const id = region.blocks.length;
          region.blocks.push({ rip, records });
          if (h) region.entries.push({ header, rip, id });
        }
      }
      regions.push(region);
    }
    return regions;
  }

  /** Compiles and installs the blocks the core listed as hot since the last drain. */
  drain(): void {
    const core = this.core;
    if (!this.armed) {
      this.armIfWarm();
      return;
    }
    const count = core.jitHotLength();
    if (count === 0 || this.disabled) return;
    const view = new DataView(core.memory.buffer);
    const list = core.jitHotList();
    const epoch = core.jitEpoch();
    if (epoch !== this.epoch) {
      // Blocks of older epochs are unreachable (their headers were refilled or will be): reuse the slots.
      this.epoch = epoch;
      this.nextSlot = this.tableBase;
    }
    const blocks: { header: number; rip: bigint; records: InsnRecord[] }[] = [];
    for (let i = 0; i < count; i++) {
      const header = view.getUint32(list + i * 4, true);
      if (view.getUint32(header + HEADER_JIT, true) !== 0) continue;
      const records = this.compilablePrefix(view, header, epoch, true);
      if (records === null) continue;
      if (records.length === 0) {
        this.counts.skipped++;
        continue;
      }
      blocks.push({ header, rip: view.getBigUint64(header + HEADER_RIP, true), records });
    }
    core.jitHotClear();
    if (blocks.length === 0) return;
    const regions = this.regions(view, blocks, epoch);
    const room = this.tableBase + TABLE_SLOTS - this.nextSlot;
    if (regions.length > room) regions.length = Math.max(0, room);
    if (regions.length === 0) return;
    const started = performance.now();
    // Regions compiled before (by this engine or another in this realm, e.g. before a breakpoint
    // dropped compiled code, or in an earlier verification) are instantiated again, not recompiled.
    const layoutKey = `${this.layout.gpr},${this.layout.xmm},${this.layout.tlbTag},${this.layout.tlbPte},${this.layout.out}|`;
    const keys = regions.map((r) => layoutKey + r.blocks.map((b) => b.records.map((e) => e.key).join('')).join('|'));
    // A full cache starts over before this batch looks anything up in it.
    if (COMPILED.size >= COMPILED_MAX) COMPILED.clear();
    const fresh: number[] = [];
    keys.forEach((key, i) => { if (!COMPILED.has(key)) fresh.push(i); });
    if (fresh.length > 0) {
      const bodies = fresh.map((i) => new BlockCompiler(regions[i]!.blocks, this.layout).compile());
      for (const b of bodies) this.counts.codeBytes += b.length;
      let module: WebAssembly.Module;
      try {
        // Synchronous: a Node process or a Web Worker (where the core runs in the page) allows it.
        module = new WebAssembly.Module(encodeModule(HELPERS, bodies));
      } catch (error) {
        // A realm that refuses synchronous compiles of this size: keep interpreting.
        if (error instanceof RangeError) {
          this.disable();
          return;
        }
        throw error;
      }
      this.counts.modules++;
      fresh.forEach((i, n) => COMPILED.set(keys[i]!, { module, name: `b${n}` }));
    }
    const functions = keys.map((key) => {
      const { module, name } = COMPILED.get(key)!;
      let instance = this.instances.get(module);
      if (!instance) {
        instance = new WebAssembly.Instance(module, this.imports);
        this.instances.set(module, instance);
      }
      return instance.exports[name] as WebAssembly.ExportValue;
    });
    this.counts.compileMilliseconds += performance.now() - started;
    const table = core.table;
    const need = this.nextSlot + regions.length - table.length;
    if (need > 0) table.grow(need);
    regions.forEach((r, i) => {
      const slot = this.nextSlot++;
      table.set(slot, functions[i]!);
      // The blocks it holds copies of: a breakpoint or `until` set inside one drops the region.
      const recorded = r.blocks.every((b, n) => {
        const last = b.records[b.records.length - 1]!;
        return core.jitRegionRange(slot, n, b.rip, last.rip + BigInt(last.len)) !== 0;
      });
      if (!recorded) return;
      for (const entry of r.entries) {
        // The core calls table[index & 0xffff](left, index >> 16).
        if (core.jitInstall(entry.header, entry.rip, slot | (entry.id << 16))) this.counts.blocks++;
      }
      for (const b of r.blocks) this.counts.records += b.records.length;
    });
  }
}
