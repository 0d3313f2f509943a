// The engine factory. WasmEngine is the default everywhere; UnicornEngine is Node-only and
// loaded through a dynamic import so that browser bundles never pull koffi or libunicorn.

import type { Engine } from './engine.js';

export * from './engine.js';

export type EngineKind = 'wasm' | 'unicorn';

export async function createEngine(kind: EngineKind = 'wasm'): Promise<Engine> {
  switch (kind) {
    case 'wasm': {
      const { WasmEngine } = await import('./wasm-engine.js');
      return WasmEngine.create();
    }
    case 'unicorn': {
      const { UnicornEngine } = await import('./unicorn-engine.js');
      return UnicornEngine.create();
    }
    default:
      throw new Error(`unknown engine kind ${String(kind)}: expected 'wasm' or 'unicorn'`);
  }
}
