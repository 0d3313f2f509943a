// The engine factory. WasmEngine is the default everywhere; UnicornEngine is Node-only and
// loaded through a dynamic import whose specifier bundlers do not follow, so browser bundles
// never pull koffi or libunicorn.

import type { Engine } from './engine.js';

export * from './engine.js';

export type EngineKind = 'wasm' | 'unicorn';

/** Kept out of the import() call so that bundlers (Vite, esbuild) leave the module alone. */
const UNICORN_MODULE = './unicorn-engine.js';

export async function createEngine(kind: EngineKind = 'wasm'): Promise<Engine> {
  switch (kind) {
    case 'wasm': {
      const { WasmEngine } = await import('./wasm-engine.js');
      return WasmEngine.create();
    }
    case 'unicorn': {
      const { UnicornEngine } = (await import(/* @vite-ignore */ UNICORN_MODULE)) as typeof import('./unicorn-engine.js');
      return UnicornEngine.create();
    }
    default:
      throw new Error(`unknown engine kind ${String(kind)}: expected 'wasm' or 'unicorn'`);
  }
}
