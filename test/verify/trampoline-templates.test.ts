// User trampoline templates on seed-classic, end to end through the command core: the run
// (not only the bytes) decides whether registers and the stack reach the replacement intact.
// A small budget: a clobbered rbx sends main's loop astray until the budget runs out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';

const SEED = join(import.meta.dirname, '../../corpus/seed-classic');
const main = new Uint8Array(readFileSync(join(SEED, 'main')));
const patch = new Uint8Array(readFileSync(join(SEED, 'patch.so')));

async function verifyWith(template: string): Promise<CommandOutcome> {
  const request = parseCommandLine(['main', 'patch.so', 'need_fix_func', '--with', 'fix_func', '--trampoline', template, '--max-insns', '200000']);
  if (request.kind !== 'verify') throw new Error('not a verify command');
  return runCommand(request.command, main, patch, 'wasm');
}

const errors = (o: CommandOutcome): string[] => o.result.findings.filter((f) => f.severity === 'error').map((f) => f.code);

describe('trampoline templates on seed-classic', () => {
  it('movabs r11, {target}; jmp r11: r11 is scratch, safe, and the replacement ran', async () => {
    const o = await verifyWith('movabs r11, {target}; jmp r11');
    expect({ verdict: o.result.verdict, errors: errors(o) }).toEqual({ verdict: 'safe', errors: [] });
    expect(o.result.run!.output.map((l) => l.text)).toContain('after fix cur times 1');
  });

  it('movabs rdi, {target}; jmp rdi: REGISTER_CLOBBERED, seen in the bytes and in the run (rdi held the argument)', async () => {
    const o = await verifyWith('movabs rdi, {target}; jmp rdi');
    expect(errors(o)).toEqual(['REGISTER_CLOBBERED']);
    const [finding] = o.result.findings;
    expect(finding!.message).toContain('rdi is an argument register');
    // The run's evidence: rdi at the old entry versus at fix_func's entry.
    expect(finding!.evidence.some((e) => e.label === 'rdi (argument)' && /at fix_func's entry/.test(e.text ?? ''))).toBe(true);
  });

  it('movabs rbx, {target}; jmp rbx: a callee-saved register', async () => {
    const o = await verifyWith('movabs rbx, {target}; jmp rbx');
    expect(errors(o)).toEqual(['REGISTER_CLOBBERED']);
    expect(o.result.findings[0]!.evidence.some((e) => e.label === 'rbx (callee-saved)')).toBe(true);
  });

  it('push/ret that nets to the caller\'s rsp is safe (push rax; movabs rax; xchg rax, [rsp]; ret)', async () => {
    const o = await verifyWith('push rax; movabs rax, {target}; xchg rax, [rsp]; ret');
    expect({ verdict: o.result.verdict, errors: errors(o) }).toEqual({ verdict: 'safe', errors: [] });
  });

  it('sub rsp, 8 + two dword stores + ret is safe: judged by the run, not by counting pushes', async () => {
    const o = await verifyWith('sub rsp, 8; mov dword ptr [rsp], {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret');
    expect(o.result.verdict).toBe('safe');
  });

  it('sub rsp, 16 + ret leaves the replacement 8 bytes low and misaligned: STACK_IMBALANCE from the run', async () => {
    const o = await verifyWith('sub rsp, 16; mov dword ptr [rsp], {target_lo32}; mov dword ptr [rsp+4], {target_hi32}; ret');
    // The replacement returns to a word the caller never pushed: the run dies too.
    expect(errors(o)).toEqual(['STACK_IMBALANCE', 'CRASH_AFTER_PATCH']);
    const [finding] = o.result.findings;
    // Seen in the bytes (sub rsp counts now) and in the run: one finding, both views.
    expect(finding!.message).toContain('8 bytes below');
    expect(finding!.message).toContain('misaligned');
    expect(finding!.evidence.some((e) => e.label === 'also' && /moved rsp by -8/.test(e.text ?? ''))).toBe(true);
    expect(finding!.evidence.find((e) => e.label === "rsp at fix_func's entry")!.text).toContain('rsp % 16 = 0');
  });

  it('push rbp before the jump: STACK_IMBALANCE', async () => {
    expect(errors(await verifyWith('push rbp; movabs rax, {target}; jmp rax'))).toEqual(['STACK_IMBALANCE', 'CRASH_AFTER_PATCH']);
  });
});
