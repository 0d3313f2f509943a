// CPU faults in the guest become SIGSEGV/SIGFPE/SIGILL delivered to the program's handler
// with the siginfo and sigcontext the kernel fills in (si_code, si_addr, trapno, err),
// compared with the same program run natively.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, runNative, tempDir } from './native.js';

const FAULTS_PROGRAM = `
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
extern char resume_ret[];
__asm__(".text\\n.globl resume_ret\\nresume_ret: ret\\n");
static const char literal[] = "read-only";
static uintptr_t addr_base, rip_base;
static volatile int divisor, dividend;
/* Leaves without a frame: the handler resumes at a ret, which returns to the caller. */
__attribute__((noipa)) int divide(int a, int b) { return a / b; }                  /* idiv esi */
__attribute__((noipa)) int read_unmapped(void) { return *(volatile int *)0x1234; } /* mov eax, [0x1234] */
__attribute__((noipa)) void write_rodata(void) { *(volatile char *)&literal[3] = 'x'; }
__attribute__((noipa)) void illegal(void) { __asm__ volatile("ud2"); }
static void handler(int sig, siginfo_t *info, void *ctx) {
  ucontext_t *uc = ctx;
  uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  const char *name = sig == SIGSEGV ? "SEGV" : sig == SIGFPE ? "FPE" : sig == SIGILL ? "ILL" : "?";
  printf("  %s code=%d addr=%#lx rip=%#lx trapno=%lld err=%#llx\\n", name, info->si_code,
         (unsigned long)((uintptr_t)info->si_addr - addr_base), (unsigned long)(rip - rip_base),
         (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR]);
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume_ret;
}
int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGFPE, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  printf("read of an unmapped address\\n");
  addr_base = 0; rip_base = (uintptr_t)read_unmapped; read_unmapped();
  printf("write to .rodata\\n");
  addr_base = (uintptr_t)literal; rip_base = (uintptr_t)write_rodata; write_rodata();
  printf("call to an unmapped address\\n");
  addr_base = 0; rip_base = 0; ((void (*)(void))0x5000)();
  printf("idiv by zero\\n");
  divisor = 0; dividend = 7;
  addr_base = rip_base = (uintptr_t)divide; divide(dividend, divisor);
  printf("INT_MIN / -1\\n");
  divisor = -1; dividend = INT_MIN; divide(dividend, divisor);
  printf("ud2\\n");
  addr_base = rip_base = (uintptr_t)illegal; illegal();
  printf("done\\n");
  return 0;
}
`;

describe.skipIf(!hasGcc)('guest faults delivered to the program\'s handlers', () => {
  it('SIGSEGV (MAPERR, ACCERR, fetch), SIGFPE (idiv by zero, INT_MIN/-1), SIGILL (ud2): si_code, si_addr, rip, trapno, err as natively', async () => {
    const dir = tempDir('faults');
    const exe = compileC(dir, 'faults', FAULTS_PROGRAM, ['-O1']);
    const native = runNative(exe, [], dir);
    expect(native.status).toBe(0);
    expect(native.stdout).toContain('FPE code=1 addr=0x3 rip=0x3 trapno=0');
    const p = EmulatedProcess.create(await createTestEngine(), { main: new Uint8Array(readFileSync(exe)), mainPath: './faults' });
    const stop = p.run({ maxInstructions: 2_000_000 });
    expect(p.stdoutText()).toBe(native.stdout);
    expect(stop).toMatchObject({ reason: 'exited', status: 0 });
    const delivered = p.events.filter((e) => e.kind === 'signal-delivered').map((e) => (e.kind === 'signal-delivered' ? e.signo : 0));
    expect(delivered).toEqual([11, 11, 11, 8, 8, 4]);
  });
});
