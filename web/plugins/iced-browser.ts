// iced-x86's npm package is its Node build: its wasm-bindgen glue is CommonJS and reads
// iced_x86_bg.wasm with require('fs'). For the browser bundle this plugin serves the same glue
// as an ES module whose wasm bytes are fetched from the package's own .wasm (emitted as an
// asset through `?url`), so the page runs exactly the decoder the CLI runs. Instantiation is
// explicit (`loadIcedWasm()` from 'virtual:iced-x86-wasm', before the first decode) rather than
// a top-level await, which can deadlock between chunks that import each other. The glue
// compiles synchronously, which browsers allow only off the main thread: use it in the worker.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

const VIRTUAL_ID = '\0iced-x86-browser';
const LOADER_SOURCE = 'virtual:iced-x86-wasm';
const LOADER_ID = '\0iced-x86-wasm';
const require = createRequire(import.meta.url);

/** The wasm-bindgen glue's Node loader (to the end of the file), replaced by an instantiate function. */
const NODE_LOADER = /const path = require\('path'\)\.join\(__dirname, 'iced_x86_bg\.wasm'\);\s*const bytes = require\('fs'\)\.readFileSync\(path\);[\s\S]*$/;
const BROWSER_LOADER = `module.exports.__instantiate = (bytes) => {
  wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
  module.exports.__wasm = wasm;
};`;

export function icedBrowser(): Plugin {
  return {
    name: 'patchsandbox:iced-x86-browser',
    enforce: 'pre',
    resolveId(source) {
      if (source === 'iced-x86') return VIRTUAL_ID;
      if (source === LOADER_SOURCE) return LOADER_ID;
      return null;
    },
    load(id) {
      if (id === LOADER_ID) return loaderModule();
      if (id !== VIRTUAL_ID) return null;
      const gluePath = require.resolve('iced-x86');
      const glue = readFileSync(gluePath, 'utf8');
      if (!NODE_LOADER.test(glue)) {
        throw new Error(`iced-x86 glue at ${gluePath} no longer loads its wasm the way this plugin expects; update web/build/iced-browser.ts`);
      }
      const exportNames = Object.keys(require('iced-x86') as Record<string, unknown>).filter((name) => name !== '__wasm');
      return [
        `const module = { exports: {} };`,
        `const require = (name) => { if (name === 'util') return { TextDecoder, TextEncoder }; throw new Error('iced-x86 (browser build) cannot require ' + name); };`,
        `(function (module, exports, require) {`,
        glue.replace(NODE_LOADER, BROWSER_LOADER),
        `})(module, module.exports, require);`,
        `const iced = module.exports;`,
        `export default iced;`,
        ...exportNames.map((name) => `export const ${name} = iced.${name};`),
      ].join('\n');
    },
  };
}

function loaderModule(): string {
  const wasmPath = require.resolve('iced-x86').replace(/iced_x86\.js$/, 'iced_x86_bg.wasm');
  return [
    `import iced from 'iced-x86';`,
    `import icedWasmUrl from ${JSON.stringify(wasmPath + '?url')};`,
    `let loading;`,
    `export function loadIcedWasm() {`,
    `  loading ??= fetch(icedWasmUrl).then((r) => r.arrayBuffer()).then((b) => iced.__instantiate(new Uint8Array(b)));`,
    `  return loading;`,
    `}`,
  ].join('\n');
}
