// Observation inside the wasm core: write hooks filtered by exact range in WebAssembly (pages
// marked, kept across snapshot restores and new mappings), code hooks marked on the decoded
// instructions they cover (exact counts, order with breakpoints as UnicornEngine's), the run
// monitor, and the retired count inside hooks. Both engines where the semantics are shared.
import { describe, expect, it } from 'vitest';
import { WasmEngine } from '../../src/engine/wasm-engine.js';
import { HookType, Perm, type Access, type Engine } from '../../src/engine/engine.js';
import { UnicornEngine } from '../../src/engine/unicorn-engine.js';

const CODE = 0x10000n;
const DATA = 0x20000n;
const STACK_TOP = 0x40000n;
const IN_CI = process.env.CI === 'true';

async function unicornOrSkip(): Promise<UnicornEngine | undefined> {
  try {
    return await UnicornEngine.create();
  } catch (error) {
    if (IN_CI) throw error;
    return undefined;
  }
}

function load(e: Engine, code: number[]): Engine {
  e.map(CODE, 0x1000, Perm.RX);
  e.map(DATA, 0x2000, Perm.RW);
  e.map(STACK_TOP - 0x2000n, 0x2000, Perm.RW);
  e.writeMemory(CODE, new Uint8Array(code));
  e.writeRegister('rsp', STACK_TOP);
  e.writeRegister('rbx', DATA);
  return e;
}

// mov [rbx], rax ; mov [rbx+8], rcx ; mov [rbx+0x800], rdx ; mov [rbx+0x1000], rsi ; int3
const FOUR_WRITES = [0x48, 0x89, 0x03, 0x48, 0x89, 0x4b, 0x08, 0x48, 0x89, 0x93, 0x00, 0x08, 0x00, 0x00, 0x48, 0x89, 0xb3, 0x00, 0x10, 0x00, 0x00, 0xcc];
// nop x5 ; int3
const NOPS = [0x90, 0x90, 0x90, 0x90, 0x90, 0xcc];

interface Seen { access: Access; address: bigint; size: number; value: bigint; rip: bigint; retired?: number }

function watchWrites(e: Engine, begin: bigint, end: bigint, seen: Seen[]): void {
  e.addHook({
    type: HookType.MemWrite, begin, end,
    callback: (access, address, size, value) => seen.push({ access, address, size, value, rip: e.readRegister('rip'), retired: e.instructionsRetired?.() }),
  });
}

describe('write hooks filtered in the core', () => {
  it('delivers exactly the writes whose address is in a range, with the writing instruction as rip', async () => {
    for (const e of [await WasmEngine.create(), await unicornOrSkip()]) {
      if (!e) continue;
      load(e, FOUR_WRITES);
      e.writeRegister('rcx', 0x1122334455667788n);
      e.writeRegister('rsi', 7n);
      const seen: Seen[] = [];
      watchWrites(e, DATA + 8n, DATA + 15n, seen); // the second write only (same page as the first and third)
      watchWrites(e, DATA + 0x1000n, DATA + 0x1000n, seen); // the fourth, on another page
      const r = e.start(CODE, { count: 100 });
      expect(r.reason, e.name).toBe('interrupt');
      expect(r.instructions, e.name).toBe(5); // int3 retires (rip after it)
      expect(seen.map((s) => [s.address, s.size, s.value, s.rip]), e.name).toEqual([
        [DATA + 8n, 8, 0x1122334455667788n, CODE + 3n],
        [DATA + 0x1000n, 8, 7n, CODE + 14n],
      ]);
      e.close();
    }
  });

  it('inside a write hook the retired count includes the writing instruction (wasm keeps no trace ring for it)', async () => {
    const e = await WasmEngine.create();
    load(e, FOUR_WRITES);
    const seen: Seen[] = [];
    const before = e.instructionsRetired();
    watchWrites(e, DATA + 0x800n, DATA + 0x800n, seen);
    e.start(CODE, { count: 100 });
    expect(seen.map((s) => s.retired! - before)).toEqual([3]);
  });

  it('keeps watching after a snapshot restore, and across a mapping made after the hook', async () => {
    const e = load(await WasmEngine.create(), FOUR_WRITES);
    const snap = e.snapshot();
    const seen: Seen[] = [];
    watchWrites(e, DATA, DATA + 0x3fffn, seen); // reaches past the mapping into pages mapped later
    e.restoreSnapshot(snap); // the restored page entries predate the hook
    e.start(CODE, { count: 100 });
    expect(seen.map((s) => s.address)).toEqual([DATA, DATA + 8n, DATA + 0x800n, DATA + 0x1000n]);

    e.map(DATA + 0x2000n, 0x1000, Perm.RW);
    e.writeRegister('rbx', DATA + 0x1800n); // the fourth write now lands on the new page
    seen.length = 0;
    e.start(CODE, { count: 100 });
    expect(seen.map((s) => s.address)).toEqual([DATA + 0x1800n, DATA + 0x1808n, DATA + 0x2000n, DATA + 0x2800n].filter((a) => a < DATA + 0x4000n));
  });

  it('a removed hook stops delivering, and a restore does not bring its pages back', async () => {
    const e = load(await WasmEngine.create(), FOUR_WRITES);
    const seen: Seen[] = [];
    watchWrites(e, DATA, DATA + 0xfffn, seen);
    const snap = e.snapshot();
    const handle = e.addHook({ type: HookType.MemWrite, begin: DATA + 0x1000n, end: DATA + 0x1fffn, callback: () => seen.push({ access: 'write', address: -1n, size: 0, value: 0n, rip: 0n }) });
    e.removeHook(handle);
    e.restoreSnapshot(snap);
    e.start(CODE, { count: 100 });
    expect(seen.map((s) => s.address)).toEqual([DATA, DATA + 8n, DATA + 0x800n]);
  });
});

