// The GOT and vtable strategies (src/verify/strategies/): what they plan on the corpus's
// compiled programs (slots found through relocations and _ZTV symbols), how the tool writes
// (mprotect of the RELRO page, then back), what the findings say (the call site and how it
// got there, the symbol a stray write hit, the crash attributed to a hook stub), and the
// converter check on crafted observations.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initDemangler } from '../../src/elf/index.js';
import { EmulatedProcess, type ProcessEvent } from '../../src/loader/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { VerifyError } from '../../src/verify/error.js';
import { collectNeededLibraries } from '../../src/verify/libraries.js';
import { checkCodeWritesOutside } from '../../src/verify/checks/write-outside.js';
import { planGot } from '../../src/verify/strategies/got.js';
import { applySlotsAsTool, TRANSFER_REGISTERS, type HookTransfer, type SlotObservation } from '../../src/verify/strategies/slots.js';
import { checkHookTransfers, checkObjectsConverted, newModuleMethods, planVtable, vtablesOf } from '../../src/verify/strategies/vtable.js';
import { createTestEngine } from '../loader/engine.js';
import { buildVfs, directoryFiles, GUEST_CWD } from '../../src/cli/sysroot.js';
import { SystemProcess } from '../../src/loader/system/index.js';
import { strategyFor } from '../../src/verify/strategies/index.js';
import { planStatic } from '../../src/verify/pipeline/plan.js';
import { createEngine } from '../../src/engine/index.js';
import { corpusCases, neededLibraries } from '../corpus/cases.js';

const corpus = new URL('../../corpus/', import.meta.url).pathname;
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(corpus + path));

async function launch(scenario: string, main: string): Promise<EmulatedProcess> {
  await initDemangler();
  const libraries = collectNeededLibraries(bytes(`${scenario}/${main}`), (p) => (existsSync(`${corpus}${scenario}/${p}`) ? bytes(`${scenario}/${p}`) : undefined));
  return EmulatedProcess.create(await createTestEngine(), {
    main: bytes(`${scenario}/${main}`),
    mainPath: `./${main}`,
    libraries: [{ path: './patch.so', bytes: bytes(`${scenario}/patch.so`) }, ...libraries.map((l) => ({ path: `./${l.path}`, bytes: l.bytes }))],
    argv: [],
  });
}

/** main started on the system model (the real ld.so and glibc of /), stopped before its first instruction. */
async function launchSystem(scenario: string, main: string): Promise<SystemProcess> {
  await initDemangler();
  return SystemProcess.create(await createTestEngine(), { vfs: buildVfs('/', directoryFiles(corpus + scenario)), executable: `./${main}`, argv: [], cwd: GUEST_CWD });
}

async function verifyOnSystem(scenario: string, main: string, symbol: string, ...args: string[]): Promise<CommandOutcome> {
  const request = parseCommandLine([main, 'patch.so', symbol, ...args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  const libraries = collectNeededLibraries(bytes(`${scenario}/${main}`), (p) => (existsSync(`${corpus}${scenario}/${p}`) ? bytes(`${scenario}/${p}`) : undefined));
  return runCommand(request.command, bytes(`${scenario}/${main}`), bytes(`${scenario}/patch.so`), 'wasm', libraries, { process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(corpus + scenario)) } });
}

async function verify(scenario: string, main: string, symbol: string, ...args: string[]): Promise<CommandOutcome> {
  return verifyWith(scenario, main, 'patch.so', symbol, ...args);
}

async function verifyWith(scenario: string, main: string, patch: string, symbol: string, ...args: string[]): Promise<CommandOutcome> {
  const request = parseCommandLine([main, patch, symbol, ...args]);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  const libraries = collectNeededLibraries(bytes(`${scenario}/${main}`), (p) => (existsSync(`${corpus}${scenario}/${p}`) ? bytes(`${scenario}/${p}`) : undefined));
  return runCommand(request.command, bytes(`${scenario}/${main}`), bytes(`${scenario}/${patch}`), 'wasm', libraries);
}

