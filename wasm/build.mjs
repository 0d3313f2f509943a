// Placeholder until the CPU core lands: the core's owner replaces this with the AssemblyScript build.
import { existsSync } from 'node:fs';
if (existsSync(new URL('./assembly/index.ts', import.meta.url))) {
  console.error('wasm/build.mjs: the core exists but this placeholder does not build it');
  process.exit(1);
}
console.log('wasm/build.mjs: no CPU core yet (wasm/assembly/index.ts), nothing to build');
