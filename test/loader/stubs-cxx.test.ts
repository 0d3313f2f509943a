// libstdc++ stubs against the real libstdc++: small C++ programs compiled with g++, run
// natively and in the sandbox, must print the same bytes (hashes, bucket counts and
// iteration order, string capacities, vector growth) and die the same way on a throw.
// The pure policy functions are compared with the native policy over a grid of states.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmulatedProcess } from '../../src/loader/index.js';
import { PRIME_BUCKET_COUNTS, needRehash } from '../../src/loader/stubs/cxx-rehash-policy.js';
import { createTestEngine } from './engine.js';
import { readBytes, tempDir } from './native.js';

const hasGxx = spawnSync('g++', ['--version']).status === 0;
const native = hasGxx && process.platform === 'linux' && process.arch === 'x64';

function compileCxx(dir: string, name: string, source: string): string {
  writeFileSync(join(dir, `${name}.cpp`), source);
  const out = join(dir, name);
  execFileSync('g++', ['-O2', `${name}.cpp`, '-o', out], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

async function runInSandbox(exe: string, argv: string[] = []): Promise<{ stdout: string; stderr: string; stop: Awaited<ReturnType<EmulatedProcess['run']>> }> {
  const p = await EmulatedProcess.create(await createTestEngine(), { main: readBytes(exe), mainPath: exe, argv });
  const stop = p.run({ maxInstructions: 20_000_000 });
  return { stdout: p.stdoutText(), stderr: p.stdoutText(2), stop };
}

const CONTAINERS = String.raw`
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

static void show(const char *label, const std::string &s) {
    printf("%s: [%s] size %zu capacity %zu\n", label, s.c_str(), s.size(), s.capacity());
}

int main(int argc, char **argv) {
    // std::hash<std::string> = _Hash_bytes(p, n, 0xc70f6907), every tail length.
    std::string text = "the quick brown fox jumps over the lazy dog";
    for (size_t n = 0; n <= 20; n++) printf("hash %zu %016zx\n", n, std::hash<std::string>{}(text.substr(0, n)));
    printf("hash seed %016zx\n", std::_Hash_bytes(text.data(), text.size(), 12345));

    std::__detail::_Prime_rehash_policy policy(0.75f);
    size_t requests[] = { 0, 1, 2, 5, 13, 14, 98, 100, 1000, 123456, 5000000000ul, 18446744073709551000ul };
    for (size_t n : requests) {
        size_t b = policy._M_next_bkt(n);
        printf("next_bkt %zu -> %zu (next resize %zu)\n", n, b, policy._M_state());
    }

    std::string s;
    for (int i = 0; i < 40; i++) { s += char('a' + i % 26); if (i % 7 == 0) show("append", s); }
    s.append(" and a longer tail appended at once");
    show("append", s);
    s.replace(2, 5, s.c_str() + 10, 12);
    show("replace aliasing", s);
    s.replace(0, 30, "short");
    show("replace shrink", s);
    s.insert(3, 4, '#');
    show("insert chars", s);
    s.erase(1, 3);
    show("erase", s);
    s.resize(70, '.');
    show("resize grow", s);
    s.resize(10);
    show("resize shrink", s);
    s.reserve(200);
    show("reserve 200", s);
    s.reserve(20);
    show("reserve 20", s);
    s.shrink_to_fit();
    show("shrink", s);
    std::string t(40, 'x');
    show("fill", t);
    t = s;
    show("assign", t);
    std::string u = std::string("a rather long string built from a pointer range") + "!" + std::to_string(argc);
    show("concat", u);
    std::string moved = std::move(u);
    show("moved", moved);
    show("moved-from", u);

    // Pre-sized: exact bucket count and iteration order.
    std::unordered_map<std::string, int> table;
    table.reserve(100);
    for (int i = 0; i < 60; i++) table["player-" + std::to_string(i * 37)] = i;
    printf("buckets %zu size %zu\n", table.bucket_count(), table.size());
    for (const auto &kv : table) printf("%s=%d@%zu ", kv.first.c_str(), kv.second, table.bucket(kv.first));
    printf("\n");
    table.erase("player-37");
    printf("after erase %zu, find %d\n", table.size(), table.count("player-74") ? table["player-74"] : -1);

    std::vector<long> v;
    for (int i = 0; i < 100; i++) { v.push_back(i); if ((i & (i + 1)) == 0) printf("vector %zu/%zu\n", v.size(), v.capacity()); }
    return 0;
}
`;

const THROWS = String.raw`
#include <cstdio>
#include <cstring>
#include <string>
int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); // natively, output must survive the abort
    std::string s("abc");
    puts("before");
    if (strcmp(argv[1], "replace") == 0) s.replace(10, 1, "x");
    if (strcmp(argv[1], "reserve") == 0) s.reserve(s.max_size() + 1);
    puts("not reached");
    return 0;
}
`;

const GROWS = String.raw`
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
int main() {
    std::unordered_map<int, int> m;
    m[1] = 2;
    printf("%zu\n", m.bucket_count());
    // Every rehash on the way to 5000 elements, then the order they are visited in.
    size_t last = m.bucket_count();
    for (int i = 0; i < 5000; i++) {
        m[i * 7919] = i;
        if (m.bucket_count() != last) printf("grew to %zu at size %zu\n", last = m.bucket_count(), m.size());
    }
    long order = 0, position = 0;
    for (const auto &kv : m) order = order * 31 + kv.first + position++;
    printf("order %ld\n", order);
    std::unordered_set<std::string> words;
    words.max_load_factor(0.5f);
    for (int i = 0; i < 300; i++) words.insert("w" + std::to_string(i * i));
    printf("set %zu buckets %zu:", words.size(), words.bucket_count());
    int shown = 0;
    for (const auto &w : words) if (shown++ < 12) printf(" %s", w.c_str());
    printf("\n");
    return 0;
}
`;

const PRIMES = String.raw`
#include <cstdio>
#include <unordered_map>
int main() {
    std::__detail::_Prime_rehash_policy p;
    size_t n = 1, last = 0;
    for (;;) {
        size_t b = p._M_next_bkt(n);
        if (b == last || b < n) break;
        printf("%zu\n", b);
        last = b;
        n = b + 1;
    }
    return 0;
}
`;

const NEED_REHASH_GRID = { loadFactors: [1, 0.75, 0.5, 2], nextResizes: [0, 1, 9, 77, 1031], buckets: [1, 13, 103], elements: [0, 5, 12, 76, 77, 200], inserting: [1, 3] };

const NEED_REHASH = String.raw`
#include <cstdio>
#include <unordered_map>
int main() {
    float loadFactors[] = { ${NEED_REHASH_GRID.loadFactors.join(', ')} };
    size_t nextResizes[] = { ${NEED_REHASH_GRID.nextResizes.join(', ')} }, buckets[] = { ${NEED_REHASH_GRID.buckets.join(', ')} };
    size_t elements[] = { ${NEED_REHASH_GRID.elements.join(', ')} }, inserting[] = { ${NEED_REHASH_GRID.inserting.join(', ')} };
    for (float f : loadFactors) for (size_t r : nextResizes) for (size_t b : buckets) for (size_t e : elements) for (size_t i : inserting) {
        std::__detail::_Prime_rehash_policy p(f);
        p._M_reset(r);
        auto answer = p._M_need_rehash(b, e, i);
        printf("%g %zu %zu %zu %zu -> %d %zu %zu\n", f, r, b, e, i, answer.first ? 1 : 0, answer.second, p._M_state());
    }
    return 0;
}
`;

describe.runIf(native)('libstdc++ stubs against the real libstdc++', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir('stubs-cxx');
  });

  it('string, unordered_map and vector code prints the same bytes natively and in the sandbox', async () => {
    const exe = compileCxx(dir, 'containers', CONTAINERS);
    const real = spawnSync(exe, [], { encoding: 'utf8' });
    expect(real.status).toBe(0);
    const sandbox = await runInSandbox(exe);
    expect(sandbox.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(sandbox.stdout).toBe(real.stdout);
    expect(real.stdout).toContain('buckets 103 size 60');
  });

  it.each([['replace', 'std::out_of_range'], ['reserve', 'std::length_error']])('a thrown %s ends both runs alike: terminate message, SIGABRT', async (what, type) => {
    const exe = compileCxx(dir, 'throws', THROWS);
    const real = spawnSync(exe, [what], { encoding: 'utf8' });
    expect(real.signal).toBe('SIGABRT');
    expect(real.stderr).toContain(`terminate called after throwing an instance of '${type}'`);
    const sandbox = await runInSandbox(exe, [what]);
    expect(sandbox.stop).toMatchObject({ reason: 'killed', signo: 6 });
    expect(sandbox.stdout).toBe(real.stdout);
    expect(sandbox.stderr).toBe(real.stderr);
  });

  it('the prime bucket table is the one libstdc++\'s _M_next_bkt answers from', () => {
    const exe = compileCxx(dir, 'primes', PRIMES);
    const measured = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n').map(BigInt);
    expect(PRIME_BUCKET_COUNTS).toEqual(measured);
  });

  it('_M_need_rehash decides and updates its state as libstdc++ does', () => {
    const exe = compileCxx(dir, 'need-rehash', NEED_REHASH);
    const lines = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
    const g = NEED_REHASH_GRID;
    const ours: string[] = [];
    for (const f of g.loadFactors) for (const r of g.nextResizes) for (const b of g.buckets) for (const e of g.elements) for (const i of g.inserting) {
      const state = { maxLoadFactor: f, nextResize: BigInt(r) };
      const answer = needRehash(state, BigInt(b), BigInt(e), BigInt(i));
      ours.push(`${f} ${r} ${b} ${e} ${i} -> ${answer.rehash ? 1 : 0} ${answer.buckets} ${state.nextResize}`);
    }
    expect(lines.length).toBe(ours.length);
    expect(ours).toEqual(lines);
    expect(lines.some((l) => l.includes('-> 1 '))).toBe(true);
  });

  it('tables that grow rehash as libstdc++ does: _M_need_rehash\'s bucket count comes back in rdx', async () => {
    const exe = compileCxx(dir, 'grows', GROWS);
    const real = execFileSync(exe, { encoding: 'utf8' });
    expect(real).toMatch(/^13\ngrew to 29 at size 14\n/);
    const sandbox = await runInSandbox(exe);
    expect(sandbox.stop).toMatchObject({ reason: 'exited', status: 0 });
    expect(sandbox.stdout).toBe(real);
  });
});
