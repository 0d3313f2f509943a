// PATCH_BINDS_OWN_COPY: a relocation of patch.so resolved to patch.so's own definition of a
// symbol main also defines (patch.so linked with the old sources, main exporting nothing).
// A variable: state splits between the two copies (error). The target function itself: the
// patcher patches patch.so's copy, not the running one (error). Another function: patch.so
// runs its own old copy of it (warning: behaviour may differ, no state is shared).

import { SymbolBinding, SymbolType, type ElfFile, type ElfSymbol } from '../../elf/index.js';
import type { RelocationBinding } from '../../loader/index.js';
import type { Evidence, Finding } from '../finding.js';

export interface OwnCopyInput {
  bindings: readonly RelocationBinding[];
  /** The loaded path of patch.so in the emulated process. */
  patchPath: string;
  patchName: string;
  main: ElfFile;
  mainName: string;
  /** The target's mangled name. */
  targetName: string;
  describe: (address: bigint) => string;
}

/** Linker- and runtime-reserved names every object defines for itself. */
function isReserved(name: string): boolean {
  return /^_[A-Z_]/.test(name) || ['_init', '_fini', '_edata', '_end', 'main'].includes(name);
}

function mainDefinition(main: ElfFile, name: string): ElfSymbol | undefined {
  return [...main.symbols, ...main.dynamicSymbols].find(
    (s) => s.name === name && s.sectionIndex !== 0 && s.binding !== SymbolBinding.Local && s.type !== SymbolType.Section && s.type !== SymbolType.File,
  );
}

export function checkOwnCopy(input: OwnCopyInput): Finding[] {
  const bySymbol = new Map<string, { binding: RelocationBinding; mainSymbol: ElfSymbol }[]>();
  for (const b of input.bindings) {
    if (b.object !== input.patchPath || !b.symbol || b.boundTo?.object !== input.patchPath || isReserved(b.symbol)) continue;
    const mainSymbol = mainDefinition(input.main, b.symbol);
    if (!mainSymbol) continue;
    const list = bySymbol.get(b.symbol) ?? [];
    list.push({ binding: b, mainSymbol });
    bySymbol.set(b.symbol, list);
  }
  const findings: Finding[] = [];
  for (const [symbol, list] of bySymbol) {
    const mainSymbol = list[0]!.mainSymbol;
    const isFunction = mainSymbol.type === SymbolType.Func || mainSymbol.type === SymbolType.GnuIfunc;
    const isTarget = symbol === input.targetName;
    const name = input.main.demangledName(mainSymbol);
    const exported = input.main.exportedSymbols(symbol).length > 0;
    const why = exported ? `${input.mainName} exports it, but patch.so's lookup scope finds its own definition first (linked with -Bsymbolic or a protected/local definition?)` : `${input.mainName} does not export it (not in .dynsym), so ld.so falls back to patch.so's own copy`;
    const evidence: Evidence[] = list.map(({ binding }) => ({
      label: `${binding.typeName} at ${input.describe(binding.offset)}`,
      address: binding.offset,
      text: `${symbol} -> 0x${binding.boundTo!.address.toString(16)} (${input.describe(binding.boundTo!.address)}) in ${input.patchName}`,
    }));
    evidence.push({ label: `${input.mainName}'s own`, text: `${symbol} at link address 0x${mainSymbol.value.toString(16)} (.${mainSymbol.table})` });
    const consequence = isTarget
      ? `a patcher using this pointer patches patch.so's copy of ${name}, while ${input.mainName} keeps running its own`
      : isFunction
        ? `patch.so calls its own, old copy of ${name} rather than the running one`
        : `patch.so reads and writes its own copy of ${name}: the program's state splits in two`;
    findings.push({
      code: 'PATCH_BINDS_OWN_COPY',
      severity: isTarget || !isFunction ? 'error' : 'warning',
      message: `patch.so's reference to ${name} binds to patch.so's own definition, not ${input.mainName}'s: ${consequence}`,
      address: list[0]!.binding.offset,
      evidence,
      hint: `build patch.so from the fix only (do not link the old sources into it) and link ${input.mainName} with -rdynamic so ${symbol} resolves to the running copy; ${why}`,
    });
  }
  return findings;
}
