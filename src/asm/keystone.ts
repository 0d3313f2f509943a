// Keystone (x86-64, Intel syntax) behind one small class. keystone-wasm's own loader is
// environment-neutral: in Node it reads keystone.wasm next to its module, in a browser it
// fetches it relative to import.meta.url. Callers that serve the wasm themselves (a worker
// with a custom asset path) pass its bytes instead, so src/ never touches the file system.

// Imported when first needed: only template trampolines (and tests) assemble, and loading
// Keystone would otherwise be part of every cold start.
import type { Keystone } from 'keystone-wasm';
type KeystoneModule = typeof import('keystone-wasm');
import { AsmError } from './error.js';

export interface KeystoneLoadOptions {
  /** The bytes of keystone.wasm, when the default location does not work (bundlers, CSP). */
  wasmBinary?: Uint8Array;
}

const U64_MAX = (1n << 64n) - 1n;

let loading: Promise<KeystoneModule> | undefined;
/** What the Emscripten runtime last printed on its error stream (e.g. "Aborted(OOM)"): kept, never printed. */
let runtimeMessage: string | undefined;
/** Templates longer than this are refused before Keystone sees them. */
const MAX_TEMPLATE_LENGTH = 4096;

/** Assembles Intel-syntax x86-64 text at an address. One instance can be reused. */
export class Assembler {
  private readonly keystone: Keystone;
  private readonly strError: (errno: number) => string;

  private constructor(keystone: Keystone, strError: (errno: number) => string) {
    this.keystone = keystone;
    this.strError = strError;
  }

  /** Instantiates the Keystone module once per realm; later calls reuse it. */
  static async load(options: KeystoneLoadOptions = {}): Promise<Assembler> {
    loading ??= import('keystone-wasm').then(async (ks) => {
      // printErr: the runtime's own messages ("Aborted(OOM)") become part of an AsmError, not a stray stderr line.
      const printErr = (line: string): void => {
        runtimeMessage = line;
      };
      await ks.loadKeystone(options.wasmBinary ? { wasmBinary: options.wasmBinary, printErr } : { printErr });
      return ks;
    });
    let ks: KeystoneModule;
    try {
      ks = await loading;
    } catch (cause) {
      loading = undefined;
      throw new AsmError('keystone-load', `could not load the Keystone wasm module: ${String(cause)}`);
    }
    const keystone = new ks.Keystone(ks.Const.KS_ARCH_X86, ks.Const.KS_MODE_64);
    // Intel is Keystone's default for x86. Do not set KS_OPT_SYNTAX_INTEL explicitly: in
    // keystone 0.9.2 that switches the radix to 16, so `mov eax, 10` would mean 0x10.
    return new Assembler(keystone, (errno) => ks.Keystone.strError(errno));
  }

  /**
   * Assembles `text` (statements separated by ';' or newlines) as if placed at `address`,
   * so rel32 branches and rip-relative operands are encoded for that address.
   */
  assemble(text: string, address: bigint): Uint8Array {
    if (address < 0n || address > U64_MAX) {
      throw new AsmError('address', `address ${address} is outside the 64-bit address space`, { source: text, address });
    }
    if (text.length > MAX_TEMPLATE_LENGTH) {
      throw new AsmError('assembly', `the assembly text is ${text.length} characters long; at most ${MAX_TEMPLATE_LENGTH} are accepted`, { source: text.slice(0, 80), address });
    }
    let bytes: Uint8Array;
    runtimeMessage = undefined;
    try {
      bytes = this.keystone.asm(text, { address });
    } catch (cause) {
      const aborted = runtimeMessage ?? (cause instanceof Error && /Aborted\(/.test(cause.message) ? cause.message.split('.')[0] : undefined);
      if (aborted !== undefined) {
        // The Emscripten runtime aborted (out of memory): this instance is dead; the next load starts afresh.
        loading = undefined;
        throw new AsmError('assembly', `Keystone gave up assembling "${text.slice(0, 80)}" at 0x${address.toString(16)}: ${aborted} (the Keystone runtime ran out of memory)`, { source: text, address });
      }
      let errno: number;
      try {
        errno = this.keystone.errNo();
      } catch {
        throw new AsmError('assembly', `Keystone failed on "${text.slice(0, 80)}": ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`, { source: text, address });
      }
      const keystoneMessage = this.strError(errno);
      throw new AsmError(
        'assembly',
        `Keystone could not assemble "${text}" at 0x${address.toString(16)}: ${keystoneMessage}`,
        { source: text, address, keystoneErrno: errno, keystoneMessage },
      );
    }
    if (bytes.length === 0 && text.trim() !== '') {
      // Keystone silently drops statements it treats as labels or directives.
      throw new AsmError('assembly', `Keystone produced no bytes for "${text}": is it an instruction?`, {
        source: text,
        address,
      });
    }
    return bytes;
  }
}
