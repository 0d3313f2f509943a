// The CPU model both engines report through `cpuid`: the WebAssembly core answers it in
// wasm/assembly/system.ts, UnicornEngine answers it from this table through a CPUID hook.
// It must be the same on both, or glibc picks other ifunc variants (memcpy, strlen...) on each
// engine and the instruction counts differ; test/engine/cpuid.test.ts holds the two together.
// It advertises only what the core implements (and Unicorn's Haswell model executes).

/** eax, ebx, ecx, edx of one leaf. */
export type CpuidResult = readonly [eax: number, ebx: number, ecx: number, edx: number];

const bit = (...bits: number[]): number => bits.reduce((word, b) => (word | (1 << b)) >>> 0, 0);

/**
 * leaf 0: max basic leaf 1, "GenuineIntel".
 * leaf 1: family 6 model 0x3a; edx FPU(0) TSC(4) CX8(8) CMOV(15) MMX(23) FXSR(24) SSE(25) SSE2(26)
 *   (MMX: part of the x86-64 baseline ISA level Debian's ld.so checks; the core has no MMX
 *   instructions and stops on one as unsupported); ecx SSE3(0) SSSE3(9) CX16(13) SSE4.1(19)
 *   SSE4.2(20) MOVBE(22) POPCNT(23) RDRAND(30). No AVX, XSAVE or OSXSAVE.
 * leaf 0x80000000: max extended leaf 0x80000001; 0x80000001: edx SYSCALL(11) NX(20) LM(29),
 *   ecx LAHF-SAHF(0) ABM/lzcnt(5). Every other leaf reads as zeros.
 */
export const CPUID_LEAVES: ReadonlyMap<number, CpuidResult> = new Map<number, CpuidResult>([
  [0x0, [1, 0x756e6547, 0x6c65746e, 0x49656e69]],
  [0x1, [0x000306a0, 0, bit(0, 9, 13, 19, 20, 22, 23, 30), bit(0, 4, 8, 15, 23, 24, 25, 26)]],
  [0x80000000, [0x80000001, 0, 0, 0]],
  [0x80000001, [0, 0, bit(0, 5), bit(11, 20, 29)]],
]);

const ZEROS: CpuidResult = [0, 0, 0, 0];

/** What `cpuid` returns for eax = leaf (ecx, the subleaf, selects nothing in this model). */
export function cpuidLeaf(leaf: number): CpuidResult {
  return CPUID_LEAVES.get(leaf >>> 0) ?? ZEROS;
}
