// Thread switches inside the engine (the WasmEngine's ThreadSlots) and by the host give the same
// schedule: the same run log, switch count, per-thread instruction counts, output and clock for
// the same seed, also across a snapshot restored mid-run; the engine path really switched inside
// the core (most switches without a return to the host).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs } from '../../../src/cli/sysroot.js';
import { createEngine } from '../../../src/engine/index.js';
import { SystemProcess } from '../../../src/loader/system/index.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

async function start(name: string, threadSwitch: 'engine' | 'host', seed: bigint, quantum?: number) {
  const bytes = new Uint8Array(readFileSync(new URL(name, FIXTURES)));
  const engine = await createEngine('wasm');
  const p = SystemProcess.create(engine, {
    vfs: buildVfs('/', [{ guest: name, bytes }]), executable: `./${name}`, envp: ['LC_ALL=C'], cwd: GUEST_CWD,
    scheduleSeed: seed, threadSwitch, ...(quantum ? { quantum } : {}),
  });
  return { p, engine };
}

/** Everything a schedule decides that a report or a replay shows. */
function outcome(p: SystemProcess, stop: unknown) {
  return {
    stop,
    instructions: p.instructions,
    switches: p.threads.switches,
    ran: p.threads.ran.map((r) => `${r.at}:${r.tid}`).join(' '),
    perThread: p.threads.threads.map((t) => [t.tid, t.name, t.state, t.instructions, t.createdAt]),
    output: p.output.map((c) => `${c.fd}@${c.at}:${c.text}`),
    clock: p.kernel.clock.now(1),
    rip: p.engine.readRegister('rip'),
  };
}

describe('thread switches inside the engine and by the host', () => {
  // [fixture, seed, quantum, the least share of switches made in the engine]: CPU-bound threads
  // switch in the engine; a switch to a woken thread (a result in rax) or past a deadline is the host's.
  const cases: [string, bigint, number | undefined, number][] = [
    ['interleave', 1n, 1000, 0.9], ['interleave', 5n, undefined, 0.9], ['interleave', 6n, 40, 0.9] /* more switches than the engine's log holds */, ['pool', 3n, undefined, 0.3], ['blocking', 7n, 700, 0], ['spin', 2n, undefined, 0.2],
  ];
  for (const [name, seed, quantum, share] of cases) {
    it(`${name}, seed ${seed}${quantum ? `, quantum ${quantum}` : ''}: the same run log, counts, output and clock`, async () => {
      const runs = [];
      for (const how of ['engine', 'host'] as const) {
        const { p, engine } = await start(name, how, seed, quantum);
        try {
          expect(p.threads.switchesInEngine).toBe(how === 'engine');
          const stop = p.run({ maxInstructions: 50_000_000 });
          expect(stop.reason).toBe('exited');
          runs.push({ how, engineSwitches: p.threads.engineSwitches, outcome: outcome(p, stop) });
        } finally {
          engine.close();
        }
      }
      const [inEngine, onHost] = runs;
      expect(inEngine!.outcome).toEqual(onHost!.outcome);
      expect(onHost!.engineSwitches).toBe(0);
      expect(inEngine!.engineSwitches).toBeGreaterThanOrEqual(Math.ceil(inEngine!.outcome.switches * share));
    }, 120_000);
  }

  it('a thread switched in on a breakpoint (a watched instruction in the workers\' loop) arrives there as after the host\'s switch', async () => {
    const runs = [];
    for (const how of ['engine', 'host'] as const) {
      const { p, engine } = await start('interleave', how, 4n, 50);
      try {
        // run+0x38 (`add rax, 1`), inside the workers' inner loop: a quantum often ends just before it.
        p.watchCalls([p.image.main.base + 0x1238n]);
        const stop = p.run({ maxInstructions: 1_500_000 });
        const calls = p.events.filter((e) => e.kind === 'call').map((e) => e.at);
        runs.push({ outcome: outcome(p, stop), calls, engineSwitches: p.threads.engineSwitches });
      } finally {
        engine.close();
      }
    }
    const [inEngine, onHost] = runs;
    expect(inEngine!.outcome).toEqual(onHost!.outcome);
    expect(inEngine!.calls).toEqual(onHost!.calls);
    expect(inEngine!.calls.length).toBeGreaterThan(1000);
    // Switches that landed on the breakpoint: the engine made the switch and left the arrival to the host.
    const calls = new Set(inEngine!.calls);
    const landed = inEngine!.outcome.ran.split(' ').filter((r) => calls.has(Number(r.split(':')[0])));
    expect(landed.length).toBeGreaterThan(0);
    expect(inEngine!.engineSwitches).toBeGreaterThan(0);
  }, 120_000);

  it('a snapshot taken mid-run holds the parked threads (their slots): restored, the engine path replays the host path', async () => {
    const results = [];
    for (const how of ['engine', 'host'] as const) {
      const { p, engine } = await start('interleave', how, 9n, 1000);
      try {
        expect(p.run({ maxInstructions: 300_000 }).reason).toBe('budget');
        expect(p.threads.live.length).toBe(4);
        const snapshot = p.snapshot();
        const first = outcome(p, p.run({ maxInstructions: 50_000_000 }));
        p.restore(snapshot);
        // Another seed from the snapshot (as --schedules does), then the first again.
        p.threads.reseed(10n);
        const other = outcome(p, p.run({ maxInstructions: 50_000_000 }));
        p.restore(snapshot);
        const again = outcome(p, p.run({ maxInstructions: 50_000_000 }));
        expect(again).toEqual(first);
        expect(other.ran).not.toBe(first.ran);
        results.push([first, other]);
      } finally {
        engine.close();
      }
    }
    expect(results[0]).toEqual(results[1]);
  }, 120_000);
});
