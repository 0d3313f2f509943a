// keystone-wasm ships types, but its package.json "exports" has no "types" condition, so
// NodeNext resolution cannot see them. This declares the part of its API we use.

declare module 'keystone-wasm' {
  export class Keystone {
    constructor(arch: number, mode: number);
    setOption(option: number, value: number): number;
    close(): void;
    asm(text: string, options?: { address?: number | bigint }): Uint8Array;
    errNo(): number;
    static strError(errno: number): string;
    static version(): { major: number; minor: number };
  }
  export const Const: {
    readonly KS_ARCH_X86: number;
    readonly KS_MODE_64: number;
    readonly KS_OPT_SYNTAX: number;
    readonly KS_OPT_SYNTAX_INTEL: number;
  };
  /** Instantiates the module (Emscripten Module arguments, e.g. { wasmBinary }). */
  export function loadKeystone(args?: { wasmBinary?: Uint8Array; printErr?: (text: string) => void; print?: (text: string) => void }): Promise<void>;
}
