// Lockstep differential: seeded random instances of every instruction form the WebAssembly core
// supports, run one at a time on WasmEngine and on native Unicorn, compared after each one.
// Reproduce a failure with DIFF_SEED=<seed> (the message names seed and step).

import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { WasmEngine } from '../../src/engine/wasm-engine.js';
import { IN_CI, createUnicornEngine, createWasmEngine, engineAvailability } from './gen/engines.js';
import { analyseInstance, buildFormCatalog, randomInstance, type InstructionForm } from './gen/instruction-forms.js';
import { LAYOUT, prepareMachine, runLockstep, type LockstepStats } from './gen/lockstep.js';
import { Rng } from './gen/rng.js';
import { runX87Lockstep, type X87Stats } from './gen/x87-lockstep.js';

const TOTAL_INSTRUCTIONS = Number(process.env.DIFF_INSTRUCTIONS ?? 200_000);
const SEQUENCE_LENGTH = 10_000;
const BASE_SEED = Number(process.env.DIFF_SEED ?? 0x5eed);
const X87_INSTRUCTIONS = Number(process.env.DIFF_X87_INSTRUCTIONS ?? 8_000);
const X87_SEQUENCE_LENGTH = 200;

const [unicorn, wasm] = await Promise.all([engineAvailability('unicorn'), engineAvailability('wasm')]);
const skipReason = unicorn.unavailable ?? wasm.unavailable;

/** Forms iced finds in the opcode space that the core decodes, with the same length, and that can be compared. */
interface ComparableForms {
  forms: InstructionForm[];
  supported: number;
  catalog: number;
  lengthDisagreements: string[];
  /** Supported forms left out, by reason (the last reason seen for the form). */
  notCompared: Map<string, string[]>;
}

