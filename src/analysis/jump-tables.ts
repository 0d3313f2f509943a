// Recovers gcc/clang switch jump tables from the instructions before an indirect jmp:
//   PIE:     cmp eax, N; ja default; lea rdx, [rip+T]; movsxd rax, dword ptr [rdx+rax*4];
//            add rax, rdx; jmp rax                          (entries: int32 relative to T)
//   non-PIE: cmp eax, N; ja default; jmp qword ptr [rax*8+T]  (entries: absolute 64-bit)
// Works on plain instruction facts (no iced objects) so it is pure and testable.

/** The few operand facts the patterns need, taken from one decoded instruction. */
export interface InstructionFacts {
  address: number;
  length: number;
  /** Lower-case mnemonic: 'cmp', 'ja', 'movsxd', ... */
  mnemonic: string;
  /** Full 64-bit register names of register operands ('rax' for eax), or null. */
  op0Register: string | null;
  op1Register: string | null;
  op0IsMemory: boolean;
  op1IsMemory: boolean;
  /** Immediate operand (op1), when there is one. */
  immediate: number | null;
  /** Memory operand: full base/index register names, scale, displacement. */
  memoryBase: string | null;
  memoryIndex: string | null;
  memoryScale: number;
  memoryDisplacement: number;
  /** Effective address of a rip-relative memory operand. */
  ripTarget: number | null;
}

export interface JumpTable {
  /** Address of the indirect jmp that uses the table. */
  dispatch: bigint;
  /** Address of the table in read-only data. */
  table: bigint;
  form: 'pie-relative' | 'absolute';
  entrySize: 4 | 8;
  /** One target per entry, in table order (duplicates kept: they are the default case). */
  targets: bigint[];
  /**
   * 'cmp': the entry count comes from `cmp idx, N; ja/jae` before the dispatch.
   * 'function-extent': no bound found; entries were read while targets stayed inside the function.
   */
  boundFrom: 'cmp' | 'function-extent';
  /** The cmp instruction that bounds the index, when boundFrom is 'cmp'. */
  boundAt: bigint | null;
}

export interface JumpTableContext {
  /** Reads a little-endian value from any section (code or data); null if unmapped. */
  readData(address: number, size: 4 | 8): bigint | null;
  isExecutable(address: number): boolean;
  /** The function (or gap) holding the dispatch, to bound tables without a cmp. */
  regionStart: number;
  regionEnd: number;
}

const MAX_ENTRIES = 4096;
const UNSIGNED_BOUND_JCC: Record<string, number> = { ja: 1, jbe: 1, jae: 0, jb: 0 };
const COPIES = new Set(['mov', 'movzx', 'movsxd', 'movsx']);
const NO_REGISTER_WRITE = new Set(['cmp', 'test', 'push', 'jmp', 'call', 'nop', 'endbr64', 'bt']);

/**
 * `window` holds the instructions of the same function/gap before and including the
 * dispatch jmp (the last element). Returns null when no known pattern matches.
 */
export function recoverJumpTable(window: InstructionFacts[], ctx: JumpTableContext): JumpTable | null {
  const dispatchIndex = window.length - 1;
  const dispatch = window[dispatchIndex];
  if (!dispatch || dispatch.mnemonic !== 'jmp') return null;

  if (dispatch.op0IsMemory) {
    // jmp qword ptr [idx*8+T]: absolute entries (non-PIE). With a base register the entries
    // would need load-time relocation, which the file bytes do not show.
    if (dispatch.memoryBase !== null || dispatch.memoryIndex === null || dispatch.memoryScale !== 8) return null;
    const table = dispatch.memoryDisplacement;
    const bound = findBound(window, dispatchIndex, dispatch.memoryIndex);
    return readTable(ctx, dispatch.address, table, 'absolute', bound);
  }

  const jumpRegister = dispatch.op0Register;
  if (jumpRegister === null) return null;
  const addIndex = findBackward(window, dispatchIndex - 1, (f) => f.mnemonic === 'add' && f.op0Register === jumpRegister && f.op1Register !== null);
  if (addIndex < 0) return null;
  const other = window[addIndex]!.op1Register!;
  const loadIndex = findBackward(
    window,
    addIndex - 1,
    (f) => f.mnemonic === 'movsxd' && f.op1IsMemory && f.memoryScale === 4 && (f.op0Register === jumpRegister || f.op0Register === other),
  );
  if (loadIndex < 0) return null;
  const load = window[loadIndex]!;
  const baseRegister = load.op0Register === jumpRegister ? other : jumpRegister;
  if (load.memoryBase !== baseRegister || load.memoryIndex === null) return null;
  const leaIndex = findBackward(window, loadIndex - 1, (f) => f.op0Register === baseRegister && f.mnemonic !== 'cmp' && f.mnemonic !== 'test');
  const lea = leaIndex >= 0 ? window[leaIndex]! : null;
  if (!lea || lea.mnemonic !== 'lea' || lea.ripTarget === null) return null;
  const bound = findBound(window, loadIndex, load.memoryIndex);
  return readTable(ctx, dispatch.address, lea.ripTarget, 'pie-relative', bound);
}

function findBackward(window: InstructionFacts[], from: number, match: (f: InstructionFacts) => boolean): number {
  for (let i = from; i >= 0; i--) if (match(window[i]!)) return i;
  return -1;
}

interface Bound {
  count: number;
  at: number;
}

/** Walks back from `useIndex` following register copies of the index to a `cmp idx, N; ja`. */
function findBound(window: InstructionFacts[], useIndex: number, indexRegister: string): Bound | null {
  let index = indexRegister;
  for (let i = useIndex - 1; i >= 0; i--) {
    const f = window[i]!;
    if (f.mnemonic === 'cmp' && f.op0Register === index && f.immediate !== null) {
      const next = window[i + 1];
      const extra = next ? UNSIGNED_BOUND_JCC[next.mnemonic] : undefined;
      if (extra !== undefined && f.immediate >= 0) return { count: f.immediate + extra, at: f.address };
      return null;
    }
    if (f.op0Register === index && !NO_REGISTER_WRITE.has(f.mnemonic) && !f.mnemonic.startsWith('j')) {
      // The index was produced here: a copy moves the search to the source register,
      // any other computation means an earlier cmp bounds a different value.
      if (COPIES.has(f.mnemonic) && f.op1Register !== null) index = f.op1Register;
      else return null;
    }
  }
  return null;
}

function readTable(
  ctx: JumpTableContext,
  dispatch: number,
  table: number,
  form: JumpTable['form'],
  bound: Bound | null,
): JumpTable | null {
  const entrySize = form === 'absolute' ? 8 : 4;
  const limit = bound ? Math.min(bound.count, MAX_ENTRIES) : MAX_ENTRIES;
  const targets: bigint[] = [];
  for (let i = 0; i < limit; i++) {
    const raw = ctx.readData(table + i * entrySize, entrySize);
    if (raw === null) break;
    const target = form === 'absolute' ? Number(raw) : table + Number(BigInt.asIntN(32, raw));
    if (!ctx.isExecutable(target)) break;
    if (!bound && (target < ctx.regionStart || target >= ctx.regionEnd)) break;
    targets.push(BigInt(target));
  }
  if (targets.length === 0) return null;
  return {
    dispatch: BigInt(dispatch),
    table: BigInt(table),
    form,
    entrySize,
    targets,
    boundFrom: bound ? 'cmp' : 'function-extent',
    boundAt: bound ? BigInt(bound.at) : null,
  };
}
