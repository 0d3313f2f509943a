// Bundles the CLI (dist/cli/verify-patch.js and everything it imports, iced-x86 included) into
// one CommonJS file, dist/verify-patch-bundle.cjs, run by the bin dist/verify-patch.mjs: a cold start then parses one file instead of resolving
// and lexing ~100 modules (iced-x86's 900 KB CommonJS file alone took ~150 ms of cjs-module-lexer).
// CommonJS so that the bin can compile it with a V8 code cache (vm.Script cachedData): Node 20 has no
// compile cache for ES modules, and compiling the 2 MB bundle plus its lazily compiled functions cost ~80 ms
// of CPU per cold start. The cache is trained at build time on four verifications (--code-cache below).
// UnicornEngine is bundled too (the factory's hidden import is named for esbuild). Kept external: keystone-wasm (loaded only for a template trampoline, reads its wasm next to
// itself) and koffi (native, optional). Run by `npm run build` after tsc.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const seed = join(root, 'corpus/seed-classic');

// How the bin wraps the bundle: CommonJS's module function, plus the bin's own helpers. The code
// cache below is made for exactly this source text.
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __bundleImport, __icedWasm) {';
const wrap = (text) => `${WRAPPER_HEAD}${text.startsWith('#!') ? '//' + text : text}\n})`;

// The verifications the code cache is trained on: each mode on each process model, so that every
// row of bench/verify-latency.ts starts with its functions compiled (a cache written after one
// tool-driven run left the signal delivery, the program patcher and the stubs loader to be
// compiled lazily at every start).
const TRAINING_RUNS = [
  ['--with', 'fix_func'],
  ['--signal', 'USR1'],
  ['--with', 'fix_func', '--process', 'stubs'],
  ['--signal', 'USR1', '--process', 'stubs', '--format', 'json'],
];

/**
 * `node scripts/bundle-cli.mjs --code-cache FILE` (a child process of the build, its output
 * discarded): runs the bundle as the bin does on seed-classic for each TRAINING_RUNS, in this
 * one process (process.exit only ends a run), then writes V8's code cache of every function
 * those runs compiled to FILE. With default V8 flags, as the bin compiles the bundle.
 */
async function writeCodeCache(cacheFile) {
  const file = join(dist, 'verify-patch-bundle.cjs');
  const script = new vm.Script(wrap(readFileSync(file, 'latin1')), { filename: file });
  const bundleRequire = createRequire(file);
  const icedWasm = new WebAssembly.Module(readFileSync(join(dirname(bundleRequire.resolve('iced-x86')), 'iced_x86_bg.wasm')));
  const exit = process.exit;
  try {
    for (const options of TRAINING_RUNS) {
      await new Promise((resolve) => {
        process.exit = resolve;
        process.argv = [process.argv[0], join(dist, 'verify-patch.mjs'), join(seed, 'main'), join(seed, 'patch.so'), 'need_fix_func', ...options];
        const module = { exports: {} };
        script.runInThisContext()(module.exports, bundleRequire, module, file, `${dist}/`, (specifier) => import(specifier), icedWasm);
      });
    }
  } finally {
    process.exit = exit;
  }
  const partial = `${cacheFile}.${process.pid}`;
  writeFileSync(partial, script.createCachedData());
  renameSync(partial, cacheFile);
}

if (process.argv[2] === '--code-cache') {
  await writeCodeCache(process.argv[3]);
  process.exit(0);
}
const { build } = await import('esbuild');
const ICED_WASM_LINES = [
  "const path = require('path').join(__dirname, 'iced_x86_bg.wasm');",
  "const bytes = require('fs').readFileSync(path);",
  '',
  'const wasmModule = new WebAssembly.Module(bytes);',
].join('\n');

// iced-x86 reads its wasm from __dirname, which a bundle does not have: point it at the
// installed package instead (resolved from the bundle's own location at run time). The bin
// compiles that wasm in the background while the bundle itself is compiled, and hands the module
// over as __icedWasm; without it (the bundle run some other way) it is compiled here, as before.
const icedPath = {
  name: 'iced-wasm-path',
  setup(b) {
    b.onLoad({ filter: /iced-x86[\\/]iced_x86\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8').replace(/\r\n/g, '\n');
      if (!text.includes(ICED_WASM_LINES)) throw new Error(`scripts/bundle-cli.mjs: iced-x86 no longer loads its wasm with "${ICED_WASM_LINES}": update the bundler`);
      const fixed = text.replace(
        ICED_WASM_LINES,
        "const wasmModule = typeof __icedWasm !== 'undefined' && __icedWasm instanceof WebAssembly.Module ? __icedWasm : " +
          "new WebAssembly.Module(require('fs').readFileSync(require('path').join(require('path').dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm')));",
      );
      return { contents: fixed, loader: 'js' };
    });
  },
};

// The engine factory hides UnicornEngine's module from bundlers (browser bundles must not pull
// koffi); the CLI wants it (--engine unicorn), so here the import names it. koffi stays external.
const UNICORN_IMPORT = 'await import(/* @vite-ignore */ UNICORN_MODULE)';
const unicornInBundle = {
  name: 'unicorn-in-bundle',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]engine[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(UNICORN_IMPORT)) throw new Error(`scripts/bundle-cli.mjs: dist/engine/index.js no longer has "${UNICORN_IMPORT}": update the bundler`);
      return { contents: text.replace(UNICORN_IMPORT, "await import('./unicorn-engine.js')"), loader: 'js' };
    });
  },
};

