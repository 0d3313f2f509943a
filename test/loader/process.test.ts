// mprotect semantics, the signal frame layout and the sandbox's walls, each compared with
// the same C program run natively on this machine.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, runNative, tempDir } from './native.js';

async function emulate(exe: string, argv: string[] = []): Promise<EmulatedProcess> {
  return EmulatedProcess.create(await createTestEngine(), { main: new Uint8Array(readFileSync(exe)), mainPath: './prog', argv });
}

const MPROTECT_PROGRAM = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
__attribute__((noinline)) int target(int x) { return x + 1; }
static char data[8192] __attribute__((aligned(4096)));
int main(void) {
  long ps = sysconf(_SC_PAGESIZE);
  char *page = (char *)((unsigned long)&target & ~(ps - 1));
  struct { const char *what; void *addr; size_t len; int prot; } cases[] = {
    { "aligned rwx", page, ps, PROT_READ | PROT_WRITE | PROT_EXEC },
    { "misaligned", page + 1, ps, PROT_READ },
    { "bad prot bits", page, ps, 0x40 },
    { "zero length", page, 0, PROT_READ },
    { "unmapped", (void *)0x1000, ps, PROT_READ },
    { "partly unmapped", data, 1 << 30, PROT_READ },
    { "restore rx", page, ps, PROT_READ | PROT_EXEC },
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    errno = 0;
    int r = mprotect(cases[i].addr, cases[i].len, cases[i].prot);
    printf("%s: %d %s\\n", cases[i].what, r, r ? strerror(errno) : "ok");
  }
  return target(41) == 42 ? 0 : 1;
}
`;

const SIGNAL_FRAME_PROGRAM = `
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
static volatile uintptr_t seen[8];
static void handler(int sig, siginfo_t *info, void *ctx) {
  ucontext_t *uc = ctx;
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  seen[0] = (uintptr_t)&uc->uc_mcontext.gregs[REG_RIP] - (uintptr_t)uc;
  seen[1] = (uintptr_t)&uc->uc_mcontext.gregs[REG_RSP] - (uintptr_t)uc;
  seen[2] = (uintptr_t)info - (uintptr_t)uc;
  seen[3] = (uintptr_t)uc->uc_mcontext.fpregs % 64;
  seen[4] = (uintptr_t)uc->uc_mcontext.fpregs > (uintptr_t)info;
  seen[5] = sigismember(&uc->uc_sigmask, SIGUSR1) == 0 && info->si_signo == sig && info->si_code == SI_TKILL;
  seen[6] = ((uintptr_t)uc - 8) % 16 == 8 && sp > (uintptr_t)uc - 4096;
  seen[7] = uc->uc_mcontext.gregs[REG_RSP] - ((uintptr_t)uc - 8) >= 128;
}
int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  printf("rip@%lu rsp@%lu info@%lu fpalign=%lu fp-after-info=%lu mask+info=%lu ret-slot-aligned=%lu redzone-skipped=%lu\\n",
         (unsigned long)seen[0], (unsigned long)seen[1], (unsigned long)seen[2], (unsigned long)seen[3],
         (unsigned long)seen[4], (unsigned long)seen[5], (unsigned long)seen[6], (unsigned long)seen[7]);
  return 0;
}
`;

describe.skipIf(!hasGcc)('emulated process against native runs', () => {
  it('mprotect: EINVAL/ENOMEM as Linux, permissions really changed', async () => {
    const dir = tempDir('mprotect');
    const exe = compileC(dir, 'prog', MPROTECT_PROGRAM, ['-O1']);
    const native = runNative(exe, [], dir);
    const p = await emulate(exe);
    expect(p.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: native.status });
    expect(p.stdoutText()).toBe(native.stdout);
    expect(native.stdout).toContain('misaligned: -1 Invalid argument');
    expect(native.stdout).toContain('unmapped: -1 Cannot allocate memory');
    const target = p.symbolAddress('target')!;
    expect(p.engine.regions().find((r) => target >= r.begin && target < r.end)!.perms).toBe(5);
    const results = p.events.flatMap((e) => (e.kind === 'mprotect' ? [e.result] : []));
    expect(results).toEqual([0, -22, -22, 0, -12, -12, 0]);
  });

  it('signal frame: ucontext/siginfo layout, alignment and red zone as the kernel builds them', async () => {
    const dir = tempDir('sigframe');
    const exe = compileC(dir, 'prog', SIGNAL_FRAME_PROGRAM, ['-O1']);
    const native = runNative(exe, [], dir);
    const p = await emulate(exe);
    expect(p.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(native.stdout).toContain('rip@168 rsp@160 info@304');
    expect(p.stdoutText()).toBe(native.stdout);
  });

  it('a fault without handler ends the run with a report (address, access, instruction, backtrace)', async () => {
    const dir = tempDir('fault');
    const exe = compileC(dir, 'prog', `
      __attribute__((noinline)) void poke(volatile int *p) { *p = 1; }
      __attribute__((noinline)) int outer(void) { poke((int *)(unsigned long)&outer); return 3; }
      int main(void) { return outer() - 3; }`, ['-O1', '-fno-omit-frame-pointer']);
    expect(runNative(exe, [], dir).status).toBe(null); // killed natively
    const p = await emulate(exe);
    const stop = p.run({ maxInstructions: 1_000_000 });
    expect(stop.reason).toBe('killed');
    if (stop.reason !== 'killed') return;
    expect(stop.signo).toBe(11);
    expect(stop.fault).toMatchObject({ access: 'write', kind: 'protection', address: p.symbolAddress('outer') });
    expect(stop.fault!.location).toMatch(/^poke\+0x/);
    expect(stop.fault!.backtrace.map((f) => f.location.split('+')[0])).toContain('outer');
    expect(stop.fault!.instructionBytes.length).toBeGreaterThan(0);

    // With briefFaults (exploration's patched runs look at the reason only): the same stop, no report.
    const brief = await emulate(exe);
    brief.briefFaults = true;
    const briefStop = brief.run({ maxInstructions: 1_000_000 });
    expect(briefStop).toMatchObject({ reason: 'killed', signo: 11, instructions: stop.instructions });
    expect(briefStop).not.toHaveProperty('fault');
  });

  it('the guest reaches nothing on the host: open is ENOSYS, an import without stub stops the run', async () => {
    const dir = tempDir('walls');
    const exe = compileC(dir, 'prog', `
      #include <stdio.h>
      int main(int argc, char **argv) {
        long fd;
        /* open("/etc/passwd", O_RDONLY) as a raw system call */
        __asm__ volatile("syscall" : "=a"(fd) : "a"(2L), "D"("/etc/passwd"), "S"(0L) : "rcx", "r11", "memory");
        printf("open -> %ld\\n", fd);
        if (argc > 1) { FILE *f = fopen("/etc/passwd", "r"); printf("%p\\n", (void *)f); }
        return 0;
      }`, ['-O1']);
    const p = await emulate(exe);
    expect(p.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe('open -> -38\n'); // -ENOSYS
    expect(p.events.some((e) => e.kind === 'syscall' && e.name === 'open' && e.result === -38n)).toBe(true);
    const q = await emulate(exe, ['fopen']);
    const stop = q.run({ maxInstructions: 1_000_000 });
    expect(stop.reason).toBe('error');
    if (stop.reason === 'error') {
      expect(stop.error.problem).toBe('missing-stub');
      expect(stop.error.message).toMatch(/fopen.*main\+0x/);
    }
  });
});
