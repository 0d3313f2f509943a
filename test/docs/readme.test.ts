// The README's promises that code can check: its covered-imports list is the stub table,
// and its first two commands are the ones CI runs.
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, currentBlock, renderCoveredImports } from '../../scripts/readme-imports.js';

const readme = readFileSync(README, 'utf8');

describe('README', () => {
  it('lists exactly the imports the loader has stubs for (regenerate: node --import tsx scripts/readme-imports.ts)', () => {
    expect(currentBlock(readme)).toBe(renderCoveredImports());
  });

  it('opens with the install-and-verify command and the test command that .ci/run runs', () => {
    const block = /```sh\n([^`]*)```/.exec(readme)?.[1]?.trim().split('\n') ?? [];
    expect(block[0]).toMatch(/^npm ci && npx verify-patch corpus\/\S+ corpus\/\S+ \S+/);
    expect(block[1]).toBe('npm test');
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('ships an executable verify-patch bin, so `npx verify-patch` runs after `npm ci` (which builds it)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    const bin = new URL(`../../${pkg.bin['verify-patch']}`, import.meta.url);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
  });
});
