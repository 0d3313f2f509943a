// The embedded demangler against c++filt on every name in libstdc++'s .dynsym and in the
// corpus. Known classes where ours differs (documented in src/elf/demangle.ts) are
// counted; anything else is a failure unless it is on the short list of demangler bugs.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { demangle, ElfError, ElfFile, initDemangler, isDemanglerReady, normalizeSignature, SymbolType } from '../../src/elf/index.js';
import { toCxxfiltSpelling } from '../../src/elf/demangle.js';
import { corpusElfFiles, readBytes, SYSTEM_LIBRARIES } from './elf-files.js';

function cxxfilt(names: string[]): string[] {
  const out = execFileSync('c++filt', { input: names.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n');
  return out.slice(0, names.length);
}

type Difference = 'template-return-type' | 'standard-abbreviation' | 'other';

function classify(ours: string, reference: string): Difference | 'same' {
  if (ours === reference) return 'same';
  if (reference.endsWith(ours) && /[\w&*> ]$/.test(reference.slice(0, reference.length - ours.length).trimEnd())) return 'template-return-type';
  const a = normalizeSignature(ours);
  const b = normalizeSignature(reference);
  if (a === b) return 'standard-abbreviation';
  if (b.endsWith(a) && b.length > a.length) return 'template-return-type';
  return 'other';
}

/**
 * Names cpp_demangle (inside gecko-profiler-demangle 0.4.0) gets wrong, not just spells
 * differently: a template constructor's parameter that repeats the template parameter
 * (`...EET_S8_RKS3_`) is dropped; a nested-name substitution after a reference
 * (`RNS1_15__upcast_resultE`) is misplaced; a conversion operator to a pointer to member
 * (`cvM`) is garbled.
 */
const KNOWN_DEMANGLER_BUGS = /C[123]I.*ET_S[0-9A-Z]*_|RNS[0-9A-Z]*_\d+__(upcast|dyncast)_result|cvM/;

function librarySymbolNames(path: string): string[] {
  const elf = ElfFile.parse(readBytes(path));
  return [...new Set([...elf.symbols, ...elf.dynamicSymbols].map((s) => s.name).filter((n) => n !== ''))];
}

beforeAll(async () => {
  await initDemangler();
});

describe('demangle()', () => {
  it('is ready after initDemangler() and is idempotent to re-init', async () => {
    expect(isDemanglerReady()).toBe(true);
    await initDemangler();
    expect(demangle('_Z13need_fix_funcv')).toBe('need_fix_func()');
  });

  it('spells the hot-patch cases as c++filt does', () => {
    const names = ['_Z13need_fix_funcv', '_ZN2ns3Foo3barEi', '_ZNK2ns3Foo3bazERKSt6vectorIiSaIiEE', '_ZTV3Foo', '_ZTT3Foo', '_ZThn8_N3Foo3bazEv', '_ZTv0_n24_N3Foo3bazEv', '_ZTch0_h16_N3Foo3bazEv', '_ZTC3Foo0_3Bar', '_Z3fooi.constprop.0', '_ZN3FooC2Ev', 'main', '__libc_start_main', '_ITM_registerTMCloneTable'];
    expect(names.map(demangle)).toEqual(cxxfilt(names));
  });

  it('keeps a version suffix and leaves garbage unchanged', () => {
    expect(demangle('_ZN3Foo3barEv@@V1')).toBe('Foo::bar()@@V1');
    expect(demangle('_Z')).toBe('_Z');
    expect(demangle('_ZN9999999999')).toBe('_ZN9999999999');
    expect(demangle('')).toBe('');
  });

  it('rewrites braced special names', () => {
    expect(toCxxfiltSpelling('{vtable(ns::A<int>)}')).toBe('vtable for ns::A<int>');
    expect(toCxxfiltSpelling('{virtual override thunk({offset(-8)}, f(int, long))}')).toBe('non-virtual thunk to f(int, long)');
  });
});

describe.runIf(SYSTEM_LIBRARIES.some((p) => p.includes('libstdc++')))('demangle() vs c++filt on libstdc++ and the corpus', () => {
  const names = [
    ...librarySymbolNames(SYSTEM_LIBRARIES.find((p) => p.includes('libstdc++'))!),
    ...corpusElfFiles().flatMap((p) => {
      try {
        return librarySymbolNames(p);
      } catch (error) {
        if (error instanceof ElfError) return [];
        throw error;
      }
    }),
  ];
  const unique = [...new Set(names)];

  it(`agrees on every name except the documented classes (${unique.length} names)`, () => {
    const reference = cxxfilt(unique);
    const counts: Record<string, number> = { same: 0, 'template-return-type': 0, 'standard-abbreviation': 0, other: 0, 'known-bug': 0 };
    const unexplained: string[] = [];
    unique.forEach((name, i) => {
      let kind: string = classify(demangle(name), reference[i]!);
      if (kind === 'other' && KNOWN_DEMANGLER_BUGS.test(name)) kind = 'known-bug';
      counts[kind]!++;
      if (kind === 'other') unexplained.push(`${name}\n  ours:     ${demangle(name)}\n  c++filt:  ${reference[i]}`);
    });
    console.log('demangle vs c++filt:', counts);
    expect(unique.length).toBeGreaterThan(5000);
    expect(unexplained.slice(0, 10)).toEqual([]);
    expect(counts.same! / unique.length).toBeGreaterThan(0.8);
    // Plain C names pass through untouched, exactly as c++filt leaves them.
    const cNames = unique.filter((n) => !n.startsWith('_Z'));
    expect(cNames.map(demangle)).toEqual(cNames);
  });

  it('finds symbols by the names c++filt prints (nm -C, gdb)', () => {
    const elf = ElfFile.parse(readBytes(SYSTEM_LIBRARIES.find((p) => p.includes('libstdc++'))!));
    const functions = elf.dynamicSymbols.filter((s) => s.type === SymbolType.Func && s.sectionIndex !== 0 && s.name.startsWith('_Z') && !KNOWN_DEMANGLER_BUGS.test(s.name));
    const sample = functions.filter((_, i) => i % Math.ceil(functions.length / 150) === 0);
    const spelled = cxxfilt(sample.map((s) => s.name));
    sample.forEach((symbol, i) => {
      expect(elf.findSymbols(spelled[i]!).map((s) => s.name), spelled[i]).toContain(symbol.name);
    });
  });
});
