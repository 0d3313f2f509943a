// Bundles the CLI (dist/cli/verify-patch.js and everything it imports, iced-x86 included) into
// one ES module, dist/verify-patch-bundle.mjs, run by the bin dist/verify-patch.mjs: a cold start then parses one file instead of resolving
// and lexing ~100 modules (iced-x86's 900 KB CommonJS file alone took ~150 ms of cjs-module-lexer).
// UnicornEngine is bundled too (the factory's hidden import is named for esbuild). Kept external: keystone-wasm (loaded only for a template trampoline, reads its wasm next to
// itself) and koffi (native, optional). Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ICED_WASM_LINE = "const path = require('path').join(__dirname, 'iced_x86_bg.wasm');";

// iced-x86 reads its wasm from __dirname, which a bundle does not have: point it at the
// installed package instead (resolved from the bundle's own location at run time).
const icedPath = {
  name: 'iced-wasm-path',
  setup(b) {
    b.onLoad({ filter: /iced-x86[\\/]iced_x86\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(ICED_WASM_LINE)) throw new Error(`scripts/bundle-cli.mjs: iced-x86 no longer loads its wasm with "${ICED_WASM_LINE}": update the bundler`);
      const fixed = text.replace(
        ICED_WASM_LINE,
        "const path = require('path').join(require('path').dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm');",
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

await build({
  entryPoints: [join(root, 'dist/cli/verify-patch.js')],
  outfile: join(root, 'dist/verify-patch-bundle.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['keystone-wasm', 'koffi'],
  plugins: [icedPath, unicornInBundle],
  // CommonJS inside an ES module needs a require of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
// The bin: turns on Node's on-disk compile cache where Node has one (22.1+; absent on 20),
// before the bundle is compiled, then runs it.
writeFileSync(
  join(root, 'dist/verify-patch.mjs'),
  "#!/usr/bin/env node\n// verify-patch: the bundled CLI (scripts/bundle-cli.mjs).\nimport module from 'node:module';\n\nmodule.enableCompileCache?.();\nawait import('./verify-patch-bundle.mjs');\n",
  { mode: 0o755 },
);
console.log('scripts/bundle-cli.mjs: dist/verify-patch.mjs, dist/verify-patch-bundle.mjs');
