// The web build's sysroot plugin: what the page module says when scripts/fetch-sysroot.sh
// works, and the fallback when it cannot (the build says why on its output).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledSysrootModule } from '../../web/plugins/bundled-sysroot.js';

describe('web build: the bundled sysroot module', () => {
  it('falls back when the fetch fails, giving the script\'s reason on the build\'s output and to the page', () => {
    const root = mkdtempSync(join(tmpdir(), 'patchsandbox-nosysroot-'));
    try {
      const lines: string[] = [];
      const code = bundledSysrootModule({ repoRoot: root, command: ['sh', '-c', 'echo "fetch-sysroot: no apt-get on this machine" >&2; exit 1'], log: (l) => lines.push(l) });
      expect(lines).toEqual(['web build: no bundled sysroot (no apt-get on this machine): the page falls back to the stubs process model']);
      expect(code).toBe('export default {"available":false,"reason":"no apt-get on this machine"};\n');
      const missing = bundledSysrootModule({ repoRoot: root, command: [join(root, 'no-such-script')], log: (l) => lines.push(l) });
      expect(missing).toContain('"available":false');
      expect(lines[1]).toMatch(/^web build: no bundled sysroot \(.*no-such-script.*\): the page falls back/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is left out on request (PATCHSANDBOX_WEB_SYSROOT=none), without running the script', () => {
    const lines: string[] = [];
    process.env['PATCHSANDBOX_WEB_SYSROOT'] = 'none';
    try {
      const code = bundledSysrootModule({ repoRoot: '/nonexistent', command: ['false'], log: (l) => lines.push(l) });
      expect(code).toContain('"reason":"PATCHSANDBOX_WEB_SYSROOT=none"');
      expect(lines).toEqual(['web build: no bundled sysroot (PATCHSANDBOX_WEB_SYSROOT=none): the page falls back to the stubs process model']);
    } finally {
      delete process.env['PATCHSANDBOX_WEB_SYSROOT'];
    }
  });
});