describe('GOT plan', () => {
  it("finds main's JUMP_SLOT bound to libgame.so's compute_damage, and libgame's own direct call as a note", async () => {
    const p = await launch('got-slot', 'main');
    const plan = planGot(p, 'compute_damage');
    const lib = p.objects.find((o) => o.path === './libgame.so')!;
    expect(plan.old.object).toBe('./libgame.so');
    expect(plan.old.address).toBe(lib.base + plan.old.resolved.address);
    expect(plan.slots).toHaveLength(1);
    expect(plan.slots[0]).toMatchObject({ object: './main', what: 'R_X86_64_JUMP_SLOT of ./main', old: plan.old.address });
    expect(p.mem.u64(plan.slots[0]!.address)).toBe(plan.old.address);
    expect(plan.targets).toEqual([{ start: plan.slots[0]!.address, end: plan.slots[0]!.address + 8n, what: expect.stringContaining('GOT slot for compute_damage') }]);
    // game_tick+0x8: call compute_damage (the hidden alias), found statically.
    expect(plan.findings).toHaveLength(1);
    expect(plan.findings[0]).toMatchObject({ code: 'OLD_FUNCTION_STILL_CALLED', severity: 'info' });
    expect(plan.findings[0]!.evidence[0]!.location).toBe('game_tick+0x8 (./libgame.so)');
  });

  it('main-callback: the one GLOB_DAT slot (its .plt.got entry and the address load share it)', async () => {
    const plan = planGot(await launch('got-slot', 'main-callback'), 'compute_damage');
    expect(plan.slots.map((s) => s.what)).toEqual(['R_X86_64_GLOB_DAT of ./main-callback']);
  });

  it('refuses a function of main itself, and one no library defines, saying what to do', async () => {
    const p = await launch('got-slot', 'main');
    expect(() => planGot(p, 'got_patch')).toThrow(/defined in the executable itself.*--strategy prologue/);
    expect(() => planGot(p, 'no_such_function')).toThrow(VerifyError);
  });

  it('the tool makes the RELRO page writable, writes the slot, and restores read-only', async () => {
    const p = await launch('got-slot', 'main');
    const plan = planGot(p, 'compute_damage');
    const slot = plan.slots[0]!.address;
    const page = slot & ~0xfffn;
    const perms = (): number => Number(p.regions().find((m) => m.begin <= slot && slot < m.end)!.perms);
    expect(perms()).toBe(1); // r--: full RELRO
    const applied = applySlotsAsTool(p, [{ address: slot, value: 0x1234n }]);
    expect(applied.refused).toBeNull();
    expect(applied.mprotects.map((m) => [m.address, m.prot, m.result])).toEqual([[page, 3, 0], [page, 1, 0]]);
    expect(p.events.filter((e): e is Extract<ProcessEvent, { kind: 'mprotect' }> => e.kind === 'mprotect').map((e) => e.via)).toEqual(['host', 'host']);
    expect(applied.writes).toEqual([{ address: slot, before: plan.old.address, after: 0x1234n, inTarget: true }]);
    expect(p.mem.u64(slot)).toBe(0x1234n);
    expect(perms()).toBe(1);
  });
});

