// Each scenario's story on real hardware with the real ld.so: run the committed
// binary (cwd = its folder) and check what it prints and how it ends.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { corpusCases } from './cases.js';

const nativeCases = corpusCases().flatMap((item) => (item.native ? [{ ...item, native: item.native }] : []));

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('native runs', () => {
  it('there are native cases', () => {
    expect(nativeCases.length).toBeGreaterThan(10);
  });

  it.each(nativeCases.map((item) => [`${item.scenario}/${item.name}`, item]))('%s', (_label, item) => {
    const run = spawnSync(item.mainPath, item.native.argv, { cwd: item.dir, encoding: 'utf8', timeout: 10_000 });
    expect(run.error).toBeUndefined();
    expect(run.signal, `stdout:\n${run.stdout}`).toBe(item.native.signal);
    if (item.native.signal === null) expect(run.status).toBe(0);
    for (const text of item.native.stdoutContains) expect(run.stdout).toContain(text);
    for (const text of item.native.stdoutLacks) expect(run.stdout).not.toContain(text);
  });
});
