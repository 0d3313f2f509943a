// The system process model on both engines: the real ld.so, glibc and libstdc++ of this
// machine's root run on WasmEngine and on UnicornEngine, threads included. Start-up to main
// must retire the same instructions (the same trace) and reach main with the same registers;
// corpus cases (the threaded pool, old scenarios and upstream programs of corpus/real) must
// give the same verdict, findings, instruction counts, patch point and output on both.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import { GPRS, type Engine } from '../../src/engine/engine.js';
import { createEngine } from '../../src/engine/index.js';
import { SystemProcess } from '../../src/loader/system/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import { REAL_CORPUS_DIR, corpusCases, neededLibraries, type ResolvedCase } from '../corpus/cases.js';
import { IN_CI, engineAvailability } from './gen/engines.js';

const [unicorn, wasm] = await Promise.all([engineAvailability('unicorn'), engineAvailability('wasm')]);
const skipReason = unicorn.unavailable ?? wasm.unavailable;
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** Every thread-pool case, and a sample of the old corpus (the got and vtable strategies too) and of corpus/real (C, C++, an interpreter). */
const CHOSEN = new Set([
  'thread-pool/*',
  'seed-classic/tool-patches-need-fix-func',
  'call-in-prologue/blocking-signal-handler-patches-suspended-frame',
  'loop-head/signal-handler-patches-total-amount',
  'cjson/tool-patches-order-total',
  'lua/signal-handler-patches',
  'tinyxml2/tool-patches-mangled-name',
  'picohttpparser/signal-handler-patches',
  'got-slot/tool-internal-call',
  'got-slot/signal-relro-no-mprotect',
  'vtable-swap/signal-converter',
  'vtable-swap/tool-final-devirtualised',
]);
const cases = [...corpusCases(), ...corpusCases(REAL_CORPUS_DIR)].filter(
  (c) => CHOSEN.has(`${c.scenario}/*`) || CHOSEN.has(`${c.scenario}/${c.name}`),
);

async function verifyOnSystem(c: ResolvedCase, engine: 'wasm' | 'unicorn'): Promise<CommandOutcome> {
  const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args, '--process', 'system', '--timeout', '900']);
  if (request.kind !== 'verify') throw new Error(`case ${c.name}: not a verify command`);
  return runCommand(request.command, bytes(c.mainPath), bytes(c.patchPath), engine, neededLibraries(c), {
    process: { model: 'system', vfs: () => buildVfs('/', directoryFiles(c.dir)) },
  });
}

/** What both engines must agree on (timing words excluded). */
function observable(outcome: CommandOutcome): Record<string, unknown> {
  const r = outcome.result;
  return {
    verdict: r.verdict,
    exitCode: outcome.exitCode,
    findings: r.findings.map((f) => `${f.code}:${f.severity}@${f.address?.toString(16) ?? '-'}`).sort(),
    instructions: r.run?.instructions,
    patchPoint: r.run?.patchPoint,
    endReason: r.run?.endReason ?? r.run?.ended,
    output: r.run?.output,
    model: r.run?.process?.model,
    error: r.error,
  };
}

/** Runs seed-classic's main on the system model until main's first instruction. */
async function startUpToMain(kind: 'wasm' | 'unicorn'): Promise<{ engine: Engine; process: SystemProcess; trace: bigint[] }> {
  const engine = await createEngine(kind);
  engine.enableTrace(1 << 17);
  const dir = 'corpus/seed-classic';
  const process = SystemProcess.create(engine, { vfs: buildVfs('/', directoryFiles(dir)), executable: './main', cwd: GUEST_CWD });
  const main = process.image.main.base + process.image.main.elf.symbols.find((s) => s.name === 'main')!.value;
  const stop = process.run({ maxInstructions: 5_000_000, until: main });
  expect(stop.reason).toBe('until');
  expect(engine.readRegister('rip')).toBe(main);
  return { engine, process, trace: engine.readTrace().map((t) => t.rip) };
}

describe('system model: WasmEngine and UnicornEngine agree', () => {
  if (skipReason) {
    if (IN_CI) it('needs both engines in CI', () => expect.fail(skipReason));
    else it.skip(`SKIPPED: ${skipReason}`, () => {});
    return;
  }

  it('start-up to main: the real ld.so and glibc retire the same instructions and leave the same registers', async () => {
    const [a, b] = [await startUpToMain('wasm'), await startUpToMain('unicorn')];
    try {
      expect(b.process.instructions).toBe(a.process.instructions);
      expect(a.process.instructions).toBeGreaterThan(50_000); // ld.so really relocated libc
      const firstDifference = a.trace.findIndex((rip, i) => b.trace[i] !== rip);
      expect(firstDifference, 'the first instruction where the traces part').toBe(-1);
      for (const reg of [...GPRS, 'rflags', 'fs_base'] as const) expect(b.engine.readRegister(reg), reg).toBe(a.engine.readRegister(reg));
    } finally {
      a.engine.close();
      b.engine.close();
    }
  }, 120_000);

  it('threads that exit (test/loader/threads/fixtures/interleave): the same schedule, output and counts per seed', async () => {
    const guest = bytes('test/loader/threads/fixtures/interleave');
    const run = async (kind: 'wasm' | 'unicorn', seed: bigint): Promise<unknown[]> => {
      const engine = await createEngine(kind);
      try {
        const p = SystemProcess.create(engine, { vfs: buildVfs('/', [{ guest: 'interleave', bytes: guest }]), executable: './interleave', cwd: GUEST_CWD, scheduleSeed: seed });
        const stop = p.run({ maxInstructions: 50_000_000 });
        return [stop.reason, p.instructions, p.threads.switches, p.threads.ran, p.stdoutText(1)];
      } finally {
        engine.close();
      }
    };
    for (const seed of [1n, 5n]) {
      const onWasm = await run('wasm', seed);
      expect(onWasm[0]).toBe('exited');
      expect(await run('unicorn', seed), `seed ${seed}`).toEqual(onWasm);
    }
  }, 180_000);

  it('chooses cases from the threaded pool, the old corpus and corpus/real', () => {
    expect(cases.filter((c) => c.scenario === 'thread-pool').length).toBeGreaterThanOrEqual(3);
    expect(cases.length).toBe(cases.filter((c) => c.scenario === 'thread-pool').length + CHOSEN.size - 1);
  });

  for (const c of cases) {
    it(`${c.scenario}/${c.name}`, async () => {
      const onWasm = observable(await verifyOnSystem(c, 'wasm'));
      const onUnicorn = observable(await verifyOnSystem(c, 'unicorn'));
      expect(onUnicorn).toEqual(onWasm);
      expect(onWasm.model).toBe('system');
      expect(onWasm.verdict).toBe(c.verdict);
    }, 900_000);
  }
});