describe('vtable plan', () => {
  it("finds Imp1::hello in Imp1's table and in the derived Imp1Loud's, and only the method words as the target", async () => {
    const p = await launch('vtable-swap', 'main');
    const plan = planVtable(p, 'Imp1::hello()');
    const tables = vtablesOf(p, [p.executable]);
    const imp1 = tables.find((t) => t.symbol.name === '_ZTV4Imp1')!;
    const loud = tables.find((t) => t.symbol.name === '_ZTV8Imp1Loud')!;
    expect(plan.old.name).toBe('_ZN4Imp15helloEv');
    expect(plan.slots.map((s) => s.address)).toEqual([imp1.start + 16n, loud.start + 16n]);
    // Offset-to-top and typeinfo (words 0, 1) are not method slots; hello and foo are.
    expect(plan.targets.map((t) => [t.start, t.end])).toEqual([[imp1.start + 16n, imp1.end], [loud.start + 16n, loud.end]]);
  });

  it("multiple inheritance: Multi's primary slot and the secondary table's thunk (g++ copied the body into it)", async () => {
    const p = await launch('vtable-swap', 'main-multi');
    const plan = planVtable(p, 'Multi::hello()');
    const multi = vtablesOf(p, [p.executable]).find((t) => t.symbol.name === '_ZTV5Multi')!;
    expect(plan.slots.map((s) => [s.address - multi.start, s.thunk?.prefix])).toEqual([[0x18n, undefined], [0x30n, '_ZThn16_']]);
    const { result } = await verifyWith('vtable-swap', 'main-multi', 'patch-multi.so', 'Multi::hello()', '--strategy', 'vtable', '--with', 'MultiFixed::hello()');
    expect(result.verdict).toBe('safe');
    expect(result.slotWrites!.map((w) => w.afterTarget)).toEqual(['_ZN10MultiFixed5helloEv+0x0 (./patch.so)', '_ZThn16_N10MultiFixed5helloEv+0x0 (./patch.so)']);
    // Without the matching thunk in the patch the tool refuses, saying why.
    const { result: noThunk } = await verify('vtable-swap', 'main-multi', 'Multi::hello()', '--strategy', 'vtable', '--with', 'Imp1Fixed::hello()');
    expect(noThunk.error).toMatch(/holds a this-adjusting thunk; \.\/patch\.so has no matching thunk _ZThn16_N9Imp1Fixed5helloEv/);
  });

  it('a name that is not a virtual method in any table says so', async () => {
    const p = await launch('vtable-swap', 'main');
    expect(() => planVtable(p, 'create_v1(int)')).toThrow(/no vtable .* holds create_v1/);
  });
});

