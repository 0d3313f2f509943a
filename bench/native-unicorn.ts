// Native Unicorn's own speed, the reference for the raw core: libunicorn through koffi with no
// per-instruction hook (only an interrupt hook that stops at the program's int3), and the same
// with an empty JavaScript code hook on every instruction (what any JS observer of every
// instruction costs). UnicornEngine itself always runs such a hook (exact counts, breakpoints).
// Included by bench/run.ts; not a test.

const UC_ARCH_X86 = 4;
const UC_MODE_64 = 8;
const UC_HOOK_INTR = 1 << 0;
const UC_HOOK_CODE = 1 << 2;
const UC_PROT_ALL = 7;
const UC_X86_REG_RSP = 44;

type NativeFn = (...args: unknown[]) => unknown;
interface Koffi {
  load(path: string): { func(definition: string): NativeFn };
  proto(definition: string): unknown;
  pointer(type: unknown): unknown;
  register(callback: (...args: never[]) => unknown, type: unknown): unknown;
  unregister(callback: unknown): void;
}

export interface NativeRun {
  cpuSeconds: number;
  wallSeconds: number;
}

export class NativeUnicorn {
  private constructor(
    private readonly koffi: Koffi,
    private readonly fn: Record<string, NativeFn>,
    private readonly types: { code: unknown; intr: unknown },
  ) {}

  static async load(): Promise<NativeUnicorn> {
    const module = (await import('koffi')) as unknown as { default?: Koffi } & Koffi;
    const koffi = module.default ?? module;
    const lib = koffi.load('libunicorn.so.2');
    const f = (d: string): NativeFn => lib.func(d);
    return new NativeUnicorn(
      koffi,
      {
        open: f('int uc_open(int arch, int mode, _Out_ void **uc)'),
        close: f('int uc_close(void *uc)'),
        memMap: f('int uc_mem_map(void *uc, uint64_t address, size_t size, uint32_t perms)'),
        memWrite: f('int uc_mem_write(void *uc, uint64_t address, const void *bytes, size_t size)'),
        regWrite: f('int uc_reg_write(void *uc, int regid, const void *value)'),
        emuStart: f('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
        emuStop: f('int uc_emu_stop(void *uc)'),
        hookAdd: f('int uc_hook_add(void *uc, void *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)'),
      },
      {
        code: koffi.pointer(koffi.proto('void BenchUcCodeHook(void *uc, uint64_t address, uint32_t size, void *user)')),
        intr: koffi.pointer(koffi.proto('void BenchUcIntrHook(void *uc, uint32_t intno, void *user)')),
      },
    );
  }

  /**
   * Runs `code` at `codeAt` (stack and data mapped as the bench programs expect) until its int3.
   * `runs` fresh starts on one machine, after one unmeasured (Unicorn translates on the first).
   */
  measure(code: Uint8Array, layout: { codeAt: bigint; dataAt: bigint; dataSize: number; stackAt: bigint; stackSize: number }, codeHook: boolean, runs: number): NativeRun {
    const { fn, koffi, types } = this;
    const handle = [null as unknown];
    if (fn.open!(UC_ARCH_X86, UC_MODE_64, handle) !== 0) throw new Error('uc_open failed');
    const uc = handle[0];
    const callbacks: unknown[] = [];
    try {
      fn.memMap!(uc, layout.codeAt, 0x1000, UC_PROT_ALL);
      fn.memMap!(uc, layout.dataAt, layout.dataSize, UC_PROT_ALL);
      fn.memMap!(uc, layout.stackAt, layout.stackSize, UC_PROT_ALL);
      fn.memWrite!(uc, layout.codeAt, code, code.length);
      const stop = koffi.register(() => fn.emuStop!(uc), types.intr);
      callbacks.push(stop);
      fn.hookAdd!(uc, new BigUint64Array(1), UC_HOOK_INTR, stop, null, 1n, 0n);
      if (codeHook) {
        const empty = koffi.register(() => {}, types.code);
        callbacks.push(empty);
        fn.hookAdd!(uc, new BigUint64Array(1), UC_HOOK_CODE, empty, null, 1n, 0n);
      }
      let best: NativeRun = { cpuSeconds: Infinity, wallSeconds: Infinity };
      for (let i = 0; i <= runs; i++) {
        fn.regWrite!(uc, UC_X86_REG_RSP, new BigUint64Array([layout.stackAt + BigInt(layout.stackSize) - 0x100n]));
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const err = fn.emuStart!(uc, layout.codeAt, 0n, 0n, 0) as number;
        const wallSeconds = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(cpu0);
        if (err !== 0) throw new Error(`uc_emu_start returned ${err}`);
        if (i === 0) continue;
        best = { cpuSeconds: Math.min(best.cpuSeconds, (c.user + c.system) / 1e6), wallSeconds: Math.min(best.wallSeconds, wallSeconds) };
      }
      return best;
    } finally {
      fn.close!(uc);
      for (const c of callbacks) koffi.unregister(c);
    }
  }
}
