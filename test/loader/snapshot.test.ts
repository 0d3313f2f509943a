// snapshot()/restore() of the whole process: a run after restore repeats the run after the
// snapshot exactly (output, events, memory, link map, heap, clock), even when that run
// dlopened a library, allocated, slept, took a signal and exited through atexit.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess, type ProcessStop } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, compileShared, hasGcc, tempDir } from './native.js';

const LIBRARY = `
#include <stdio.h>
#include <stdlib.h>
static char *kept;
__attribute__((constructor)) static void init(void) { kept = malloc(100); printf("lib init\\n"); }
long lib_work(long x) { kept[0] = (char)x; return x * 3; }
`;

const PROGRAM = `
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static volatile int signals;
static char *first;
static void on_usr1(int sig) { signals++; printf("signal %d\\n", sig); }
static void bye(void) { printf("bye after %d signals\\n", signals); }
static long now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000 + t.tv_nsec / 1000000; }
int main(void) {
  signal(SIGUSR1, on_usr1);
  atexit(bye);
  first = malloc(32);
  long start = now_ms();
  void *h = dlopen("./libsnap.so", RTLD_NOW);
  if (!h) { printf("dlopen: %s\\n", dlerror()); return 1; }
  long (*work)(long) = (long (*)(long))dlsym(h, "lib_work");
  for (int i = 0; i < 4; i++) {
    char *p = malloc(48 + i * 16);
    memset(p, 'a' + i, 48);
    printf("round %d: work=%ld heap+%ld\\n", i, work(i), (long)(p - first));
    if (i % 2) free(p);
    for (volatile int spin = 0; spin < 15000; spin++) {}
    struct timespec nap = { 0, 250000000 };
    nanosleep(&nap, 0);
  }
  printf("slept %ld ms\\n", now_ms() - start);
  return 0;
}
`;

interface RunRecord {
  stop: ProcessStop;
  output: string;
  events: string;
  regions: string;
  memory: string;
  objects: string[];
  heapBytes: bigint;
}

/** Everything a run leaves behind, in comparable form; memory as a digest of every mapped byte. */
function record(p: EmulatedProcess, stop: ProcessStop): RunRecord {
  const digest = createHash('sha256');
  for (const m of p.regions()) {
    if ((m.perms & 1) === 0) continue; // unreadable pages (guards) hold nothing
    digest.update(`${m.begin}:${m.end}:${m.perms}`);
    digest.update(p.mem.read(m.begin, Number(m.end - m.begin)));
  }
  const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x instanceof Uint8Array ? [...x] : x));
  return {
    stop,
    output: text(p.output),
    events: text(p.events),
    regions: text(p.regions()),
    memory: digest.digest('hex'),
    objects: p.objects.map((o) => o.path),
    heapBytes: p.heap.liveBytes,
  };
}

describe.skipIf(!hasGcc)('snapshot and restore of the whole process', () => {
  it('a run after restore repeats the run after the snapshot: dlopen, mallocs, sleeps, a signal, atexit', async () => {
    const dir = tempDir('snapshot');
    const lib = compileShared(dir, 'libsnap', LIBRARY);
    const exe = compileC(dir, 'main', PROGRAM, ['-O1', '-ldl']);
    const p = EmulatedProcess.create(await createTestEngine(), {
      main: new Uint8Array(readFileSync(exe)), mainPath: './main',
      libraries: [{ path: './libsnap.so', bytes: new Uint8Array(readFileSync(join(dir, 'libsnap.so'))) }],
    });
    // Up to the first clock reading: the handler is installed, nothing is dlopened yet.
    const clockFn = p.symbolAddress('now_ms') ?? p.symbolAddress('main')!;
    expect(p.run({ maxInstructions: 200_000, stopAtCallOf: [clockFn] })).toMatchObject({ reason: 'call' });
    const atSnapshot = record(p, { reason: 'budget', instructions: p.instructions });
    const snapshot = p.snapshot();
    const signalAt = { instruction: p.instructions + 150_000, signo: 10 };

    const first = record(p, p.run({ maxInstructions: 5_000_000, signalAt }));
    expect(first.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toMatch(/^lib init\n[^]*signal 10\n[^]*round 3: work=9 heap\+\d+\nslept 1000 ms\nbye after 1 signals\n$/);
    expect(first.objects).toContain('./libsnap.so');

    p.restore(snapshot);
    // Restored: the dlopen, the heap, the output and the events of the first run are gone.
    expect(record(p, { reason: 'budget', instructions: p.instructions })).toEqual(atSnapshot);
    const second = record(p, p.run({ maxInstructions: 5_000_000, signalAt }));
    expect(second).toEqual(first);

    // And a second restore of the same snapshot still holds.
    p.restore(snapshot);
    expect(record(p, p.run({ maxInstructions: 5_000_000, signalAt }))).toEqual(first);
  });

  it('a snapshot taken inside a dlopen (the library\'s constructor running) restores the call in progress', async () => {
    const dir = tempDir('snapshot-mid');
    compileShared(dir, 'libsnap', LIBRARY);
    const exe = compileC(dir, 'main', PROGRAM, ['-O1', '-ldl']);
    const create = async (): Promise<EmulatedProcess> => EmulatedProcess.create(await createTestEngine(), {
      main: new Uint8Array(readFileSync(exe)), mainPath: './main',
      libraries: [{ path: './libsnap.so', bytes: new Uint8Array(readFileSync(join(dir, 'libsnap.so'))) }],
    });
    // Runs are deterministic: the constructor's output happens at the same count every time.
    const explore = await create();
    explore.run({ maxInstructions: 5_000_000 });
    const initOutputAt = explore.output[0]!.at;
    const p = await create();
    expect(p.run({ maxInstructions: initOutputAt - 2 })).toMatchObject({ reason: 'budget' });
    expect(p.objects.map((o) => o.path)).toContain('./libsnap.so');
    expect(p.stdoutText()).toBe('');
    const snapshot = p.snapshot();
    const first = record(p, p.run({ maxInstructions: 5_000_000 }));
    expect(first.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toMatch(/^lib init\nround 0/);
    p.restore(snapshot);
    expect(record(p, p.run({ maxInstructions: 5_000_000 }))).toEqual(first);
  });
});
