// The dispatch loop: look up the decoded block, run its pre-decoded instructions one after the
// other (with the hook checks only when something is observed), and stop on the first exit
// status. One switch on Op, whose values come from the opcode table in ops.ts.

import { Insn } from './insn';
import { Op } from './ops';
import { Cpu, Exit, Access, reg64, setReg64 } from './state';
import {
  aluRegisters, incDecRegister, loadRegister64, storeRegister64, jccFast, callFast, retFast, push64, pop64, lea64, lea32,
  load32, store32, store8, loadExtend, movzxR8, movsxdR, movRI as movRIFast, testRR, aluRI8, aluRM, cmpMR, cmpMI, shiftRI,
  cmovRR, setccR, imulRR, imulRRI, xmmLoad, xmmMov, pxor, paddd, punpckldq, pshufd, pshiftQ, pmuludqFast,
} from './fast';
import { condition } from './flags';
import { lookupBlock, chainedBlock, blockCount, blockFirst, codeChanged, clearCodeChanged, isUntil, isBreakpoint } from './icache';
import {
  Hooks, HOOK_EVENT_BLOCK, HOOK_EVENT_CODE, HOOK_EVENT_MEM, memLogCount, memLogged, clearMemLogged, logMemAccess, traceRecord, traceUndo,
} from './hooks';
import { aluEG, aluGE, aluAI, aluEI, testEG, testAI, testEI, incDec, notE, negE } from './alu';
import { mulAcc, divAcc, imulGE, imulGEI } from './divmul';
import { shiftGroup, doubleShift } from './shift';
import { btEG, btEI, bitScan, bitCount, popcntGE, bswapR } from './bits';
import {
  movEG, movGE, movEI, movRI, movAO, movOA, lea, movExtend, movsxd, xchgEG, xchgAR, cmpxchg, xadd,
  cmpxchgWide, cmovcc, setcc, cbw, cwd, movbe,
} from './mov';
import { pushR, popR, pushI, pushE, popE, pushf, popf, leave, enter, jcc, jmpRel, callRel, callE, jmpE, ret, loopFamily } from './stack';
import { stringOp, STR_MOVS, STR_STOS, STR_LODS, STR_CMPS, STR_SCAS } from './string';
import { cpuid, rdtsc, syscall, interrupt, grp15, flagOp, sahf, lahf, rdrand } from './system';
import { executeX87 } from './x87';
import { crc32 } from './crc32';
import { executeSse } from './sse';
import { quantumLimit, quantumEnd } from './threads';
import { jitThreshold, countBlock, compiledIndex, takeCompiledState, compiledAccessRip } from './jit';
/** Instructions retired by compiled code (a statistic for the host). */
export let jitRetired: u64 = 0;

function invalid(): void {
  Cpu.exit = Exit.Invalid;
}

/** The retired count at which a breakpoint is not reported (the run's first instruction), or -1. */
let skipBreakpointAt: u64 = <u64>-1;

function breakpoint(e: Insn): void {
  if (isUntil(e.rip)) Cpu.exit = Exit.Until;
  else if (Cpu.retired == skipBreakpointAt) execute(e, e.realOp);
  else Cpu.exit = Exit.Breakpoint;
}

