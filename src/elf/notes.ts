// ELF notes (PT_NOTE / SHT_NOTE), chiefly the GNU build-id that names a build.

import { NT_GNU_BUILD_ID } from './constants.js';
import { ElfError, hex } from './error.js';
import type { FileBytes } from './file-bytes.js';
import type { Note } from './model.js';

export function parseNotes(file: FileBytes, offset: number, size: number, alignment: number, where: string): Note[] {
  const align = alignment === 8 ? 8 : 4;
  // Padding aligns positions within the note area (whose start is aligned), not sizes alone.
  const alignUp = (at: number): number => offset + ((at - offset + align - 1) & ~(align - 1));
  const notes: Note[] = [];
  let at = offset;
  const end = offset + size;
  while (at < end) {
    const noteWhere = `${where}: note at ${hex(at)}`;
    if (end - at < 12) throw new ElfError('truncated', `${end - at} bytes left, too few for a note header`, { where: noteWhere, offset: at });
    const nameSize = file.u32(at, noteWhere);
    const descriptorSize = file.u32(at + 4, noteWhere);
    const type = file.u32(at + 8, noteWhere);
    const nameAt = at + 12;
    const descriptorAt = alignUp(nameAt + nameSize);
    const next = alignUp(descriptorAt + descriptorSize);
    // The padding after the last descriptor may be missing, so only its bytes must fit.
    if (nameSize > size || descriptorSize > size || descriptorAt + descriptorSize > end) {
      throw new ElfError('malformed', `name (${nameSize} bytes) and descriptor (${descriptorSize} bytes) extend past the note area (ends at ${hex(end)})`, {
        where: noteWhere,
        offset: at,
      });
    }
    const nameBytes = file.slice(nameAt, nameSize, noteWhere);
    const nul = nameBytes.indexOf(0);
    const owner = new TextDecoder().decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes);
    notes.push({ owner, type, descriptor: file.slice(descriptorAt, descriptorSize, noteWhere), offset: at });
    at = next;
  }
  return notes;
}

/** The GNU build-id as lowercase hex, as `readelf -n` and debuginfod spell it. */
export function buildIdOf(notes: readonly Note[]): string | undefined {
  const note = notes.find((n) => n.owner === 'GNU' && n.type === NT_GNU_BUILD_ID);
  if (!note) return undefined;
  return Array.from(note.descriptor, (b) => b.toString(16).padStart(2, '0')).join('');
}
