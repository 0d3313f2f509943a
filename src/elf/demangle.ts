// C++ (Itanium) and Rust demangling through gecko-profiler-demangle's WebAssembly module.
// The package is a wasm-bindgen "bundler" build that Node cannot import, so the wasm bytes
// are embedded (scripts/embed-demangler.mjs) and instantiated here with a minimal glue
// for its two-function ABI: allocate + copy the name in, get (pointer, length) back.
//
// Differences from c++filt, measured on libstdc++'s 6,000+ exported names (test/elf/
// demangle.test.ts; 89% identical): function templates lose their return type
// ("f<int>(int)" vs "void f<int>(int)"); std abbreviations stay short where c++filt expands
// them ("std::ostream::ostream()" vs "std::basic_ostream<char, ...>::basic_ostream()");
// integer template arguments are spelled "(long)1" not "1l". ElfFile.findSymbols folds all
// three, so names pasted from nm -C or gdb still resolve. Real bugs (~0.4%): a template
// constructor's repeated parameter ("...ET_S8_RKS3_") is dropped, a substitution after a
// reference ("RNS1_15__upcast_resultE") is misplaced, "operator <pointer to member>" is garbled.

import { DEMANGLER_WASM_GZIP_BASE64 } from './demangler-wasm.generated.js';

interface DemanglerExports {
  memory: WebAssembly.Memory;
  demangle_any(pointer: number, length: number): [number, number];
  __wbindgen_export_0: WebAssembly.Table;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(pointer: number, size: number, align: number): void;
  __wbindgen_start(): void;
}

let module: WebAssembly.Module | undefined;
let exports: DemanglerExports | undefined;
let pending: Promise<void> | undefined;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Loads the demangler once; later calls return the same promise. `wasmBytes` overrides the
 * embedded module (e.g. a page that fetched index_bg.wasm itself).
 */
export function initDemangler(wasmBytes?: Uint8Array): Promise<void> {
  pending ??= (async () => {
    const bytes = wasmBytes ?? (await gunzip(base64Bytes(DEMANGLER_WASM_GZIP_BASE64)));
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    exports = instantiate(module);
  })();
  return pending;
}

export function isDemanglerReady(): boolean {
  return exports !== undefined;
}

/**
 * `_Z13need_fix_funcv` -> `need_fix_func()`. Names that are not mangled, or that the demangler
 * cannot parse, come back unchanged (as c++filt leaves them).
 * Throws (a programming error) for a mangled name if initDemangler() has not completed.
 */
export function demangle(name: string): string {
  // demangle_any also rewrites plain C names (drops a leading '_' as for Mach-O), so only
  // Itanium C++ (`_Z`, which covers legacy Rust) and Rust v0 (`_R`) names go to it; other
  // names need no demangler (callers may skip loading it for a C program).
  if (!name.startsWith('_Z') && !name.startsWith('_R')) return name;
  if (!exports) throw new Error('demangle() called before initDemangler() completed');
  // A version suffix (`_ZN3Foo3barEv@@V1` in .symtab) is not part of the mangling.
  const at = name.indexOf('@');
  if (at > 0) return demangle(name.slice(0, at)) + name.slice(at);
  const text = demangleRaw(name);
  // On failure demangle_any falls back to other schemes that just drop the leading '_'.
  if (text === name || text === name.slice(1)) return name;
  return toCxxfiltSpelling(text);
}

function demangleRaw(name: string): string {
  if (!exports) return name;
  const input = encoder.encode(name);
  try {
    const pointer = exports.__wbindgen_malloc(input.length, 1) >>> 0;
    new Uint8Array(exports.memory.buffer, pointer, input.length).set(input);
    // The callee takes ownership of the input buffer; the output buffer is ours to free.
    const [outPointer, outLength] = exports.demangle_any(pointer, input.length);
    const text = decoder.decode(new Uint8Array(exports.memory.buffer, outPointer >>> 0, outLength >>> 0));
    exports.__wbindgen_free(outPointer, outLength, 1);
    return text;
  } catch {
    // A Rust panic traps and leaves the instance unusable: start a fresh one and treat the
    // name as not demanglable.
    exports = module ? instantiate(module) : undefined;
    return name;
  }
}

/**
 * The demangler spells special names in braces ("{vtable(Foo)}"); users and binutils
 * spell them as c++filt does ("vtable for Foo"), so rewrite those forms.
 */
export function toCxxfiltSpelling(text: string): string {
  if (!text.startsWith('{')) return text.replace(/^construction vtable for (.+)-in-(.+)$/, (whole, a: string, b: string) => (a.includes('-in-') || b.includes('-in-') ? whole : `construction vtable for ${b}-in-${a}`));
  const call = /^\{([a-z -]+)\((.*)\)\}$/.exec(text);
  if (!call) return text;
  const [, kind, inside] = call as unknown as [string, string, string];
  const args = splitTopLevel(inside);
  const subject = args[args.length - 1] ?? inside;
  if (kind === 'vtable') return `vtable for ${subject}`;
  if (kind === 'vtt') return `VTT for ${subject}`;
  if (kind === 'virtual override thunk') {
    if (args.length === 3) return `covariant return thunk to ${subject}`;
    return args[0]?.startsWith('{virtual offset') ? `virtual thunk to ${subject}` : `non-virtual thunk to ${subject}`;
  }
  return text;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '{' || c === '<' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === '>' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

function instantiate(compiled: WebAssembly.Module): DemanglerExports {
  let instanceExports: DemanglerExports | undefined;
  const imports = {
    './index_bg.js': {
      // wasm-bindgen's externref table starts with 4 reserved slots: undefined, null, true, false.
      __wbindgen_init_externref_table(): void {
        const table = instanceExports!.__wbindgen_export_0;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      },
    },
  };
  const instance = new WebAssembly.Instance(compiled, imports);
  instanceExports = instance.exports as unknown as DemanglerExports;
  instanceExports.__wbindgen_start();
  return instanceExports;
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  // Read the stream directly: `new Response(stream)` would load Node's fetch implementation
  // (undici), about a tenth of a cold start.
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
