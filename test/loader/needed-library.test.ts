// DT_NEEDED libraries the sandbox does not emulate: found as ld.so finds them (RUNPATH with
// $ORIGIN) among the supplied files, mapped into the global scope, relocated before the
// executable and initialised before it; a missing one is a clear LoaderError.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess, LoaderError } from '../../src/loader/index.js';
import { collectNeededLibraries, neededLibraryCandidates } from '../../src/verify/libraries.js';
import { createTestEngine } from './engine.js';

const dir = new URL('../../corpus/got-slot/', import.meta.url).pathname;
const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(dir + p));

describe('a needed library next to main (got-slot: RUNPATH $ORIGIN)', () => {
  it('is loaded from main\'s directory and the program runs as natively, its GOT patcher included', async () => {
    const p = EmulatedProcess.create(await createTestEngine(), {
      main: bytes('main'),
      mainPath: './main',
      libraries: [{ path: './patch.so', bytes: bytes('patch.so') }, { path: './libgame.so', bytes: bytes('libgame.so') }],
      argv: ['4', '2'],
    });
    expect(p.objects.map((o) => o.path)).toEqual(['./main', './libgame.so', expect.any(String)]);
    expect(p.run({ maxInstructions: 5_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toContain('compute_damage v1 level 1\nround 1 damage 3\ndo fix\nfix result 0\ncompute_damage v2 level 2\nround 2 damage 8\n');
    // main's GOT slot was bound to libgame.so's definition at start-up.
    const slot = p.relocationBindings.find((b) => b.object === './main' && b.symbol === 'compute_damage');
    expect(slot?.boundTo?.object).toBe('./libgame.so');
  });

  it('missing: says which library, where ld.so would have looked, and what to do', async () => {
    const engine = await createTestEngine();
    let error: unknown;
    try {
      EmulatedProcess.create(engine, { main: bytes('main'), mainPath: './main', libraries: [], argv: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoaderError);
    expect((error as Error).message).toMatch(/needs libgame\.so.*searched \.\/libgame\.so.*next to the executable/);
  });
});

describe('collectNeededLibraries', () => {
  it('lists $ORIGIN candidates and reads only them', () => {
    expect(neededLibraryCandidates(bytes('main'))).toEqual([{ needed: 'libgame.so', candidates: ['libgame.so'] }]);
    const asked: string[] = [];
    const found = collectNeededLibraries(bytes('main'), (path) => {
      asked.push(path);
      return path === 'libgame.so' ? bytes('libgame.so') : undefined;
    });
    expect(asked).toEqual(['libgame.so']);
    expect(found.map((f) => f.path)).toEqual(['libgame.so']);
  });

  it('a main without RUNPATH needs nothing from its directory', () => {
    const seed = new Uint8Array(readFileSync(new URL('../../corpus/seed-classic/main', import.meta.url)));
    expect(collectNeededLibraries(seed, () => { throw new Error('must not read'); })).toEqual([]);
  });
});
