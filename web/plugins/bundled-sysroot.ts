// The page's bundled sysroot: `virtual:bundled-sysroot` runs scripts/fetch-sysroot.sh once
// (the pinned Debian 12 libc6, libstdc++6, libgcc-s1, cached in .cache/sysroot) and exports
// the archive's URL, the packages and their licence notices as assets of the build. Where the
// script cannot get them, the build says so on its output and the module says why, so the page
// falls back to the stubs model with a visible note.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

export const BUNDLED_SYSROOT_ID = 'virtual:bundled-sysroot';
const RESOLVED_ID = `\0${BUNDLED_SYSROOT_ID}`;

interface Manifest {
  distribution: string;
  packages: { name: string; version: string; notice: string }[];
  files: string[];
}

export interface BundledSysrootOptions {
  /** The repository root (scripts/ and .cache/ live there). */
  repoRoot: string;
  /** The fetch command (default: bash scripts/fetch-sysroot.sh); tests pass one that fails. */
  command?: readonly string[];
  /** Where the build's messages go (default: stderr). */
  log?: (line: string) => void;
}

/** The script's outcome, computed once per process (the page and the worker builds share it). */
const outcomes = new Map<string, { ok: true; manifest: Manifest; dir: string } | { ok: false; reason: string }>();

/** PATCHSANDBOX_WEB_SYSROOT=none builds the page without the sysroot (5 MiB less to host; the page runs the stubs model). */
const OPT_OUT = 'PATCHSANDBOX_WEB_SYSROOT';

function fetchSysroot(options: BundledSysrootOptions): { ok: true; manifest: Manifest; dir: string } | { ok: false; reason: string } {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (process.env[OPT_OUT] === 'none') {
    const reason = `${OPT_OUT}=none`;
    log(`web build: no bundled sysroot (${reason}): the page falls back to the stubs process model`);
    return { ok: false, reason };
  }
  const command = options.command ?? ['bash', join(options.repoRoot, 'scripts/fetch-sysroot.sh')];
  const key = `${options.repoRoot}\0${command.join('\0')}`;
  const known = outcomes.get(key);
  if (known) return known;
  const dir = join(options.repoRoot, '.cache/sysroot');
  const run = spawnSync(command[0]!, command.slice(1), { cwd: options.repoRoot, encoding: 'utf8', timeout: 300_000 });
  let outcome: { ok: true; manifest: Manifest; dir: string } | { ok: false; reason: string };
  if (run.status === 0 && existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'sysroot.tar'))) {
    outcome = { ok: true, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest, dir };
    const size = (statSync(join(dir, 'sysroot.tar')).size / 1048576).toFixed(1);
    log(`web build: bundling the ${outcome.manifest.distribution} sysroot (${outcome.manifest.packages.map((p) => `${p.name} ${p.version}`).join(', ')}; ${size} MiB) and its licence notices`);
  } else {
    const said = `${run.stderr ?? ''}`.trim().split('\n').filter((l) => l !== '').pop()?.replace(/^fetch-sysroot: /, '');
    const reason = run.error ? `${command.join(' ')}: ${run.error.message}` : said || `${command.join(' ')} exited with status ${run.status}`;
    outcome = { ok: false, reason };
    log(`web build: no bundled sysroot (${reason}): the page falls back to the stubs process model`);
  }
  outcomes.set(key, outcome);
  return outcome;
}

/** The module's source: asset URLs through Vite's ?url, so the archive and the notices are files of the build. */
export function bundledSysrootModule(options: BundledSysrootOptions): string {
  const outcome = fetchSysroot(options);
  if (!outcome.ok) return `export default ${JSON.stringify({ available: false, reason: outcome.reason })};\n`;
  const { manifest, dir } = outcome;
  const notices = [...new Set(manifest.packages.map((p) => p.notice))];
  const lines = [`import tarUrl from ${JSON.stringify(`${join(dir, 'sysroot.tar')}?url`)};`];
  notices.forEach((n, i) => lines.push(`import notice${i} from ${JSON.stringify(`${join(dir, 'notices', n)}?url`)};`));
  const packages = manifest.packages.map((p) => `{ name: ${JSON.stringify(p.name)}, version: ${JSON.stringify(p.version)}, notice: notice${notices.indexOf(p.notice)} }`);
  lines.push(`export default { available: true, distribution: ${JSON.stringify(manifest.distribution)}, tarUrl, files: ${JSON.stringify(manifest.files)}, packages: [${packages.join(', ')}] };`);
  return `${lines.join('\n')}\n`;
}

export function bundledSysroot(options: BundledSysrootOptions): Plugin {
  return {
    name: 'patchsandbox:bundled-sysroot',
    resolveId(source) {
      return source === BUNDLED_SYSROOT_ID ? RESOLVED_ID : null;
    },
    load(id) {
      return id === RESOLVED_ID ? bundledSysrootModule(options) : null;
    },
  };
}