function execute(e: Insn, op: u32): void {
  switch (op) {
    case Op.AluEG: aluEG(e); break;
    case Op.AluGE: aluGE(e); break;
    case Op.AluAI: aluAI(e); break;
    case Op.AluEI: aluEI(e); break;
    case Op.TestEG: testEG(e); break;
    case Op.TestAI: testAI(e); break;
    case Op.MovEG: movEG(e); break;
    case Op.MovGE: movGE(e); break;
    case Op.MovEI: movEI(e); break;
    case Op.MovRI: movRI(e); break;
    case Op.Lea: lea(e); break;
    case Op.Jcc: jcc(e); break;
    case Op.JmpRel: jmpRel(e); break;
    case Op.CallRel: callRel(e); break;
    case Op.Ret: ret(e, 0); break;
    case Op.RetI: ret(e, e.imm & 0xffff); break;
    case Op.PushR: pushR(e); break;
    case Op.PopR: popR(e); break;
    case Op.Nop: case Op.Pause: break;
    case Op.MovzxB: movExtend(e, 1, false); break;
    case Op.MovzxW: movExtend(e, 2, false); break;
    case Op.MovsxB: movExtend(e, 1, true); break;
    case Op.MovsxW: movExtend(e, 2, true); break;
    case Op.Movsxd: movsxd(e); break;
    case Op.Cmovcc: cmovcc(e); break;
    case Op.Setcc: setcc(e); break;
    case Op.XchgEG: xchgEG(e); break;
    case Op.XchgAR: xchgAR(e); break;
    case Op.MovAO: movAO(e); break;
    case Op.MovOA: movOA(e); break;
    case Op.PushI: pushI(e); break;
    case Op.PopE: popE(e); break;
    case Op.Grp3:
      switch (e.ext) {
        case 0: case 1: testEI(e); break;
        case 2: notE(e); break;
        case 3: negE(e); break;
        case 4: mulAcc(e, false); break;
        case 5: mulAcc(e, true); break;
        case 6: divAcc(e, false); break;
        default: divAcc(e, true); break;
      }
      break;
    case Op.Grp4: incDec(e, e.ext == 1); break;
    case Op.Grp5:
      switch (e.ext) {
        case 0: incDec(e, false); break;
        case 1: incDec(e, true); break;
        case 2: callE(e); break;
        case 4: jmpE(e); break;
        case 6: pushE(e); break;
        default: invalid(); break;
      }
      break;
    case Op.ImulGEI: imulGEI(e); break;
    case Op.ImulGE: imulGE(e); break;
    case Op.ShiftI: shiftGroup(e, 0); break;
    case Op.Shift1: shiftGroup(e, 1); break;
    case Op.ShiftCL: shiftGroup(e, 2); break;
    case Op.ShldI: doubleShift(e, true, false); break;
    case Op.ShldCL: doubleShift(e, true, true); break;
    case Op.ShrdI: doubleShift(e, false, false); break;
    case Op.ShrdCL: doubleShift(e, false, true); break;
    case Op.Loop: loopFamily(e, 0); break;
    case Op.Loope: loopFamily(e, 1); break;
    case Op.Loopne: loopFamily(e, 2); break;
    case Op.Jrcxz: loopFamily(e, 3); break;
    case Op.Cbw: cbw(e); break;
    case Op.Cwd: cwd(e); break;
    case Op.Leave: leave(e); break;
    case Op.Enter: enter(e); break;
    case Op.Movs: stringOp(e, STR_MOVS); break;
    case Op.Stos: stringOp(e, STR_STOS); break;
    case Op.Lods: stringOp(e, STR_LODS); break;
    case Op.Cmps: stringOp(e, STR_CMPS); break;
    case Op.Scas: stringOp(e, STR_SCAS); break;
    case Op.Clc: flagOp(0); break;
    case Op.Stc: flagOp(1); break;
    case Op.Cmc: flagOp(2); break;
    case Op.Cld: flagOp(3); break;
    case Op.Std: flagOp(4); break;
    case Op.Sahf: sahf(); break;
    case Op.Lahf: lahf(); break;
    case Op.Pushf: pushf(e); break;
    case Op.Popf: popf(e); break;
    case Op.BtEG: btEG(e); break;
    case Op.BtEI: btEI(e); break;
    case Op.Bsf: bitScan(e, false); break;
    case Op.Bsr: bitScan(e, true); break;
    case Op.Tzcnt: bitCount(e, false); break;
    case Op.Lzcnt: bitCount(e, true); break;
    case Op.Popcnt: popcntGE(e); break;
    case Op.Bswap: bswapR(e); break;
    case Op.Cmpxchg: cmpxchg(e); break;
    case Op.Xadd: xadd(e); break;
    case Op.Cmpxchg8b: cmpxchgWide(e); break;
    case Op.Grp15: grp15(e); break;
    case Op.Cpuid: cpuid(); break;
    case Op.Rdtsc: rdtsc(); break;
    case Op.Syscall: syscall(); break;
    case Op.Int3: interrupt(3, false); break;
    case Op.IntN: interrupt(<u32>(e.imm & 0xff), false); break;
    case Op.Hlt: interrupt(0xf4, false); break;
    case Op.Ud2: interrupt(6, true); break;
    case Op.Breakpoint: breakpoint(e); break;
    case Op.CodeHook:
      // As in UnicornEngine: until and breakpoints first, then an exit to the host for the
      // hooks; when the host resumes here (suppressHooksOnce), the instruction runs.
      if (isUntil(e.rip)) Cpu.exit = Exit.Until;
      else if (Cpu.retired != skipBreakpointAt && isBreakpoint(e.rip)) Cpu.exit = Exit.Breakpoint;
      else if (Cpu.retired != Hooks.suppressCodeAt || e.rip != Hooks.suppressCodeRip) {
        Hooks.events = HOOK_EVENT_CODE;
        Hooks.insnLength = e.len;
        Cpu.exit = Exit.Hook;
      } else {
        // Consumed: a later visit at the same count (after a fault, or a snapshot restored) hooks again.
        Hooks.suppressCodeAt = <u64>-1;
        execute(e, e.realOp);
      }
      break;
    case Op.X87: executeX87(e); break;
    case Op.Rdrand: rdrand(e); break;
    case Op.Movbe: movbe(e); break;
    case Op.Crc32: crc32(e); break;
    case Op.Invalid: invalid(); break;
    default:
      if (op > <u32>Op.CodeHook) executeFast(e, op);
      else if (!executeSse(e, op)) invalid();
  }
}