describe('code hooks marked on decoded instructions', () => {
  it('fire only at the hooked addresses, and the instruction count is exact', async () => {
    for (const e of [await WasmEngine.create(), await unicornOrSkip()]) {
      if (!e) continue;
      load(e, NOPS);
      const hits: bigint[] = [];
      e.addHook({ type: HookType.Code, begin: CODE + 1n, end: CODE + 1n, callback: (a) => hits.push(a) });
      e.addHook({ type: HookType.Code, begin: CODE + 3n, end: CODE + 3n, callback: (a) => hits.push(a) });
      const r = e.start(CODE, { count: 100 });
      expect([r.reason, r.instructions], e.name).toEqual(['interrupt', 6]);
      expect(hits, e.name).toEqual([CODE + 1n, CODE + 3n]);
      e.close();
    }
  });

  it('at a breakpoint: the breakpoint stops first, the hook fires once when the run resumes there', async () => {
    for (const e of [await WasmEngine.create(), await unicornOrSkip()]) {
      if (!e) continue;
      load(e, NOPS);
      const hits: bigint[] = [];
      e.addHook({ type: HookType.Code, begin: CODE + 2n, end: CODE + 2n, callback: (a) => hits.push(a) });
      e.setBreakpoints([CODE + 2n]);
      const first = e.start(CODE, { count: 100 });
      expect([first.reason, first.rip, first.instructions, hits.length], e.name).toEqual(['breakpoint', CODE + 2n, 2, 0]);
      const second = e.start(CODE + 2n, { count: 100 });
      expect([second.reason, second.instructions], e.name).toEqual(['interrupt', 4]);
      expect(hits, e.name).toEqual([CODE + 2n]);
      e.close();
    }
  });

  it('stop() from the hook ends the run before the instruction; the next run fires the hook again', async () => {
    const e = load(await WasmEngine.create(), NOPS);
    let calls = 0;
    e.addHook({ type: HookType.Code, begin: CODE + 3n, end: CODE + 3n, callback: () => { if (++calls === 1) e.stop(); } });
    const first = e.start(CODE, { count: 100 });
    expect([first.reason, first.rip, first.instructions]).toEqual(['stopped', CODE + 3n, 3]);
    const second = e.start(CODE + 3n, { count: 100 });
    expect([second.reason, second.instructions, calls]).toEqual(['interrupt', 3, 2]);
  });

  it('a hook added over code that already ran (decoded blocks) still fires: adding it drops decoded code', async () => {
    const e = load(await WasmEngine.create(), NOPS);
    e.start(CODE, { count: 100 });
    const hits: bigint[] = [];
    e.addHook({ type: HookType.Code, begin: CODE + 4n, end: CODE + 4n, callback: (a) => hits.push(a) });
    e.start(CODE, { count: 100 });
    expect(hits).toEqual([CODE + 4n]);
  });
});

describe('the run monitor', () => {
  it('is called about every N instructions with the total, and returning false ends the run as a timeout', async () => {
    // jmp $ (an endless loop)
    for (const e of [await WasmEngine.create(), await unicornOrSkip()]) {
      if (!e) continue;
      load(e, [0xeb, 0xfe]);
      const seen: number[] = [];
      e.setMonitor!({ everyInstructions: 1000, callback: (n) => { seen.push(n); return seen.length < 3; } });
      const r = e.start(CODE, { count: 1_000_000 });
      expect(r.reason, e.name).toBe('timeout');
      expect(seen.length, e.name).toBe(3);
      expect(seen[2]! - seen[1]!, e.name).toBeGreaterThanOrEqual(1000);
      expect(seen[2]! - seen[1]!, e.name).toBeLessThan(2000);
      expect(r.instructions, e.name).toBeLessThan(5000);
      e.setMonitor!(null);
      expect(e.start(CODE, { count: 5000 }).reason, e.name).toBe('count');
      e.close();
    }
  });
});
