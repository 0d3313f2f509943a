// After a libc call, the caller-saved registers are the callee's (SysV ABI). glibc leaves its
// own values there; a stub leaves CALLER_SAVED_POISON | register number (non-canonical, so a
// dereference faults), xmm0-15 a NaN pattern, and clear status flags, so code that relies on a register surviving a
// call fails in the sandbox instead of seeing what it put there itself.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { createTestEngine } from './engine.js';
import { compileC, hasGcc, runNativeFull, tempDir } from './native.js';

/** probe(): loads each caller-saved register with a marker, calls printf, stores them all. */
const PROBE_PROGRAM = `
#include <stdio.h>
unsigned long after_call[9];
void probe(void);
__asm__(
  ".text\\n.globl probe\\nprobe:\\n"
  "  push %rbx\\n"
  "  mov $0x1111, %rcx; mov $0x2222, %rdx; mov $0x8888, %r8; mov $0x9999, %r9; mov $0xaaaa, %r10; mov $0xbbbb, %r11\\n"
  "  lea fmt(%rip), %rdi; mov $42, %esi; xor %eax, %eax\\n"
  "  cmp %eax, %eax\\n"                       /* ZF=1, PF=1 before the call */
  "  call printf@PLT\\n"
  "  pushfq\\n"
  "  lea after_call(%rip), %rbx\\n"
  "  mov %rcx, (%rbx); mov %rdx, 8(%rbx); mov %rsi, 16(%rbx); mov %rdi, 24(%rbx)\\n"
  "  mov %r8, 32(%rbx); mov %r9, 40(%rbx); mov %r10, 48(%rbx); mov %r11, 56(%rbx)\\n"
  "  pop %rax; mov %rax, 64(%rbx)\\n"
  "  pop %rbx\\n  ret\\n"
  ".section .rodata\\nfmt: .asciz \\"x=%d\\\\n\\"\\n.text\\n");
int main(void) {
  probe();
  const char *names[] = { "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11" };
  for (int i = 0; i < 8; i++) printf("%s=%lx\\n", names[i], after_call[i]);
  printf("status flags=%lx\\n", after_call[8] & 0x8d5);
  return 0;
}
`;

describe.skipIf(!hasGcc)('caller-saved registers after a libc call', () => {
  it('hold the documented poison, and the status flags are clear; glibc clobbers them too', async () => {
    const dir = tempDir('caller-saved');
    const exe = compileC(dir, 'probe', PROBE_PROGRAM, ['-O1']);
    const native = runNativeFull(exe, [], dir);
    expect(native.status).toBe(0);
    // Natively printf's own values replace the markers (rsi held 42, the flags ZF|PF).
    expect(native.stdout).not.toContain('rsi=2a\n');
    expect(native.stdout).not.toContain('status flags=44\n');
    const p = await EmulatedProcess.create(await createTestEngine(), { main: new Uint8Array(readFileSync(exe)), mainPath: './probe' });
    expect(p.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe(
      'x=42\nrcx=dead000000000001\nrdx=dead000000000002\nrsi=dead000000000006\nrdi=dead000000000007\n' +
        'r8=dead000000000008\nr9=dead000000000009\nr10=dead00000000000a\nr11=dead00000000000b\nstatus flags=0\n',
    );
  });

  it('xmm0-15 are caller-saved too: after a stub they hold the quiet NaN 0xfff8dead000000NN in both lanes', async () => {
    const dir = tempDir('caller-saved-xmm');
    const exe = compileC(dir, 'xmm', `
#include <stdio.h>
unsigned long lanes[4];
void probe(void);
__asm__(
  ".text\\n.globl probe\\nprobe:\\n  push %rbx\\n"
  "  mov $0x1234, %eax; movq %rax, %xmm2; movq %rax, %xmm9\\n"
  "  lea hi(%rip), %rdi; call puts@PLT\\n"
  "  lea lanes(%rip), %rbx\\n"
  "  movq %xmm2, (%rbx); pshufd $0xee, %xmm2, %xmm3; movq %xmm3, 8(%rbx); movq %xmm9, 16(%rbx)\\n"
  "  pop %rbx\\n  ret\\n"
  ".section .rodata\\nhi: .asciz \\"hi\\"\\n.text\\n");
int main(void) { probe(); printf("xmm2=%lx:%lx xmm9=%lx\\n", lanes[0], lanes[1], lanes[2]); return 0; }
`, ['-O1']);
    const p = await EmulatedProcess.create(await createTestEngine(), { main: new Uint8Array(readFileSync(exe)), mainPath: './xmm' });
    expect(p.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exited', status: 0 });
    expect(p.stdoutText()).toBe('hi\nxmm2=fff8dead00000002:fff8dead00000002 xmm9=fff8dead00000009\n');
  });
});
