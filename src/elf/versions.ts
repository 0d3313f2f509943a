// GNU symbol versioning: .gnu.version (one u16 per .dynsym entry), .gnu.version_d
// (versions this object defines) and .gnu.version_r (versions it needs from others).

import { VER_NDX_GLOBAL, VERSYM_HIDDEN, VERSYM_VERSION } from './constants.js';
import { ElfError, hex } from './error.js';
import type { FileBytes, StringTable } from './file-bytes.js';
import type { ElfSymbol, VersionDefinition, VersionRequirement } from './model.js';

const VERDEF_SIZE = 20;
const VERDAUX_SIZE = 8;
const VERNEED_SIZE = 16;
const VERNAUX_SIZE = 16;

export function parseVersionDefinitions(file: FileBytes, offset: number, count: number, strings: StringTable): VersionDefinition[] {
  const definitions: VersionDefinition[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const where = `version definition ${i} at ${hex(at)}`;
    const version = file.u16(at, where);
    if (version !== 1) throw new ElfError('malformed', `vd_version is ${version}, expected 1`, { where, offset: at });
    const auxCount = file.u16(at + 6, where);
    const names: string[] = [];
    let auxAt = at + file.u32(at + 12, where);
    for (let j = 0; j < auxCount; j++) {
      const auxWhere = `${where}, name ${j}`;
      file.range(auxAt, VERDAUX_SIZE, auxWhere);
      names.push(strings.get(file.u32(auxAt, auxWhere), auxWhere));
      const next = file.u32(auxAt + 4, auxWhere);
      if (next === 0) break;
      auxAt += next;
    }
    if (names.length === 0) throw new ElfError('malformed', 'version definition has no name', { where, offset: at });
    definitions.push({ index: file.u16(at + 4, where), flags: file.u16(at + 2, where), hash: file.u32(at + 8, where), names });
    file.range(at, VERDEF_SIZE, where);
    const next = file.u32(at + 16, where);
    if (next === 0) {
      if (i !== count - 1) throw new ElfError('malformed', `chain ends after ${i + 1} of ${count} definitions`, { where, offset: at });
      break;
    }
    at += next;
  }
  return definitions;
}

export function parseVersionRequirements(file: FileBytes, offset: number, count: number, strings: StringTable): VersionRequirement[] {
  const requirements: VersionRequirement[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const where = `version requirement ${i} at ${hex(at)}`;
    file.range(at, VERNEED_SIZE, where);
    const version = file.u16(at, where);
    if (version !== 1) throw new ElfError('malformed', `vn_version is ${version}, expected 1`, { where, offset: at });
    const auxCount = file.u16(at + 2, where);
    const requirement: VersionRequirement = { file: strings.get(file.u32(at + 4, where), where), versions: [] };
    let auxAt = at + file.u32(at + 8, where);
    for (let j = 0; j < auxCount; j++) {
      const auxWhere = `${where}, version ${j}`;
      file.range(auxAt, VERNAUX_SIZE, auxWhere);
      requirement.versions.push({
        hash: file.u32(auxAt, auxWhere),
        flags: file.u16(auxAt + 4, auxWhere),
        index: file.u16(auxAt + 6, auxWhere) & VERSYM_VERSION,
        name: strings.get(file.u32(auxAt + 8, auxWhere), auxWhere),
      });
      const next = file.u32(auxAt + 12, auxWhere);
      if (next === 0) break;
      auxAt += next;
    }
    requirements.push(requirement);
    const next = file.u32(at + 12, where);
    if (next === 0) {
      if (i !== count - 1) throw new ElfError('malformed', `chain ends after ${i + 1} of ${count} requirements`, { where, offset: at });
      break;
    }
    at += next;
  }
  return requirements;
}

/** .gnu.version and the names its indexes stand for, ready to attach to .dynsym entries. */
export interface SymbolVersionTable {
  offset: number;
  where: string;
  needed: Map<number, { name: string; file: string }>;
  defined: Map<number, string>;
}

export function symbolVersionTable(
  file: FileBytes,
  versymOffset: number,
  symbolCount: number,
  definitions: readonly VersionDefinition[],
  requirements: readonly VersionRequirement[],
): SymbolVersionTable {
  const where = `symbol version table (.gnu.version) at ${hex(versymOffset)}`;
  file.range(versymOffset, symbolCount * 2, `${where}: ${symbolCount} entries`);
  const needed = new Map<number, { name: string; file: string }>();
  for (const r of requirements) for (const v of r.versions) needed.set(v.index, { name: v.name, file: r.file });
  const defined = new Map<number, string>();
  for (const d of definitions) if (d.names[0] !== undefined) defined.set(d.index, d.names[0]);
  return { offset: versymOffset, where, needed, defined };
}

/**
 * Attaches versions to .dynsym entries (all of them, or some parsed on their own). Index 0
 * (local) and 1 (global, the base version) carry no version name, as readelf shows them. A
 * defined symbol takes its version from the definitions, an undefined one from the
 * requirements; copy-relocated objects are defined yet versioned by a requirement, so both are
 * searched.
 */
export function attachVersions(file: FileBytes, symbols: ElfSymbol[], table: SymbolVersionTable): void {
  const { offset: versymOffset, where, needed, defined } = table;
  for (const symbol of symbols) {
    const raw = file.u16(versymOffset + symbol.index * 2, where);
    const index = raw & VERSYM_VERSION;
    const hidden = (raw & VERSYM_HIDDEN) !== 0;
    if (index <= VER_NDX_GLOBAL) continue;
    const definitionName = symbol.sectionIndex !== 0 ? defined.get(index) : undefined;
    if (definitionName !== undefined) {
      symbol.version = { index, name: definitionName, hidden, kind: 'definition' };
      continue;
    }
    const requirement = needed.get(index);
    if (requirement) {
      symbol.version = { index, name: requirement.name, hidden, kind: 'requirement', file: requirement.file };
      continue;
    }
    const fallback = defined.get(index);
    if (fallback !== undefined) {
      symbol.version = { index, name: fallback, hidden, kind: 'definition' };
      continue;
    }
    throw new ElfError('malformed', `symbol ${symbol.index} (${symbol.name}) has version index ${index}, which no version definition or requirement declares`, {
      where,
      offset: versymOffset + symbol.index * 2,
    });
  }
}