/**
 * The fast forms (fast.ts), inlined into the dispatch loop. A fused record (J*) runs only its
 * own instruction here; the loop runs the jcc after it when it may (runBlock).
 */
@inline function fastOp(e: Insn, op: u32): void {
  switch (op) {
    case Op.AluRR64: case Op.JAluRR64: aluRegisters(e.ext, e.rm, reg64(e.reg), 8); break;
    case Op.AluRR32: case Op.JAluRR32: aluRegisters(e.ext, e.rm, reg64(e.reg), 4); break;
    case Op.AluRRG64: aluRegisters(e.ext, e.reg, reg64(e.rm), 8); break;
    case Op.AluRRG32: aluRegisters(e.ext, e.reg, reg64(e.rm), 4); break;
    case Op.AluRI64: case Op.JAluRI64: aluRegisters(e.ext, e.rm, e.imm, 8); break;
    case Op.AluRI32: case Op.JAluRI32: aluRegisters(e.ext, e.rm, e.imm, 4); break;
    case Op.IncR64: incDecRegister(e, false, 8); break;
    case Op.IncR32: incDecRegister(e, false, 4); break;
    case Op.DecR64: case Op.JDecR64: incDecRegister(e, true, 8); break;
    case Op.DecR32: case Op.JDecR32: incDecRegister(e, true, 4); break;
    case Op.MovRR64: setReg64(e.rm, reg64(e.reg)); break;
    case Op.MovRR32: setReg64(e.rm, reg64(e.reg) & 0xffffffff); break;
    case Op.LoadR64: loadRegister64(e); break;
    case Op.StoreR64: storeRegister64(e); break;
    case Op.FJcc: jccFast(e); break;
    case Op.FJmp: Cpu.rip = e.imm; break;
    case Op.FCall: callFast(e); break;
    case Op.FRet: retFast(); break;
    case Op.FPush64: push64(e); break;
    case Op.FPop64: pop64(e); break;
    case Op.FLea64: lea64(e); break;
    case Op.FLea32: lea32(e); break;
    case Op.FLoad32: load32(e); break;
    case Op.FStore32: store32(e); break;
    case Op.FStore8: store8(e); break;
    case Op.FLoadZX8: loadExtend(e, 1, false); break;
    case Op.FLoadSX8: loadExtend(e, 1, true); break;
    case Op.FLoadZX16: loadExtend(e, 2, false); break;
    case Op.FLoadSX16: loadExtend(e, 2, true); break;
    case Op.FMovzxR8: movzxR8(e); break;
    case Op.FMovsxdR: movsxdR(e); break;
    case Op.FMovRI: movRIFast(e); break;
    case Op.FTestRR64: case Op.JTestRR64: testRR(e, 8); break;
    case Op.FTestRR32: case Op.JTestRR32: testRR(e, 4); break;
    case Op.FTestRR8: case Op.JTestRR8: testRR(e, 1); break;
    case Op.FAluRI8: case Op.JAluRI8: aluRI8(e); break;
    case Op.FAluRM64: case Op.JAluRM64: aluRM(e, 8); break;
    case Op.FAluRM32: case Op.JAluRM32: aluRM(e, 4); break;
    case Op.FCmpMR: case Op.JCmpMR: cmpMR(e); break;
    case Op.FCmpMI: case Op.JCmpMI: cmpMI(e); break;
    case Op.FShiftRI64: shiftRI(e, 8); break;
    case Op.FShiftRI32: shiftRI(e, 4); break;
    case Op.FCmovRR64: cmovRR(e, 8); break;
    case Op.FCmovRR32: cmovRR(e, 4); break;
    case Op.FSetccR: setccR(e); break;
    case Op.FImulRR64: imulRR(e, 8); break;
    case Op.FImulRR32: imulRR(e, 4); break;
    case Op.FImulRRI64: imulRRI(e, 8); break;
    case Op.FImulRRI32: imulRRI(e, 4); break;
    case Op.FXmmLoadA: xmmLoad(e, true); break;
    case Op.FXmmLoadU: xmmLoad(e, false); break;
    case Op.FXmmMov: xmmMov(e); break;
    case Op.FPxor: pxor(e); break;
    case Op.FPaddD: paddd(e); break;
    case Op.FPunpcklDQ: punpckldq(e); break;
    case Op.FPshufd: pshufd(e); break;
    case Op.FPsrlq: pshiftQ(e, true); break;
    case Op.FPsllq: pshiftQ(e, false); break;
    case Op.FPmuludq: pmuludqFast(e); break;
    default: invalid(); break;
  }
}

