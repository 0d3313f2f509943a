// The engine the loader tests run on. The WasmEngine is the default everywhere; the
// loader is written against the Engine interface only, so any implementation fits here.
import type { Engine } from '../../src/engine/engine.js';
import { WasmEngine } from '../../src/engine/wasm-engine.js';

export async function createTestEngine(): Promise<Engine> {
  return WasmEngine.create();
}
