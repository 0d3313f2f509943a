// corpus/real on the page's bundled sysroot, in Node: the pinned Debian 12 libc6, libstdc++6
// and libgcc-s1 (scripts/fetch-sysroot.sh; no ld.so.cache, so ld.so searches its default
// directories) as the page's worker builds the file system from the tar, with only main,
// patch.so and main's own lib*.so in the working directory. Every case must give its
// expect.json verdict and codes, and the same program output as on this machine's root.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUEST_CWD, buildVfs, directoryFiles } from '../../src/cli/sysroot.js';
import { isSysrootPath, vfsFromTar } from '../../src/loader/system/index.js';
import { parseCommandLine, runCommand, type CommandOutcome } from '../../src/verify/command.js';
import type { ProcessChoice } from '../../src/verify/input.js';
import { REAL_CORPUS_DIR, corpusCases, type ResolvedCase } from './cases.js';

const TAR = new URL('../../.cache/sysroot/sysroot.tar', import.meta.url);
const available = existsSync(TAR);
if (!available) {
  if (process.env['CI'] === 'true') throw new Error('.cache/sysroot/sysroot.tar is missing: run scripts/fetch-sysroot.sh (.ci/run does)');
  console.warn('test/corpus/bundled-sysroot: SKIPPED, no .cache/sysroot/sysroot.tar (run scripts/fetch-sysroot.sh)');
}

const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

async function verify(c: ResolvedCase, model: ProcessChoice): Promise<CommandOutcome> {
  const request = parseCommandLine([c.main, c.patch, c.symbol, ...c.args, '--process', 'system']);
  if (request.kind !== 'verify') throw new Error(`case ${c.name}: not a verify command`);
  // What the page sends: the scenario's lib*.so beside main.
  const libraries = readdirSync(c.dir).filter((f) => /^lib[^/]*\.so(\.\d+)*$/.test(f) && f !== c.patch).map((path) => ({ path, bytes: bytes(join(c.dir, path)) }));
  return runCommand(request.command, bytes(c.mainPath), bytes(c.patchPath), 'wasm', libraries, { process: model });
}

const codes = (o: CommandOutcome): string[] => o.result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}:${f.severity}`).sort();
const stdout = (o: CommandOutcome): string[] => (o.result.run?.output ?? []).filter((l) => l.stream === 'stdout').map((l) => l.text);

describe.skipIf(!available)('corpus/real on the bundled Debian 12 sysroot (as the page runs it)', () => {
  const tar = available ? bytes(TAR.pathname) : new Uint8Array(0);
  const bundled: ProcessChoice = {
    model: 'system',
    vfs: () => {
      const vfs = vfsFromTar(tar, undefined, { only: isSysrootPath });
      vfs.mkdirs(GUEST_CWD);
      vfs.mkdirs('/tmp');
      return vfs;
    },
  };
  for (const c of corpusCases(REAL_CORPUS_DIR)) {
    it(`${c.scenario}/${c.name}`, async () => {
      const outcome = await verify(c, bundled);
      expect(outcome.result.error ?? '', 'error message').toContain(c.messageContains ?? '');
      expect({ verdict: outcome.result.verdict, findings: codes(outcome) }).toEqual({ verdict: c.verdict, findings: c.findings.map((f) => `${f.code}:${f.severity}`).sort() });
      expect(outcome.result.run?.process?.libc).toMatch(/^glibc 2\.36 \(Debian GLIBC 2\.36-9\+deb12u\d+\) \(\/lib\/x86_64-linux-gnu\/libc\.so\.6\)$/);
      const host = await verify(c, { model: 'system', vfs: () => buildVfs('/', directoryFiles(c.dir)) });
      expect(stdout(outcome)).toEqual(stdout(host));
    }, 60_000);
  }
});