/** fastOp out of line, for the paths that are not the dispatch loop's (hooks, breakpoints). */
function executeFast(e: Insn, op: u32): void {
  fastOp(e, op);
}

function isBranch(op: u32): bool {
  return (op >= <u32>Op.Jcc && op <= <u32>Op.Jrcxz) || (op >= <u32>Op.FJcc && op <= <u32>Op.FRet) || op == <u32>Op.Grp5 || op == <u32>Op.Syscall || op == <u32>Op.Breakpoint || op == <u32>Op.CodeHook;
}
let previousWasBranch: bool = true;

/** Hook and trace work before an instruction; true when the loop must exit to the host first. */
function slowPath(e: Insn, rip: u64): bool {
  if (Hooks.memOn && memLogCount > 0) {
    Hooks.events = HOOK_EVENT_MEM;
    Cpu.exit = Exit.Hook;
    return true;
  }
  const blockStart = previousWasBranch || rip != Hooks.expectedNext;
  if (Hooks.suppressOnce) {
    Hooks.suppressOnce = false;
  } else {
    let ev: u32 = 0;
    if (Hooks.blockOn && blockStart && rip >= Hooks.blockLo && rip <= Hooks.blockHi) ev |= HOOK_EVENT_BLOCK;
    // A code-hooked instruction's hooks go with its block hooks, in one exit.
    if (ev && e.op == <u16>Op.CodeHook) ev |= HOOK_EVENT_CODE;
    if (ev) {
      Hooks.events = ev;
      Hooks.insnLength = e.len;
      Cpu.exit = Exit.Hook;
      return true;
    }
  }
  previousWasBranch = isBranch(e.op);
  Hooks.expectedNext = rip + e.len;
  if (Hooks.memFetchOn) logMemAccess(Access.Fetch, rip, e.len, 0);
  if (Hooks.traceOn) traceRecord(Cpu.retired, rip);
  return false;
}

/**
 * Runs up to `n` instructions of a block without hooks (but, when `traced`, with the trace ring
 * written in place: two stores per instruction, head and count committed once per block).
 * Returns true when the run must stop (an exit status is set).
 */
@inline function runBlock(first: usize, n: u32, traced: bool): bool {
  const end = first + ((<usize>n) << 6);
  let p = first;
  let traceAt: usize = 0, traceEnd: usize = 0;
  // Kept in a local and stored at the block's end: nothing inside a block reads Cpu.retired
  // (rdtsc and breakpoints always start a block, icache.ts).
  const startRetired = Cpu.retired;
  let retired = startRetired;
  if (traced) {
    traceAt = Hooks.traceBuf + ((<usize>Hooks.traceHead) << 4);
    traceEnd = Hooks.traceBuf + ((<usize>Hooks.traceCap) << 4);
  }
  let stop = false;
  do {
    const e = changetype<Insn>(p);
    const rip = e.rip;
    if (traced) {
      store<u64>(traceAt, retired);
      store<u64>(traceAt, rip, 8);
    }
    Cpu.rip = rip + <u64>e.len;
    const op = <u32>e.op;
    if (op <= <u32>Op.CodeHook) {
      execute(e, op);
    } else {
      fastOp(e, op);
      // A fused record: its jcc (the block's last record) runs now when it is inside this run's
      // window and nothing must be seen between the two (a logged read, an exit). Traced runs
      // take them one at a time (each has its trace entry).
      if (!traced && op >= <u32>Op.JAluRR64 && p + 64 != end && !Cpu.exit && !memLogged) {
        const j = changetype<Insn>(p + 64);
        Cpu.rip = condition(j.ext) ? j.imm : j.rip + <u64>j.len;
        retired++;
        p += 64;
      }
    }
    if (Cpu.exit) {
      const x = Cpu.exit;
      if (x == Exit.Syscall || (x == Exit.Interrupt && !Cpu.interruptIsFault)) {
        retired++;
        if (traced) traceAt += 16; // it retired: keep its entry
      } else {
        Cpu.rip = rip; // faults, invalid, #DE, breakpoints: rip stays on the instruction
      }
      stop = true;
      break;
    }
    retired++;
    if (traced) {
      traceAt += 16;
      if (traceAt == traceEnd) traceAt = Hooks.traceBuf;
    }
    p += 64;
  } while (p != end && !codeChanged && !memLogged);
  Cpu.retired = retired;
  // A logged access belongs to the last instruction that ran (the one stopped at, or the one before p).
  if (memLogged) Hooks.accessRip = changetype<Insn>(stop ? p : p - 64).rip;
  if (traced) {
    if (traceAt == traceEnd) traceAt = Hooks.traceBuf;
    Hooks.traceHead = <u32>((traceAt - Hooks.traceBuf) >> 4);
    Hooks.traceCount += retired - startRetired;
  }
  return stop;
}