async function comparableForms(core: WasmEngine): Promise<ComparableForms> {
  const catalog = buildFormCatalog(new Rng(BASE_SEED), 6);
  const notCompared = new Map<string, string[]>();
  const forms: InstructionForm[] = [];
  const lengthDisagreements: string[] = [];
  let supported = 0;
  const rng = new Rng(BASE_SEED ^ 0xf0f0);
  for (const form of catalog.values()) {
    const probes = form.examples.map((bytes) => ({ bytes, probe: core.probe(bytes) }));
    const bad = probes.find((p) => p.probe.supported && p.probe.length !== p.bytes.length);
    if (bad) lengthDisagreements.push(`${form.name}: iced ${bad.bytes.length} bytes, core ${bad.probe.length}`);
    const keep = probes.filter((p) => p.probe.supported && p.probe.length === p.bytes.length).map((p) => p.bytes);
    if (keep.length === 0) continue;
    supported++;
    const usable: InstructionForm = { ...form, examples: keep };
    // comparable when some random instance passes the filters
    let why = '';
    for (let i = 0; i < 64; i++) {
      const analysed = analyseInstance(randomInstance(usable, rng));
      if (!('excluded' in analysed)) {
        forms.push(usable);
        why = '';
        break;
      }
      why = analysed.excluded.replace(/ \(.*$/, '');
    }
    if (why) notCompared.set(why, [...(notCompared.get(why) ?? []), form.name]);
  }
  return { forms, supported, catalog: catalog.size, lengthDisagreements, notCompared };
}

describe('lockstep differential: WasmEngine vs UnicornEngine', () => {
  if (skipReason) {
    if (IN_CI) {
      it('needs both engines in CI', () => expect.fail(`${skipReason} (CI must build the wasm core and install libunicorn2)`));
    } else {
      it.skip(`SKIPPED: ${skipReason}`, () => {});
    }
    return;
  }

  const engines: Engine[] = [];
  afterAll(() => engines.forEach((e) => e.close()));

  it(`agrees on ${TOTAL_INSTRUCTIONS} random instructions over every supported form`, async () => {
    const probeCore = await createWasmEngine();
    engines.push(probeCore);
    const { forms, supported, catalog, lengthDisagreements, notCompared } = await comparableForms(probeCore);
    expect(lengthDisagreements, 'the core decodes these forms to a different length than iced').toEqual([]);
    expect(forms.length).toBeGreaterThan(0);

    const stats: LockstepStats = { compared: 0, retired: 0, perForm: new Map(), nanPayloadDifferences: new Map() };
    // DIFF_COLLECT=1 (triage): keep going past mismatches and list one per form at the end.
    const collected = process.env.DIFF_COLLECT === '1' ? new Map<string, string>() : undefined;
    const started = performance.now();
    for (let sequence = 0; stats.compared < TOTAL_INSTRUCTIONS; sequence++) {
      const seed = BASE_SEED + sequence;
      const rng = new Rng(seed);
      const data = rng.fill(new Uint8Array(LAYOUT.dataSize));
      const subject = await createWasmEngine();
      const oracle = await createUnicornEngine();
      try {
        prepareMachine(subject, data);
        prepareMachine(oracle, data);
        runLockstep(subject, oracle, forms, rng, seed, Math.min(SEQUENCE_LENGTH, TOTAL_INSTRUCTIONS - stats.compared), stats, collected);
      } finally {
        subject.close();
        oracle.close();
      }
    }
    const seconds = (performance.now() - started) / 1000;

    const missing = forms.filter((f) => !stats.perForm.has(f.name)).map((f) => f.name);
    const perForm = [...stats.perForm].sort((a, b) => a[0].localeCompare(b[0]));
    console.log(
      [
        `differential: ${stats.compared} instructions compared (${stats.retired} retired, the rest faulted identically) in ${seconds.toFixed(1)} s`,
        `forms: ${catalog} valid in the opcode space, ${supported} decoded by the core, ${forms.length} comparable, ${stats.perForm.size} exercised`,
        `supported but not compared: ${[...notCompared].map(([why, names]) => `${why}: ${names.length} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', ...' : ''})`).join('; ')}`,
        stats.nanPayloadDifferences.size > 0
          ? `NaN payloads not compared (Unicorn's SSE NaN propagation departs from the CPU, see unicorn-oracle-gaps.test.ts): ${[...stats.nanPayloadDifferences].map(([name, n]) => `${name} (${n}x)`).join(', ')}`
          : 'NaN payloads: no divergence',
        `per form (compared/retired): ${perForm.map(([name, c]) => `${name} ${c.compared}/${c.retired}`).join(', ')}`,
      ].join('\n'),
    );
    if (collected) {
      console.log(`${collected.size} forms disagree:\n${[...collected].map(([name, m]) => `${name}: ${m}`).join('\n')}`);
      expect(collected.size).toBe(0);
    }
    expect(stats.compared).toBeGreaterThanOrEqual(TOTAL_INSTRUCTIONS);
    expect(missing, 'supported forms never exercised').toEqual([]);
  });

  it(`agrees on ${X87_INSTRUCTIONS} random x87 instructions (80-bit registers bit-exact, fcw, fsw, ftw)`, async () => {
    const stats: X87Stats = { compared: 0, perForm: new Map(), knownGaps: new Map() };
    const started = performance.now();
    for (let sequence = 0; stats.compared < X87_INSTRUCTIONS; sequence++) {
      const seed = BASE_SEED + 0x8700 + sequence;
      const subject = await createWasmEngine();
      const oracle = await createUnicornEngine();
      try {
        const mismatch = runX87Lockstep(subject, oracle, new Rng(seed), seed, X87_SEQUENCE_LENGTH, stats);
        expect(mismatch, 'x87 lockstep mismatch').toBeUndefined();
      } finally {
        subject.close();
        oracle.close();
      }
    }
    console.log(
      `x87 differential: ${stats.compared} instructions compared in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `known Unicorn deviations accepted: ${[...stats.knownGaps].map(([k, n]) => `${k} ${n}x`).join(', ') || 'none'}\n` +
        `per form: ${[...stats.perForm].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    expect(stats.compared).toBeGreaterThanOrEqual(X87_INSTRUCTIONS);
    expect(stats.perForm.size, 'x87 forms exercised').toBeGreaterThan(60);
  });
});
