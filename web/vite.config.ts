// The browser page: `vite web` serves it, `vite build web` writes static files to web/dist
// with relative asset paths (any static host, any sub-path).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { icedBrowser } from './build/iced-browser.js';
import { nodeOnlyGuard } from './build/node-only-guard.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [icedBrowser(), nodeOnlyGuard()],
  worker: { format: 'es', plugins: () => [icedBrowser(), nodeOnlyGuard()] },
  // The corpus binaries stay files (fetched on demand), never data: URLs in the bundle.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 8000 },
  server: { fs: { allow: [repoRoot] } },
  optimizeDeps: { exclude: ['iced-x86', 'keystone-wasm'] },
});
