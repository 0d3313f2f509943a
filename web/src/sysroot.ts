// The system model's sysroot on the page: the Debian 12 one the build bundled (fetched once,
// when first used) or a tar the user drops in (.tar, or .tar.gz through the browser's own
// DecompressionStream: no new dependency), and the bundled packages' licence notices.

import BUNDLED from 'virtual:bundled-sysroot';
import { h } from './view/dom.js';

export { BUNDLED };

let bundledBytes: Promise<Uint8Array> | undefined;

/** The bundled archive's bytes (one fetch per page). */
export function bundledTar(): Promise<Uint8Array> {
  if (!BUNDLED.available) return Promise.reject(new Error(`this build has no bundled sysroot: ${BUNDLED.reason}`));
  const url = BUNDLED.tarUrl;
  bundledBytes ??= fetch(url).then(async (response) => {
    if (!response.ok) throw new Error(`could not load the bundled sysroot ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  });
  bundledBytes.catch(() => (bundledBytes = undefined));
  return bundledBytes;
}

/** The bundled packages in one line: "Debian 12 (bookworm): libc6 2.36-9+deb12u14, ...". */
export function bundledSummary(): string {
  if (!BUNDLED.available) return '';
  return `${BUNDLED.distribution}: ${BUNDLED.packages.map((p) => `${p.name} ${p.version}`).join(', ')}`;
}

/** A dropped sysroot: the tar's bytes, decompressed when it is gzip (1f 8b). */
export async function sysrootFromFile(file: File): Promise<Uint8Array> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`sysroot '${file.name}': not a readable gzip file (${(error as Error).message})`);
  }
}

/** The footer: which libraries the page ships and their licences (each package's copyright file). */
export function licenceFooter(): (HTMLElement | string)[] {
  if (!BUNDLED.available) return [h('span', {}, 'This build bundles no sysroot, so it ships no third-party libraries besides its own dependencies.')];
  const seen = new Map<string, string[]>();
  for (const p of BUNDLED.packages) seen.set(p.notice, [...(seen.get(p.notice) ?? []), `${p.name} ${p.version}`]);
  const links = [...seen].map(([url, names], i) => [i > 0 ? '; ' : '', h('a', { href: url, target: '_blank', rel: 'noopener', class: 'licence' }, `licence of ${names.join(', ')}`)]).flat();
  return [h('span', {}, `The bundled sysroot (${BUNDLED.files.length} files of ${bundledSummary()}) is free software from Debian, shipped unchanged with its notices: `), ...links, '.'];
}