/** Runs up to `n` instructions of a block with the hook checks before each (slowPath). */
function runBlockObserved(first: usize, n: u32): bool {
  const end = first + ((<usize>n) << 6);
  let p = first;
  do {
    const e = changetype<Insn>(p);
    const rip = e.rip;
    if (slowPath(e, rip)) return true;
    Hooks.accessRip = rip;
    Cpu.rip = rip + <u64>e.len;
    execute(e, e.op);
    if (Cpu.exit) {
      const x = Cpu.exit;
      if (x == Exit.Syscall || (x == Exit.Interrupt && !Cpu.interruptIsFault)) {
        Cpu.retired++;
      } else {
        Cpu.rip = rip;
        if (Hooks.traceOn) traceUndo();
      }
      return true;
    }
    Cpu.retired++;
    p += 64;
  } while (p != end && !codeChanged && !memLogged);
  return false;
}

/**
 * Runs a block's compiled code (jit.ts; the whole block is inside the run's window, nothing is
 * observed): its region (the block and blocks it branches to) runs while each next block fits in
 * `left`, and stops on a fault (rip on the faulting instruction) or after a store that changed
 * code or was logged, as runBlock would, or where the compiled records end (the dispatch loop
 * goes on from rip).
 */
function runCompiled(index: u32, left: u32): bool {
  const r = call_indirect<u32>(index & 0xffff, left, index >> 16);
  takeCompiledState();
  Cpu.retired += r;
  jitRetired += r;
  if (Cpu.exit) return true;
  if (memLogged) Hooks.accessRip = compiledAccessRip();
  return false;
}

/** Executes up to `budget` instructions from Cpu.rip; returns the Exit status. */
export function run(budget: u64, skipFirstBreakpoint: bool): u32 {
  Cpu.exit = Exit.None;
  const limit = Cpu.retired + budget;
  skipBreakpointAt = skipFirstBreakpoint ? Cpu.retired : <u64>-1;
  let previous: usize = 0;
  let end = quantumLimit(limit);
  while (Cpu.retired < limit) {
    if (Cpu.retired >= end) {
      // An armed run: the running thread's quantum is over; switch here or let the host (threads.ts).
      if (!quantumEnd()) { Cpu.exit = Exit.Quantum; break; }
      end = quantumLimit(limit);
      previous = 0;
      continue;
    }
    const block = previous != 0 ? chainedBlock(previous, Cpu.rip) : lookupBlock(Cpu.rip);
    if (block == 0) break; // fetch fault
    clearCodeChanged();
    clearMemLogged();
    let n = blockCount(block);
    const left = end - Cpu.retired;
    if (<u64>n > left) n = <u32>left;
    const first = blockFirst(block);
    let stop: bool;
    const compiled = compiledIndex(block);
    if (compiled != 0 && !Hooks.slow && !Hooks.memReadOn && n == blockCount(block)) stop = runCompiled(compiled, left > 0x7fffffff ? 0x7fffffff : <u32>left);
    else if (!Hooks.slow) {
      if (jitThreshold != 0) countBlock(block);
      stop = runBlock(first, n, false);
    }
    else if (Hooks.traceOnly) stop = runBlock(first, n, true);
    else stop = runBlockObserved(first, n);
    if (stop) break;
    if (memLogCount > 0) {
      // Watched accesses are delivered before the next instruction runs.
      Hooks.events = HOOK_EVENT_MEM;
      Cpu.exit = Exit.Hook;
      break;
    }
    previous = block;
  }
  if (Cpu.exit == Exit.None) Cpu.exit = Exit.Count;
  return Cpu.exit;
}