// A vm.Script has no import() of its own on Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING, with or
// without a code cache): the on-demand imports of the external packages go through the bin's.
const HOST_IMPORTS = { keystone: "loading ??= import('keystone-wasm')", 'unicorn-engine': "(await import('koffi'))" };
const hostImports = {
  name: 'host-imports',
  setup(b) {
    b.onLoad({ filter: /[\\/](asm[\\/]keystone|engine[\\/]unicorn-engine)\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const call = HOST_IMPORTS[/([a-z-]+)\.js$/.exec(args.path)[1]];
      if (!text.includes(call)) throw new Error(`scripts/bundle-cli.mjs: ${args.path} no longer has "${call}": update the bundler`);
      return { contents: text.replace(call, call.replace('import(', '__bundleImport(')), loader: 'js' };
    });
  },
};

// --jobs starts dist/cli/explore-worker.js (tsc's output) as a worker thread: named from the bundle,
// one directory up from where explore-jobs.js names it.
const WORKER_PATH = "'./explore-worker.js'";
const explorerWorkerPath = {
  name: 'explore-worker-path',
  setup(b) {
    b.onLoad({ filter: /[\\/]cli[\\/]explore-jobs\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(WORKER_PATH)) throw new Error(`scripts/bundle-cli.mjs: ${args.path} no longer names ${WORKER_PATH}: update the bundler`);
      return { contents: text.replace(WORKER_PATH, "'./cli/explore-worker.js'"), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(root, 'dist/cli/verify-patch.js')],
  outfile: join(root, 'dist/verify-patch-bundle.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The explore worker's URL is taken relative to the bundle.
  define: { 'import.meta.url': '__bundleUrl' },
  target: 'node20',
  external: ['keystone-wasm', 'koffi'],
  plugins: [icedPath, unicornInBundle, hostImports, explorerWorkerPath],
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  // No comments or layout (iced-x86's doc comments hold emoji, which made the whole source a
  // two-byte string): half the bytes to read and compile; identifiers stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // iced-x86's wasm path is resolved at run time, by the bundle's real require (see icedPath).
  logOverride: { 'require-resolve-not-external': 'silent' },
});
// The bin: compiles the bundle with the V8 code cache written next to it (named by the bundle's
// hash: V8 checks only the source's length), and writes the cache at exit when it was missing or
// rejected (another Node version or V8 flags). A cache that cannot be written (read-only install)
// is skipped silently: it only saves time.
const bundle = readFileSync(join(root, 'dist/verify-patch-bundle.cjs'));
// esbuild escapes non-ASCII characters (charset 'ascii', its default): the bin reads the bundle as Latin-1.
const nonAscii = bundle.findIndex((b) => b > 0x7f);
if (nonAscii >= 0) throw new Error(`scripts/bundle-cli.mjs: dist/verify-patch-bundle.cjs has a non-ASCII byte at ${nonAscii}: the bin reads it as Latin-1`);
const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
for (const f of readdirSync(join(root, 'dist'))) {
  if (/^verify-patch-bundle\..*\.v8cache$/.test(f) || f === 'verify-patch-bundle.mjs') rmSync(join(root, 'dist', f), { force: true });
}
writeFileSync(
  join(root, 'dist/verify-patch.mjs'),
  `#!/usr/bin/env node
// verify-patch: the bundled CLI (scripts/bundle-cli.mjs), compiled with a V8 code cache.
import { createRequire } from 'node:module';

// Built-ins through require: an ES import of each costs a module facade at start-up.
const require = createRequire(import.meta.url);
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { fileURLToPath } = require('node:url');
const vm = require('node:vm');

const file = fileURLToPath(new URL('./verify-patch-bundle.cjs', import.meta.url));
const bundleRequire = createRequire(file);
// iced-x86's wasm (780 KB), compiled here so that V8 never tiers it up in this process: at a cold
// start its hot functions are one-shot set-ups (the decoder's tables, the formatter's), and their
// TurboFan compiles (~150 ms of CPU on background threads, competing with this one) would never be
// used. On Node 20's V8, where the defaults restored below were measured, the module is created with
// an unreachable tiering budget and lazy validation (functions are validated when first compiled),
// then both flags go back before anything else compiles (the bundle's code cache is checked against
// the flags). Elsewhere, or when the user passes V8 wasm flags, it is compiled as is. undefined if
// that fails (the bundle then compiles it itself, and reports any problem).
const icedWasm = compileIced();
function compileIced() {
  let bytes;
  try {
    bytes = readFileSync(bundleRequire.resolve('iced-x86').replace(/iced_x86\\.js$/, 'iced_x86_bg.wasm'));
  } catch {
    return undefined;
  }
  const v8 = require('node:v8');
  const tune = process.versions.v8.startsWith('11.3.') && !/wasm|liftoff/.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '));
  if (tune) v8.setFlagsFromString('--wasm-tiering-budget=2147483647 --wasm-lazy-validation');
  try {
    return new WebAssembly.Module(bytes);
  } catch {
    return undefined;
  } finally {
    if (tune) v8.setFlagsFromString('--wasm-tiering-budget=1800000 --no-wasm-lazy-validation');
  }
}
const cacheFile = fileURLToPath(new URL('./verify-patch-bundle.${hash}.v8cache', import.meta.url));
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// ASCII (the build checks it): read as Latin-1, V8's one-byte strings, without decoding UTF-8.
const text = readFileSync(file, 'latin1');
const script = new vm.Script(\`${WRAPPER_HEAD}\${text.startsWith('#!') ? '//' + text : text}\\n})\`, {
  filename: file,
  cachedData,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      const partial = \`\${cacheFile}.\${process.pid}\`;
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, cacheFile);
    } catch {
      // only a speed-up
    }
  });
}
const module = { exports: {} };
// keystone-wasm and koffi, imported on demand: a vm.Script cannot import() itself (Node 20), the bin imports for it.
script.runInThisContext()(module.exports, bundleRequire, module, file, fileURLToPath(new URL('.', import.meta.url)), (specifier) => import(specifier), icedWasm);
`,
  { mode: 0o755 },
);
// The code cache, trained on seed-classic (see TRAINING_RUNS), so that the first real run is a warm one
// too. Without the corpus (or if training fails) the bin writes a cache after its first run.
if (existsSync(join(seed, 'main'))) {
  const trained = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--code-cache', join(dist, `verify-patch-bundle.${hash}.v8cache`)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  if (trained.status !== 0) console.warn(`scripts/bundle-cli.mjs: no trained code cache (the bin writes one at its first run): ${trained.error?.message ?? trained.stderr.trim().split('\\n').slice(-3).join(' ')}`);
}
console.log('scripts/bundle-cli.mjs: dist/verify-patch.mjs, dist/verify-patch-bundle.cjs');
