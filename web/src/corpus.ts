// The corpus scenarios bundled into the page: each case of corpus/<name>/expect.json and
// corpus/real/<name>/expect.json (upstream programs, system model), with its binaries emitted
// as static assets and fetched only when the case is run.

import type { TrampolineChoice, VerifyRequest } from './protocol.js';

interface ExpectFile {
  scenario: string;
  description: string;
  cases: {
    name: string;
    main: string;
    patch: string;
    symbol: string;
    args?: string[];
    /** The process model the case is verified on (corpus/real: system). */
    process?: 'system' | 'stubs';
    verdict: string;
    findings?: (string | { code: string })[];
  }[];
}

export interface CorpusCase {
  /** "seed-classic/tool-patches-need-fix-func" */
  id: string;
  scenario: string;
  /** The scenario's folder under corpus/ ("seed-classic", "real/tinyxml2"). */
  dir: string;
  /** The model the case expects: system for real programs (they need the real glibc), else stubs. */
  process: 'system' | 'stubs';
  description: string;
  name: string;
  main: string;
  patch: string;
  symbol: string;
  replacement?: string;
  trampoline: TrampolineChoice;
  signal?: string;
  strategy?: 'got' | 'vtable';
  /** --explore [FROM:TO]: the window ({} for the default one). */
  explore?: { from?: number; to?: number };
  expectedVerdict: string;
  expectedCodes: string[];
}

const expectFiles = import.meta.glob<ExpectFile>(['../../corpus/*/expect.json', '../../corpus/real/*/expect.json'], { eager: true, import: 'default' });
const binaryUrls = import.meta.glob<string>(
  [
    '../../corpus/*/*', '!../../corpus/*/*.{json,c,cpp,h,S,sh,md}', '!../../corpus/lib/**', '!../../corpus/common/**', '!../../corpus/real/*',
    '../../corpus/real/*/*', '!../../corpus/real/*/*.{json,c,cpp,h,sh,md}', '!../../corpus/real/*/BUILDINFO',
  ],
  { eager: true, query: '?url', import: 'default' },
);

function trampolineOf(args: readonly string[]): TrampolineChoice {
  const i = args.indexOf('--trampoline');
  const form = i >= 0 ? args[i + 1] : undefined;
  if (form === undefined || form === 'abs-rax') return 'abs-rax';
  if (form === 'rel32' || form === 'abs-indirect') return form;
  return { template: form };
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export const CORPUS_CASES: CorpusCase[] = Object.entries(expectFiles)
  .flatMap(([path, file]) =>
    file.cases.map((c) => {
      const args = c.args ?? [];
      const entry: CorpusCase = {
        id: `${file.scenario}/${c.name}`,
        scenario: file.scenario,
        dir: path.slice('../../corpus/'.length, -'/expect.json'.length),
        process: c.process ?? 'stubs',
        description: file.description,
        name: c.name,
        main: c.main,
        patch: c.patch,
        symbol: c.symbol,
        trampoline: trampolineOf(args),
        expectedVerdict: c.verdict,
        expectedCodes: (c.findings ?? []).map((f) => (typeof f === 'string' ? f : f.code)),
      };
      const replacement = option(args, '--with');
      if (replacement !== undefined) entry.replacement = replacement;
      const signal = option(args, '--signal');
      if (signal !== undefined) entry.signal = signal;
      const strategy = option(args, '--strategy');
      if (strategy === 'got' || strategy === 'vtable') entry.strategy = strategy;
      if (args.includes('--explore')) {
        const window = /^(\d*):(\d*)$/.exec(option(args, '--explore') ?? '');
        entry.explore = {};
        if (window?.[1]) entry.explore.from = Number(window[1]);
        if (window?.[2]) entry.explore.to = Number(window[2]);
      }
      return entry;
    }),
  )
  .filter((c) => binaryUrl(c.dir, c.main) !== undefined && binaryUrl(c.dir, c.patch) !== undefined);

function binaryUrl(dir: string, file: string): string | undefined {
  return binaryUrls[`../../corpus/${dir}/${file}`];
}

const fetched = new Map<string, Promise<Uint8Array>>();

/** A corpus file's bytes, fetched once per page (listing main's functions, then verifying). */
function fetchBytes(url: string): Promise<Uint8Array> {
  let bytes = fetched.get(url);
  if (!bytes) {
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    bytes.catch(() => fetched.delete(url));
    fetched.set(url, bytes);
  }
  return bytes;
}

export function corpusMain(c: CorpusCase): Promise<Uint8Array> {
  return fetchBytes(binaryUrl(c.dir, c.main)!);
}

/**
 * The case's files: main, patch.so, and the scenario's shared libraries (lib*.so: what main
 * may need next to it; the verifier takes only those ld.so would load). What to patch and
 * how comes from the page's fields (the case fills them in).
 */
export async function corpusFiles(c: CorpusCase): Promise<Pick<VerifyRequest, 'main' | 'mainName' | 'patch' | 'patchName' | 'libraries'>> {
  const prefix = `../../corpus/${c.dir}/`;
  const libraryNames = Object.keys(binaryUrls)
    .filter((key) => key.startsWith(prefix) && /^lib[^/]*\.so(\.\d+)*$/.test(key.slice(prefix.length)) && key.slice(prefix.length) !== c.patch)
    .map((key) => key.slice(prefix.length));
  const [main, patch, ...libraries] = await Promise.all([corpusMain(c), fetchBytes(binaryUrl(c.dir, c.patch)!), ...libraryNames.map((name) => fetchBytes(binaryUrl(c.dir, name)!))]);
  return { main: main!, mainName: c.main, patch: patch!, patchName: c.patch, libraries: libraries.map((bytes, i) => ({ path: libraryNames[i]!, bytes })) };
}
