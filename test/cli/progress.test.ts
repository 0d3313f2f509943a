// --progress: parsed as a flag pair; the line appears only after a second, at most every 200 ms,
// and is erased at the end; the engine's run monitor drives it with the phase the verifier is in.
import { describe, expect, it } from 'vitest';
import { ProgressLine, engineWithProgress } from '../../src/cli/progress.js';
import { parseCommandLine } from '../../src/verify/command.js';
import { setPhase } from '../../src/verify/dynamic/progress.js';
import { Perm } from '../../src/engine/engine.js';

function command(args: string[]) {
  const r = parseCommandLine(['main', 'patch.so', 'sym', ...args]);
  if (r.kind !== 'verify') throw new Error('not a verify command');
  return r.command;
}

describe('--progress', () => {
  it('is on with --progress, off with --no-progress, and left to the CLI (terminal or not) otherwise', () => {
    expect(command(['--progress']).progress).toBe(true);
    expect(command(['--no-progress']).progress).toBe(false);
    expect(command([]).progress).toBeUndefined();
  });

  it('draws nothing in the first second, then one line at most every 200 ms, erased at the end', () => {
    let t = 0;
    const out: string[] = [];
    const line = new ProgressLine({ write: (s: string | Uint8Array) => { out.push(String(s)); return true; } }, () => t);
    line.update(1e6, 'running to the patch point');
    t = 999;
    line.update(2e6, 'running to the patch point');
    expect(out).toEqual([]);
    t = 1000;
    line.update(12_345_678, 'running the patched program');
    t = 1100;
    line.update(13e6, 'running the patched program');
    expect(out).toEqual(['\r\x1b[Kverify-patch: 12.3M instructions, running the patched program (1.0 s)']);
    line.end();
    expect(out[out.length - 1]).toBe('\r\x1b[K');
    const quiet: string[] = [];
    new ProgressLine({ write: (s: string | Uint8Array) => { quiet.push(String(s)); return true; } }, () => 0).end();
    expect(quiet).toEqual([]);
  });

  it('an engine made for --progress reports the verifier\'s phase from its run monitor', async () => {
    let t = 0;
    const out: string[] = [];
    const line = new ProgressLine({ write: (s: string | Uint8Array) => { out.push(String(s)); return true; } }, () => (t += 600));
    const engine = await engineWithProgress('wasm', line)();
    engine.map(0x10000n, 0x1000, Perm.RX);
    engine.writeMemory(0x10000n, new Uint8Array([0xeb, 0xfe])); // jmp $
    setPhase(engine, 'running the signal handler');
    engine.start(0x10000n, { count: 20_000_000 });
    expect(out.some((s) => s.includes('running the signal handler'))).toBe(true);
    engine.close();
  });
});
