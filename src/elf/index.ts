// Public surface of the ELF layer.
export * from './constants.js';
export { ElfError, type ElfProblem, type ElfErrorDetails } from './error.js';
export * from './model.js';
export { RelocationType, relocationTypeName } from './relocation-types.js';
export { ElfFile, normalizeSignature, withoutParameters, type ParseOptions } from './elf-file.js';
export { sectionIndexName, versionedName, isDefined } from './symbols.js';
export { gnuHash, sysvHash, type SymbolHashTable } from './hash-tables.js';
export { initDemangler, demangle, isDemanglerReady } from './demangle.js';
export type { PltStub } from './plt.js';
export type { UnwindRule } from './eh-frame.js';
