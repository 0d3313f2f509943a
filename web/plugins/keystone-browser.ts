// keystone-wasm's Emscripten loader has a Node branch that does `await import('module')` for
// createRequire; a browser never takes it, but the bundler still resolved Node's 'module' and
// warned that it was externalized. This gives that import a stub which says why it cannot run.

import type { Plugin } from 'vite';

const STUB_ID = '\0keystone-node-module';

export function keystoneBrowser(): Plugin {
  return {
    name: 'patchsandbox:keystone-browser',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source !== 'module' || !importer?.includes('/keystone-wasm/')) return null;
      return STUB_ID;
    },
    load(id) {
      if (id !== STUB_ID) return null;
      return `export function createRequire() { throw new Error("keystone-wasm took its Node loader in a browser: pass the wasm bytes to Assembler.load({ wasmBinary })"); }`;
    },
  };
}