describe('findings on the corpus, with their evidence', () => {
  it('GOT, direct call inside the library: the call site is game_tick+0x8', async () => {
    const { result } = await verify('got-slot', 'main-internal', 'compute_damage', '--strategy', 'got');
    const f = result.findings.find((x) => x.code === 'OLD_FUNCTION_STILL_CALLED' && x.severity === 'error')!;
    expect(f.message).toMatch(/still ran 5 time\(s\): a direct call inside \.\/libgame\.so/);
    expect(f.evidence.map((e) => e.location)).toEqual(['game_tick+0x8 (./libgame.so)']);
    expect(result.slotWrites).toHaveLength(1);
    expect(result.slotWrites![0]).toMatchObject({ beforeTarget: 'compute_damage+0x0 (./libgame.so)', afterTarget: 'compute_damage+0x0 (./patch.so)', inTarget: true });
  });

  it('GOT, callback table: a pointer copied before the patch', async () => {
    const { result } = await verify('got-slot', 'main-callback', 'compute_damage', '--strategy', 'got');
    const f = result.findings.find((x) => x.code === 'OLD_FUNCTION_STILL_CALLED' && x.severity === 'error')!;
    expect(f.message).toMatch(/function pointer stored in memory .* copied before the patch/);
    expect(f.evidence[0]!.text).toMatch(/^call qword ptr \[rip/);
  });

  it('GOT, full RELRO written without mprotect: the handler faults on the slot', async () => {
    const { result } = await verify('got-slot', 'main-relro', 'compute_damage', '--strategy', 'got', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'WRITE_FAULT')!;
    expect(f.evidence[0]!.location).toMatch(/^on_sigusr1\+0x[0-9a-f]+ \(\.\/main-relro\)$/);
    expect(result.run?.ended).toMatch(/while the SIGUSR1 handler ran/);
  });

  it("vtable, method_count 3: the stray write is Imp1Loud's offset-to-top", async () => {
    const { result } = await verify('vtable-swap', 'main-count3', 'Imp1::hello()', '--strategy', 'vtable', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'WRITE_OUTSIDE_PATCH_TARGET')!;
    expect(f.message).toMatch(/first at vtable for Imp1Loud \(_ZTV8Imp1Loud\+0x0\) in \.\/main-count3 \(its offset-to-top\)/);
    expect(result.slotWrites!.map((w) => w.inTarget)).toEqual([true, true, false]);
  });

  it('vtable, hook stub reading this from the stack: the crash is in the generated stub; the baseline exits', async () => {
    const { result } = await verify('vtable-swap', 'main-stack-this', 'Imp1::hello()', '--strategy', 'vtable', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'CRASH_AFTER_PATCH')!;
    // The common CRASH_AFTER_PATCH: against the baseline run from the patch point, with the faulting instruction and the call chain.
    expect(f.message).toMatch(/^the patched run dies of SIGSEGV \d+ instructions after the patch point in code generated at run time at 0x[0-9a-f]+ \(\[anon\]\+0x[0-9a-f]+\), where the unpatched run from the same point exited with status 0$/);
    expect(f.hint).toMatch(/hook stub.*rdi/);
    expect(f.evidence.map((e) => e.label)).toEqual(expect.arrayContaining(['faulting instruction', 'fault', 'call chain #1 (frame pointer or stack scan)', 'the unpatched baseline from the same point']));
    expect(result.baseline?.ended).toMatch(/exited with status 0/);
    // The patched run's output is kept, not the baseline's.
    expect(result.run?.output.map((l) => l.text).join('')).toContain('convert object 1 from version 1 to 2');
    expect(result.run?.output.map((l) => l.text).join('')).not.toContain('obj 1 version 1 hello a=2008\nobj 2 version 1 foo a=2008\nobj 1 version 1 hello a=2008\nobj 2 version 1 foo a=2008\nobj 1 version 1 hello a=2008\n');
  });

  it('vtable, final class: the devirtualised direct call in main', async () => {
    const { result } = await verify('vtable-swap', 'main-final', 'Imp1::hello()', '--strategy', 'vtable', '--with', 'Imp1Fixed::hello()');
    const f = result.findings.find((x) => x.code === 'OLD_FUNCTION_STILL_CALLED' && x.severity === 'error')!;
    expect(f.message).toMatch(/a devirtualised direct call at main\+0x[0-9a-f]+ \(\.\/main-final\)/);
  });

  it('vtable, the seed swap: hello and foo slots point at generated stubs, objects converted once each', async () => {
    const { result } = await verify('vtable-swap', 'main', 'Imp1::hello()', '--strategy', 'vtable', '--signal', 'USR1');
    expect(result.verdict).toBe('safe');
    expect(result.slotWrites!.map((w) => [w.location.split(' (')[0], w.afterTarget.replace(/\+0x[0-9a-f]+/, '')])).toEqual([
      ['vtable for Imp1', '[anon], code generated at run time'],
      ['vtable for Imp1', '[anon], code generated at run time'],
    ]);
  });

  it('--strategy is validated, and --trampoline does not apply to slots', async () => {
    expect(() => parseCommandLine(['main', 'patch.so', 'f', '--strategy', 'plt'])).toThrow(/--strategy must be prologue, got or vtable, not 'plt'/);
    const { result } = await verify('got-slot', 'main', 'compute_damage', '--strategy', 'got', '--trampoline', 'rel32');
    expect(result.verdict).toBe('error');
    expect(result.error).toMatch(/--trampoline applies to --strategy prologue only/);
  });
});

describe('OBJECT_NOT_CONVERTED on crafted observations', () => {
  it('flags a new method on an object still carrying the old vtable, and a second conversion of one object', async () => {
    const p = await launch('vtable-swap', 'main');
    const patch = p.dlopen('./patch.so', 2, 1_000_000);
    if ('error' in patch) throw new Error(patch.error);
    const patchObject = p.objects.find((o) => o.path === './patch.so')!;
    const { methods, tables } = newModuleMethods(p, patchObject);
    expect(methods.size).toBe(4); // Imp2::hello/foo, Imp1Fixed::hello/foo
    const newTable = tables.find((t) => t.symbol.name === '_ZTV4Imp2')!;
    const oldTable = vtablesOf(p, [p.executable]).find((t) => t.symbol.name === '_ZTV4Imp1')!;
    const method = [...methods][0]!;
    const converter = patchObject.base + patchObject.elf!.dynamicSymbols.find((s) => s.name === 'converter')!.value;
    const observed = (entries: SlotObservation['entries']): SlotObservation => ({ stop: { reason: 'budget', instructions: 0 }, oldCalls: [], oldCallCount: 0, replacementRuns: 0, entries, hookTransfers: [] });
    const module = { methods, tables, converters: new Set([converter]) };

    const good = observed([
      { address: converter, rdi: 0x1000n, vptr: oldTable.start + 16n, at: 1 },
      { address: method, rdi: 0x1000n, vptr: newTable.start + 16n, at: 2 },
    ]);
    expect(checkObjectsConverted(p, good, module)).toEqual([]);

    const unconverted = checkObjectsConverted(p, observed([{ address: method, rdi: 0x2000n, vptr: oldTable.start + 16n, at: 5 }]), module);
    expect(unconverted).toHaveLength(1);
    expect(unconverted[0]!.message).toMatch(/ran on object 0x2000, which still has the vtable pointer vtable for Imp1 \(_ZTV4Imp1\+0x10\)/);

    const twice = checkObjectsConverted(p, observed([
      { address: converter, rdi: 0x3000n, vptr: oldTable.start + 16n, at: 1 },
      { address: converter, rdi: 0x3000n, vptr: newTable.start + 16n, at: 9 },
    ]), module);
    expect(twice[0]!.message).toMatch(/the converter ran twice on object 0x3000/);
  });
});

describe('WRITE_OUTSIDE_PATCH_TARGET for the prologue strategy (program-driven)', () => {
  const site = 0x5555_5555_5100n;
  const inMain = (a: bigint): boolean => a >= 0x5555_5555_4000n && a < 0x5555_5555_6000n;
  const target = { site, length: 12, name: 'need_fix_func' };

  it('is silent for the trampoline run at the entry and for writes into the patch', () => {
    expect(checkCodeWritesOutside([
      { address: site, length: 12, location: 'need_fix_func+0x0', atTarget: true },
      { address: 0x7fff_f7fb_0000n, length: 12, location: 'need_fix_func+0x0 (./patch.so)', atTarget: false },
    ], target, inMain)).toEqual([]);
  });

  it('flags bytes written before the entry and a second write elsewhere in main', () => {
    const findings = checkCodeWritesOutside([
      { address: site - 4n, length: 16, location: 'other_func+0x1c', atTarget: true },
      { address: site + 0x200n, length: 2, location: 'main_loop+0x10', atTarget: false },
    ], target, inMain);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toBe("main's handler wrote code outside the bytes it patches at need_fix_func, first at other_func+0x1c (4 bytes)");
    expect(findings[0]!.evidence.map((e) => e.label)).toEqual(['written before the entry', "written elsewhere in the process's code", 'the patch target']);
  });
});

describe('hook stubs keep the calling convention (STACK_IMBALANCE, REGISTER_CLOBBERED)', () => {
  const state = (): HookTransfer['atStub'] => Object.fromEntries(TRANSFER_REGISTERS.map((r, i) => [r, 0x1000n + BigInt(i)])) as HookTransfer['atStub'];
  const transfer = (change: Partial<HookTransfer['atMethod']>): HookTransfer => ({ stub: 0x7fff_f7fb_a000n, method: 0x5555_5555_6520n, at: 300, atStub: state(), atMethod: { ...state(), ...change } });

  it('the seed stub done right: the method starts with the caller\'s rsp, this and arguments', async () => {
    const p = await launch('vtable-swap', 'main');
    expect(checkHookTransfers(p, [transfer({})])).toEqual([]);
  });

  it('a stub that leaves a push behind, or loses rsi and this', async () => {
    const p = await launch('vtable-swap', 'main');
    const findings = checkHookTransfers(p, [transfer({ rsp: 0x1000n - 8n }), transfer({ rsi: 0xdeadn, rdi: 0xbeefn })]);
    expect(findings.map((f) => f.code)).toEqual(['STACK_IMBALANCE', 'REGISTER_CLOBBERED']);
    expect(findings[0]!.message).toMatch(/with rsp -0x8 from where the caller's call left it/);
    expect(findings[1]!.message).toMatch(/changes rdi, rsi on the way to _ZN4Imp15helloEv\+0x0 \(\.\/main\): the method runs on the wrong `this`/);
  });
});

describe('the slot strategies on the system model (the real ld.so relocated the slots)', () => {
  it('locate runs start-up to _start, then finds the JUMP_SLOT the real ld.so bound in main\'s GOT', async () => {
    const p = await launchSystem('got-slot', 'main');
    expect(p.objects).toEqual([]); // nothing in the link map before ld.so ran
    const plan = await planStatic({ main: bytes('got-slot/main'), mainName: 'main', patch: bytes('got-slot/patch.so'), patchName: 'patch.so', symbol: 'compute_damage', strategy: 'got' });
    const located = strategyFor('got').locate(plan, p);
    const main = p.executable;
    expect(p.engine.readRegister('rip')).toBe(main.base + plan.mainElf.header.entry);
    const lib = p.objects.find((o) => o.path.endsWith('/libgame.so'))!;
    expect(located.site).toBe(lib.base + located.target.address);
    expect(located.file).toBe('libgame.so');
    const slots = located.slots!.plan.slots;
    expect(slots.map((s) => s.what)).toEqual([`R_X86_64_JUMP_SLOT of ${main.path}`]);
    // The slot is where readelf puts main's JUMP_SLOT for compute_damage, holding what ld.so stored.
    const reloc = plan.mainElf.relocations.find((r) => r.symbol?.name === 'compute_damage')!;
    expect(slots[0]!.address).toBe(main.base + reloc.offset);
    expect(p.mem.u64(slots[0]!.address)).toBe(located.site);
  });

  it('vtable: the slots of Imp1 and the derived Imp1Loud in main, read after relocation', async () => {
    const p = await launchSystem('vtable-swap', 'main');
    const plan = await planStatic({ main: bytes('vtable-swap/main'), mainName: 'main', patch: bytes('vtable-swap/patch.so'), patchName: 'patch.so', symbol: 'Imp1::hello()', strategy: 'vtable' });
    const slots = strategyFor('vtable').locate(plan, p).slots!.plan.slots;
    expect(slots.map((s) => s.what.split(' [')[0])).toEqual(['vtable for Imp1', 'vtable for Imp1Loud']);
    expect(new Set(slots.map((s) => p.mem.u64(s.address))).size).toBe(1);
  });

  it('runs on the system model it was asked for, and reports the slot as the real ld.so bound it', async () => {
    const { result, exitCode } = await verifyOnSystem('got-slot', 'main-internal', 'compute_damage', '--strategy', 'got');
    expect(exitCode).toBe(1);
    expect(result.run?.process?.model).toBe('system');
    expect(result.run?.process?.libc).toMatch(/^glibc /);
    expect(result.slotWrites![0]).toMatchObject({ beforeTarget: expect.stringMatching(/^compute_damage\+0x0 \(.*\/libgame\.so\)$/), afterTarget: expect.stringMatching(/^compute_damage\+0x0 \(.*patch\.so\)$/) });
    const f = result.findings.find((x) => x.code === 'OLD_FUNCTION_STILL_CALLED' && x.severity === 'error')!;
    expect(f.evidence.map((e) => e.location)).toEqual([expect.stringMatching(/^game_tick\+0x8 \(.*\/libgame\.so\)$/)]);
  });

  it('the hook stub reading this from the stack: CRASH_AFTER_PATCH against the baseline, on the real glibc', async () => {
    const { result } = await verifyOnSystem('vtable-swap', 'main-stack-this', 'Imp1::hello()', '--strategy', 'vtable', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'CRASH_AFTER_PATCH')!;
    expect(f.message).toMatch(/dies of SIGSEGV .* in code generated at run time .* where the unpatched run from the same point exited with status 0/);
    expect(result.run?.process?.model).toBe('system');
  });
});

describe('the slot strategies and the other options', () => {
  it('--explore tries the prologue only: a slot strategy is refused, saying so', async () => {
    const { result, exitCode } = await verify('got-slot', 'main', 'compute_damage', '--strategy', 'got', '--explore', '0:50');
    expect(exitCode).toBe(2);
    expect(result.error).toMatch(/--explore tries --strategy prologue only, not got/);
  });

  it('--lookup does not apply to slots', async () => {
    const { result } = await verify('got-slot', 'main', 'compute_damage', '--strategy', 'got', '--lookup', 'symtab');
    expect(result.error).toMatch(/--lookup applies to --strategy prologue only/);
  });
});

describe('the slot strategies on UnicornEngine (stubs model): each corpus case as expect.json says, the same slots as on the WasmEngine', async () => {
  let missing: string | null = null;
  try {
    (await createEngine('unicorn')).close();
  } catch (e) {
    missing = e instanceof Error ? e.message : String(e);
  }
  if (missing !== null && process.env.CI === 'true') throw new Error(`UnicornEngine unavailable on CI: ${missing}`);
  const cases = corpusCases().filter((c) => c.scenario === 'got-slot' || c.scenario === 'vtable-swap');
  it('covers every case of both scenarios', () => expect(cases.length).toBe(15));
  for (const c of cases) {
    it.skipIf(missing !== null)(`${c.scenario}/${c.name}`, async () => {
      const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args, '--engine', 'unicorn']);
      if (request.kind !== 'verify') throw new Error('not a verify command');
      const run = (engine: 'wasm' | 'unicorn'): Promise<CommandOutcome> => runCommand(request.command, new Uint8Array(readFileSync(c.mainPath)), new Uint8Array(readFileSync(c.patchPath)), engine, neededLibraries(c));
      const [unicorn, wasm] = [await run('unicorn'), await run('wasm')];
      expect(unicorn.result.run?.engine).toBe('unicorn');
      expect({ verdict: unicorn.result.verdict, exitCode: unicorn.exitCode, findings: unicorn.result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}:${f.severity}`).sort() }).toEqual({
        verdict: c.verdict, exitCode: c.exitCode, findings: c.findings.map((f) => `${f.code}:${f.severity}`).sort(),
      });
      expect(unicorn.result.slotWrites).toEqual(wasm.result.slotWrites);
      expect(unicorn.result.run?.output).toEqual(wasm.result.run?.output);
    });
  }
});

describe('CRASH_AFTER_PATCH names the mprotect that took a page away from the program', () => {
  it('got-slot/main-lazy: the handler restores read-only on the lazy GOT page, and .data beside it faults at exit (stubs model)', async () => {
    const { result } = await verify('got-slot', 'main-lazy', 'compute_damage', '--strategy', 'got', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'CRASH_AFTER_PATCH')!;
    // __do_global_dtors_aux's store to completed.0 (.data), where the native run dies too.
    expect(f.message).toMatch(/dies of SIGSEGV \d+ instructions after the patch point at 0x[0-9a-f]+ \(\.\/main-lazy\+0x129c\), where the unpatched run from the same point exited with status 0$/);
    const page = f.evidence.find((e) => e.label === 'the page was protected after the patch point')!;
    expect(page.text).toMatch(/^mprotect\(0x[0-9a-f]+000, 0x1000, R--\) by got_patch\+0x[0-9a-f]+ \(\.\/main-lazy\) at instruction \d+: it covers 0x[0-9a-f]+, which the program still writes$/);
    expect(f.hint).toMatch(/left a page read-only that the program still writes/);
  });

  it('the same on the system model: the real ld.so\'s lazy binding of usleep faults on that page', async () => {
    const { result } = await verifyOnSystem('got-slot', 'main-lazy', 'compute_damage', '--strategy', 'got', '--signal', 'USR1');
    const f = result.findings.find((x) => x.code === 'CRASH_AFTER_PATCH')!;
    expect(f.message).toMatch(/dies of SIGSEGV .*ld-linux-x86-64\.so\.2/);
    expect(f.evidence.find((e) => e.label === 'the page was protected after the patch point')?.text).toMatch(/R--\) by the program \(an mprotect system call\)/);
  });
});
