// The package as a user gets it: `npm pack`, install the tarball into an empty project
// (offline: the dependencies come from this checkout's node_modules, which `npm ci` filled),
// import the library API and verify a corpus case with it, type-check a TypeScript consumer
// against the shipped .d.ts, and run the installed `npx verify-patch` on corpus cases.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'corpus');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; files: string[]; bin: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'packed-'));
const project = join(work, 'consumer');
let tarball = '';
let packedFiles: string[] = [];

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

beforeAll(() => {
  // dist/ is what `npm ci` (prepare -> build) produced; pack it as is, without rebuilding.
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  packedFiles = packed[0]!.files.map((f) => f.path);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // The registry is not asked: each dependency is installed from the copy npm ci put here.
  const deps = Object.keys(pkg.dependencies).map((name) => join(ROOT, 'node_modules', name));
  npm(['install', '--offline', '--install-links', tarball, ...deps], project);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships the built library, its types, the CLI, the report schema and the README, and no sources or tests', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', pkg.bin['verify-patch']!, 'dist/elf/dwarf-line.d.ts', 'schema/report.schema.json', 'README.md', 'package.json']) expect(packedFiles).toContain(f);
    // Nothing else: no sources, tests, corpus, source maps (they point at sources not shipped), build/ (the core is embedded in dist)
    // or the bin's V8 code cache (written by the installed bin on its first run: it belongs to the Node that runs it).
    expect(packedFiles).toContain('dist/verify-patch-bundle.cjs');
    expect(packedFiles.filter((f) => !/^(dist\/.*\.([cm]?js|d\.ts)|schema\/report\.schema\.json|README\.md|package\.json)$/.test(f))).toEqual([]);
  });
});

describe('the installed package', () => {
  it('import { verifyPatch } verifies a corpus case: loop-head is unsafe', () => {
    writeFileSync(join(project, 'use.mjs'), `
import { readFileSync } from 'node:fs';
import { verifyPatch, renderJson, renderSarif, renderHtml, renderMarkdown, FINDING_CATALOG, JSON_SCHEMA_VERSION, TOOL } from 'patchsandbox';
import { ElfFile } from 'patchsandbox/elf';
import { createEngine } from 'patchsandbox/engine';
import { EmulatedProcess } from 'patchsandbox/loader';
import schema from 'patchsandbox/schema/report.schema.json' with { type: 'json' };
const dir = ${JSON.stringify(join(CORPUS, 'loop-head'))};
const result = await verifyPatch({
  main: readFileSync(dir + '/main'), mainName: 'main',
  patch: readFileSync(dir + '/patch.so'), patchName: 'patch.so',
  symbol: 'total_amount',
});
const elf = ElfFile.parse(readFileSync(dir + '/main'));
const engine = await createEngine('wasm');
engine.close();
console.log(JSON.stringify({
  verdict: result.verdict,
  codes: result.findings.map((f) => f.code),
  json: JSON.parse(renderJson(result, TOOL)).schemaVersion,
  sarif: JSON.parse(renderSarif(result, TOOL, { main: 'main', patch: 'patch.so' })).version,
  html: renderHtml(result, TOOL).startsWith('<!doctype html>'),
  markdown: renderMarkdown(result).includes('UNSAFE'),
  catalog: FINDING_CATALOG.BRANCH_INTO_PATCHED_BYTES.severities,
  schemaVersion: JSON_SCHEMA_VERSION, schemaConst: schema.properties.schemaVersion.const,
  elf: elf.symbolsNamed('total_amount').length, // .symtab and .dynsym
  process: typeof EmulatedProcess.create,
}));
`);
    const out = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({
      verdict: 'unsafe', codes: ['BRANCH_INTO_PATCHED_BYTES', 'ENTRY_ENDBR64'], json: 1, sarif: '2.1.0', html: true, markdown: true,
      catalog: ['error'], schemaVersion: 1, schemaConst: 1, elf: 2, process: 'function',
    });
  });

  it('a TypeScript consumer type-checks against the shipped .d.ts (strict, NodeNext)', () => {
    writeFileSync(join(project, 'use.ts'), `
import { verifyPatch, type VerifyResult, type Finding, FINDING_CATALOG, type FindingCode } from 'patchsandbox';
import { ElfFile, type ElfSymbol } from 'patchsandbox/elf';
export async function gate(main: Uint8Array, patch: Uint8Array): Promise<number> {
  const result: VerifyResult = await verifyPatch({ main, mainName: 'main', patch, patchName: 'patch.so', symbol: 'f', engine: 'wasm' });
  const errors: Finding[] = result.findings.filter((f) => FINDING_CATALOG[f.code as FindingCode].severities.includes('error'));
  const symbols: readonly ElfSymbol[] = ElfFile.parse(main).symbols;
  return errors.length + symbols.length;
}
// @ts-expect-error: symbol is required
void verifyPatch({ main: new Uint8Array(), mainName: 'm', patch: new Uint8Array(), patchName: 'p' });
`);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync('node', [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'use.ts'], { cwd: project, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('npx verify-patch runs from the installed tarball with the contract exit codes', () => {
    const run = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync('npx', ['--offline', '--no-install', 'verify-patch', ...args], { cwd: project, encoding: 'utf8' });
    const safe = run([join(CORPUS, 'seed-classic/main'), join(CORPUS, 'seed-classic/patch.so'), 'need_fix_func', '--format', 'json']);
    expect(safe.stderr).toBe('');
    expect(safe.status).toBe(0);
    expect(JSON.parse(safe.stdout)).toMatchObject({ schemaVersion: 1, verdict: 'safe' });
    const unsafe = run([join(CORPUS, 'loop-head/main'), join(CORPUS, 'loop-head/patch.so'), 'total_amount']);
    expect(unsafe.status).toBe(1);
    expect(unsafe.stdout.trimEnd().split('\n').at(-1)).toBe('verdict: UNSAFE (1 error, 0 warnings)');
    const bad = run([join(CORPUS, 'bad-input/main-truncated'), join(CORPUS, 'bad-input/patch.so'), 'need_fix_func']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^verify-patch: could not verify: .*truncated/);
    // The bin is the installed copy, not this checkout's.
    expect(readFileSync(join(project, 'node_modules/.bin/verify-patch'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node/);
    expect(realpathSync(join(project, 'node_modules/.bin/verify-patch')).startsWith(join(realpathSync(project), 'node_modules/patchsandbox/'))).toBe(true);
  });
});
