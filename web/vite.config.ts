// The browser page: `vite web` serves it, `vite build web` writes static files to web/dist
// with relative asset paths (any static host, any sub-path).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { bundledSysroot } from './plugins/bundled-sysroot.js';
import { corpusBinaries } from './plugins/corpus-binaries.js';
import { icedBrowser } from './plugins/iced-browser.js';
import { keystoneBrowser } from './plugins/keystone-browser.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// Nothing Node-only reaches the bundle: src/engine/index.ts loads UnicornEngine (koffi) through
// a specifier bundlers do not follow, and the page passes WasmEngine as a factory. test/web
// checks the built files for koffi.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [icedBrowser(), keystoneBrowser(), corpusBinaries(`${repoRoot}corpus`), bundledSysroot({ repoRoot })],
  worker: { format: 'es', plugins: () => [icedBrowser(), keystoneBrowser()], rolldownOptions: { checks: { bundlerTimings: false } } },
  // The corpus binaries stay files (fetched on demand), never data: URLs in the bundle.
  // Bundler timing notes are about the machine's load, not the page: off, so "no warning" stays exact.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 8000, rolldownOptions: { checks: { bundlerTimings: false } } },
  server: { fs: { allow: [repoRoot] } },
  optimizeDeps: { exclude: ['iced-x86', 'keystone-wasm'] },
});
