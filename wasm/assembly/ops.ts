// THE opcode table: one entry per (map, opcode[, mandatory prefix]) giving the handler (Op) and the
// operand form the decoder needs. It drives decoding, dispatch (cpu.ts switches on Op) and the
// supported-instruction list the host reports (probe()).

/** Handlers. Names follow Intel operand notation where it helps (E = r/m, G = reg, I = imm). */
export const enum Op {
  Invalid = 0,
  Breakpoint,
  // integer
  AluEG, AluGE, AluAI, AluEI, TestEG, TestAI, XchgEG, XchgAR, Nop, Pause,
  MovEG, MovGE, MovEI, MovRI, MovAO, MovOA, Lea, MovzxB, MovzxW, MovsxB, MovsxW, Movsxd,
  PushR, PopR, PushI, PopE, Grp3, Grp4, Grp5, ImulGEI, ImulGE,
  ShiftI, Shift1, ShiftCL, ShldI, ShldCL, ShrdI, ShrdCL,
  Jcc, JmpRel, CallRel, Ret, RetI, Loop, Loope, Loopne, Jrcxz, Setcc, Cmovcc,
  Cbw, Cwd, Leave, Enter, Movs, Stos, Lods, Cmps, Scas,
  Cld, Std, Clc, Stc, Cmc, Sahf, Lahf, Pushf, Popf,
  BtEG, BtEI, Bsf, Bsr, Tzcnt, Lzcnt, Popcnt, Bswap, Cmpxchg, Xadd, Cmpxchg8b, Grp15,
  Cpuid, Rdtsc, Syscall, Int3, IntN, Hlt, Ud2,
  // SSE/SSE2 moves
  MovupsLoad, MovupsStore, MovssLoad, MovssStore, MovsdLoad, MovsdStore,
  MovlpLoad, MovlpStore, MovhpLoad, MovhpStore, Movhlps, Movlhps,
  MovdToXmm, MovdFromXmm, MovqToXmm, MovqFromXmm, MovqXmmStore,
  MovmskPs, MovmskPd, Pmovmskb,
  // SSE/SSE2 logic and packed integer
  LogicPs, Pand, Pandn, Por, Pxor,
  PaddB, PaddW, PaddD, PaddQ, PsubB, PsubW, PsubD, PsubQ,
  PcmpeqB, PcmpeqW, PcmpeqD, PcmpgtB, PcmpgtW, PcmpgtD,
  PunpcklBW, PunpcklWD, PunpcklDQ, PunpcklQDQ, PunpckhBW, PunpckhWD, PunpckhDQ, PunpckhQDQ,
  Pshufd, Pshuflw, Pshufhw, Shufps, Shufpd, Unpcklps, Unpckhps, Unpcklpd, Unpckhpd,
  PshiftW, PshiftD, PshiftQ, PminUB, PmaxUB, Pmuludq, PmullW, PaddusB, PsubusB,
  PackssWB, PackusWB, PackssDW,
  // SSE/SSE2 floating point
  ArithPs, ArithPd, ArithSs, ArithSd, SqrtSs, SqrtSd, SqrtPs, SqrtPd,
  UcomiSs, UcomiSd, Cvtsi2ss, Cvtsi2sd, Cvttss2si, Cvttsd2si, Cvtss2si, Cvtsd2si,
  Cvtss2sd, Cvtsd2ss, Cvtdq2pd, Cvtdq2ps, Cvttps2dq, Cvtps2pd, Cvtpd2ps, Cvttpd2dq,
  CmpPs, CmpPd, CmpSs, CmpSd,
  // SSE2 remainder, SSE3, SSSE3, SSE4.1, SSE4.2 (sse-ext.ts, sse-string.ts, crc32.ts)
  LaneExt, PshiftXmm, Pmaddwd, Psadbw, Pmuldq, PackusDW, Pshufb, Palignr, PmovExt, Ptest, BlendImm, BlendVar,
  ExtractLane, PextrwReg, InsertLane, Insertps, Round, HorizontalInt, FloatHorizontal, AddSub,
  Movsldup, Movshdup, Movddup, Lddqu, MovntStore, Movnti, PcmpStr, Crc32, Movbe,
  // x87 (x87.ts), rdrand
  X87, Rdrand,
  Count,
  // Set by the block cache on an instruction a code hook covers: exit to the host before it.
  CodeHook,
  // Fast forms (fast.ts): chosen for a decoded record when it enters the block cache, never by
  // the decoder itself, so the table above still says what the instruction is. Every Op after
  // CodeHook is one; the dispatch loop runs them inline (cpu.ts).
  AluRR64, AluRR32, AluRRG64, AluRRG32, AluRI64, AluRI32, IncR64, IncR32, DecR64, DecR32,
  MovRR64, MovRR32, LoadR64, StoreR64,
  FJcc, FJmp, FCall, FRet, FPush64, FPop64, FLea64, FLea32, FLoad32, FStore32, FStore8,
  FLoadZX8, FLoadSX8, FLoadZX16, FLoadSX16, FMovzxR8, FMovsxdR, FMovRI,
  FTestRR64, FTestRR32, FTestRR8, FAluRI8, FAluRM64, FAluRM32, FCmpMR, FCmpMI,
  FShiftRI64, FShiftRI32, FCmovRR64, FCmovRR32, FSetccR, FImulRR64, FImulRR32, FImulRRI64, FImulRRI32,
  FXmmLoadA, FXmmLoadU, FXmmMov, FPxor, FPaddD, FPunpcklDQ, FPshufd, FPsrlq, FPsllq, FPmuludq,
  // A flags producer fused with the jcc after it (the last two records of a block): the record
  // runs its own instruction, then, when the jcc is inside the run's window, the jcc too.
  JAluRR64, JAluRR32, JAluRI64, JAluRI32, JTestRR64, JTestRR32, JTestRR8, JAluRI8, JDecR64, JDecR32, JCmpMI, JCmpMR, JAluRM32, JAluRM64,
}

/** Form bits. */
export const M: u32 = 1; // has ModRM
export const IMM_SHIFT: u32 = 1;
export const IMM_MASK: u32 = 15 << 1;
export const IB: u32 = 1 << 1, IW: u32 = 2 << 1, IZ: u32 = 3 << 1, IV: u32 = 4 << 1, IENTER: u32 = 5 << 1,
  REL8: u32 = 6 << 1, REL32: u32 = 7 << 1, MOFFS: u32 = 8 << 1;
export const BYTE: u32 = 1 << 5; // 8-bit operand
export const D64: u32 = 1 << 6; // 64-bit default operand size (push/pop/branches)
export const SSE: u32 = 1 << 7; // mandatory-prefix selects the Op; 66 is not an operand-size prefix
export const MEMONLY: u32 = 1 << 8; // ModRM must name memory
export const REGONLY: u32 = 1 << 9; // ModRM must name a register
export const EXT_OP: u32 = 1 << 10; // ext = (opcode >> 3) & 7 (ALU kind in 00..3F)
export const EXT_CC: u32 = 1 << 11; // ext = opcode & 15 (condition code)
export const PLUS_R: u32 = 1 << 12; // register in the opcode's low 3 bits (+ REX.B)
export const KNOWN: u32 = 1 << 13; // a valid encoding (length is right even when Op is Invalid)
/** Bits 16..23: /reg values this entry does NOT support (groups). */
export const BAD_REG_SHIFT: u32 = 16;

export const MAP_ONE: u32 = 0, MAP_0F: u32 = 1, MAP_0F38: u32 = 2, MAP_0F3A: u32 = 3;
export const FORMS: usize = memory.data(4 * 256 * 4, 64);
/** Ops per (map, opcode, prefix variant: 0 none, 1 66, 2 F3, 3 F2). */
export const OPS: usize = memory.data(4 * 256 * 4 * 2, 64);

@inline export function formOf(map: u32, opcode: u32): u32 {
  return load<u32>(FORMS + ((<usize>((map << 8) | opcode)) << 2));
}
@inline export function opOf(map: u32, opcode: u32, variant: u32): u32 {
  return <u32>load<u16>(OPS + ((<usize>((((map << 8) | opcode) << 2) | variant)) << 1));
}

function def(map: u32, opcode: u32, op: Op, form: u32): void {
  store<u32>(FORMS + ((<usize>((map << 8) | opcode)) << 2), form | KNOWN);
  for (let v: u32 = 0; v < 4; v++) store<u16>(OPS + ((<usize>((((map << 8) | opcode) << 2) | v)) << 1), <u16>op);
}
function sse(map: u32, opcode: u32, none: Op, p66: Op, pF3: Op, pF2: Op, form: u32): void {
  store<u32>(FORMS + ((<usize>((map << 8) | opcode)) << 2), form | SSE | KNOWN);
  const b = OPS + ((<usize>(((map << 8) | opcode) << 2)) << 1);
  store<u16>(b, <u16>none);
  store<u16>(b, <u16>p66, 2);
  store<u16>(b, <u16>pF3, 4);
  store<u16>(b, <u16>pF2, 6);
}
function range(map: u32, first: u32, last: u32, op: Op, form: u32): void {
  for (let c = first; c <= last; c++) def(map, c, op, form);
}
@inline function badRegs(mask: u32): u32 {
  return mask << BAD_REG_SHIFT;
}

export function initOpcodeTable(): void {
  const O = MAP_ONE, T = MAP_0F;
  // ALU rows 00..3F: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz
  for (let k: u32 = 0; k < 8; k++) {
    const b = k << 3;
    def(O, b, Op.AluEG, M | BYTE | EXT_OP);
    def(O, b + 1, Op.AluEG, M | EXT_OP);
    def(O, b + 2, Op.AluGE, M | BYTE | EXT_OP);
    def(O, b + 3, Op.AluGE, M | EXT_OP);
    def(O, b + 4, Op.AluAI, IB | BYTE | EXT_OP);
    def(O, b + 5, Op.AluAI, IZ | EXT_OP);
  }
  range(O, 0x50, 0x57, Op.PushR, D64 | PLUS_R);
  range(O, 0x58, 0x5f, Op.PopR, D64 | PLUS_R);
  def(O, 0x63, Op.Movsxd, M);
  def(O, 0x68, Op.PushI, IZ | D64);
  def(O, 0x69, Op.ImulGEI, M | IZ);
  def(O, 0x6a, Op.PushI, IB | D64);
  def(O, 0x6b, Op.ImulGEI, M | IB);
  range(O, 0x70, 0x7f, Op.Jcc, REL8 | EXT_CC | D64);
  def(O, 0x80, Op.AluEI, M | IB | BYTE);
  def(O, 0x81, Op.AluEI, M | IZ);
  def(O, 0x83, Op.AluEI, M | IB);
  def(O, 0x84, Op.TestEG, M | BYTE);
  def(O, 0x85, Op.TestEG, M);
  def(O, 0x86, Op.XchgEG, M | BYTE);
  def(O, 0x87, Op.XchgEG, M);
  def(O, 0x88, Op.MovEG, M | BYTE);
  def(O, 0x89, Op.MovEG, M);
  def(O, 0x8a, Op.MovGE, M | BYTE);
  def(O, 0x8b, Op.MovGE, M);
  def(O, 0x8c, Op.Invalid, M); // mov r/m, Sreg
  def(O, 0x8d, Op.Lea, M | MEMONLY);
  def(O, 0x8e, Op.Invalid, M); // mov Sreg, r/m
  def(O, 0x8f, Op.PopE, M | D64 | badRegs(0xfe));
  range(O, 0x90, 0x97, Op.XchgAR, PLUS_R);
  def(O, 0x98, Op.Cbw, 0);
  def(O, 0x99, Op.Cwd, 0);
  def(O, 0x9c, Op.Pushf, D64);
  def(O, 0x9d, Op.Popf, D64);
  def(O, 0x9e, Op.Sahf, 0);
  def(O, 0x9f, Op.Lahf, 0);
  def(O, 0xa0, Op.MovAO, MOFFS | BYTE);
  def(O, 0xa1, Op.MovAO, MOFFS);
  def(O, 0xa2, Op.MovOA, MOFFS | BYTE);
  def(O, 0xa3, Op.MovOA, MOFFS);
  def(O, 0xa4, Op.Movs, BYTE);
  def(O, 0xa5, Op.Movs, 0);
  def(O, 0xa6, Op.Cmps, BYTE);
  def(O, 0xa7, Op.Cmps, 0);
  def(O, 0xa8, Op.TestAI, IB | BYTE);
  def(O, 0xa9, Op.TestAI, IZ);
  def(O, 0xaa, Op.Stos, BYTE);
  def(O, 0xab, Op.Stos, 0);
  def(O, 0xac, Op.Lods, BYTE);
  def(O, 0xad, Op.Lods, 0);
  def(O, 0xae, Op.Scas, BYTE);
  def(O, 0xaf, Op.Scas, 0);
  range(O, 0xb0, 0xb7, Op.MovRI, IB | BYTE | PLUS_R);
  range(O, 0xb8, 0xbf, Op.MovRI, IV | PLUS_R);
  def(O, 0xc0, Op.ShiftI, M | IB | BYTE);
  def(O, 0xc1, Op.ShiftI, M | IB);
  def(O, 0xc2, Op.RetI, IW | D64);
  def(O, 0xc3, Op.Ret, D64);
  def(O, 0xc6, Op.MovEI, M | IB | BYTE | badRegs(0xfe));
  def(O, 0xc7, Op.MovEI, M | IZ | badRegs(0xfe));
  def(O, 0xc8, Op.Enter, IENTER | D64);
  def(O, 0xc9, Op.Leave, D64);
  def(O, 0xca, Op.Invalid, IW); // retf imm16
  def(O, 0xcb, Op.Invalid, 0); // retf
  def(O, 0xcc, Op.Int3, 0);
  def(O, 0xcd, Op.IntN, IB);
  def(O, 0xcf, Op.Invalid, 0); // iret
  def(O, 0xd0, Op.Shift1, M | BYTE);
  def(O, 0xd1, Op.Shift1, M);
  def(O, 0xd2, Op.ShiftCL, M | BYTE);
  def(O, 0xd3, Op.ShiftCL, M);
  range(O, 0xd8, 0xdf, Op.X87, M); // which ModRM forms exist: x87Known() in the decoder
  def(O, 0x9b, Op.Nop, 0); // fwait: exceptions are always masked, nothing to wait for
  def(O, 0xe0, Op.Loopne, REL8 | D64);
  def(O, 0xe1, Op.Loope, REL8 | D64);
  def(O, 0xe2, Op.Loop, REL8 | D64);
  def(O, 0xe3, Op.Jrcxz, REL8 | D64);
  range(O, 0xe4, 0xe7, Op.Invalid, IB); // in/out imm
  def(O, 0xe8, Op.CallRel, REL32 | D64);
  def(O, 0xe9, Op.JmpRel, REL32 | D64);
  def(O, 0xeb, Op.JmpRel, REL8 | D64);
  range(O, 0xec, 0xef, Op.Invalid, 0); // in/out dx
  def(O, 0xf1, Op.Invalid, 0); // int1
  def(O, 0xf4, Op.Hlt, 0);
  def(O, 0xf5, Op.Cmc, 0);
  def(O, 0xf6, Op.Grp3, M | BYTE); // /0,/1 test Eb,Ib take an imm8: decoder special case
  def(O, 0xf7, Op.Grp3, M);
  def(O, 0xf8, Op.Clc, 0);
  def(O, 0xf9, Op.Stc, 0);
  def(O, 0xfa, Op.Invalid, 0); // cli
  def(O, 0xfb, Op.Invalid, 0); // sti
  def(O, 0xfc, Op.Cld, 0);
  def(O, 0xfd, Op.Std, 0);
  def(O, 0xfe, Op.Grp4, M | BYTE | badRegs(0xfc));
  def(O, 0xff, Op.Grp5, M | badRegs(0xa8)); // /3 callf, /5 jmpf, /7 invalid

  // Two-byte map (0F xx)
  def(T, 0x05, Op.Syscall, 0);
  def(T, 0x0b, Op.Ud2, 0);
  // prefetchw / prefetch hints: register forms are reserved (QEMU raises #UD), so unsupported here
  def(T, 0x0d, Op.Nop, M | MEMONLY);
  def(T, 0x18, Op.Nop, M | MEMONLY);
  range(T, 0x19, 0x1f, Op.Nop, M); // hint nops, endbr64 (F3 0F 1E FA), nop Ev
  def(T, 0x31, Op.Rdtsc, 0);
  range(T, 0x40, 0x4f, Op.Cmovcc, M | EXT_CC);
  range(T, 0x80, 0x8f, Op.Jcc, REL32 | EXT_CC | D64);
  range(T, 0x90, 0x9f, Op.Setcc, M | BYTE | EXT_CC);
  def(T, 0xa2, Op.Cpuid, 0);
  def(T, 0xa3, Op.BtEG, M);
  def(T, 0xa4, Op.ShldI, M | IB);
  def(T, 0xa5, Op.ShldCL, M);
  def(T, 0xab, Op.BtEG, M);
  def(T, 0xac, Op.ShrdI, M | IB);
  def(T, 0xad, Op.ShrdCL, M);
  def(T, 0xae, Op.Grp15, M); // validity depends on mod and /reg: decoder special case
  def(T, 0xaf, Op.ImulGE, M);
  def(T, 0xb0, Op.Cmpxchg, M | BYTE);
  def(T, 0xb1, Op.Cmpxchg, M);
  def(T, 0xb3, Op.BtEG, M);
  def(T, 0xb6, Op.MovzxB, M);
  def(T, 0xb7, Op.MovzxW, M);
  sse(T, 0xb8, Op.Invalid, Op.Invalid, Op.Popcnt, Op.Invalid, M);
  def(T, 0xba, Op.BtEI, M | IB | badRegs(0x0f));
  def(T, 0xbb, Op.BtEG, M);
  // F3 0F BC/BD are tzcnt/lzcnt; 66 stays an operand-size prefix, so these are not SSE forms.
  def(T, 0xbc, Op.Bsf, M);
  def(T, 0xbd, Op.Bsr, M);
  def(T, 0xbe, Op.MovsxB, M);
  def(T, 0xbf, Op.MovsxW, M);
  def(T, 0xc0, Op.Xadd, M | BYTE);
  def(T, 0xc1, Op.Xadd, M);
  def(T, 0xc7, Op.Cmpxchg8b, M | badRegs(0x3d)); // /1 cmpxchg8b/16b (memory), /6 rdrand /7 rdseed (register): decoder
  range(T, 0xc8, 0xcf, Op.Bswap, PLUS_R);

  initSseTable();
}

function initSseTable(): void {
  const T = MAP_0F, I = Op.Invalid;
  sse(T, 0x10, Op.MovupsLoad, Op.MovupsLoad, Op.MovssLoad, Op.MovsdLoad, M);
  sse(T, 0x11, Op.MovupsStore, Op.MovupsStore, Op.MovssStore, Op.MovsdStore, M);
  sse(T, 0x12, Op.MovlpLoad, Op.MovlpLoad, I, I, M); // mod=3 without prefix: movhlps (decoder)
  sse(T, 0x13, Op.MovlpStore, Op.MovlpStore, I, I, M | MEMONLY);
  sse(T, 0x14, Op.Unpcklps, Op.Unpcklpd, I, I, M);
  sse(T, 0x15, Op.Unpckhps, Op.Unpckhpd, I, I, M);
  sse(T, 0x16, Op.MovhpLoad, Op.MovhpLoad, I, I, M); // mod=3 without prefix: movlhps (decoder)
  sse(T, 0x17, Op.MovhpStore, Op.MovhpStore, I, I, M | MEMONLY);
  sse(T, 0x28, Op.MovupsLoad, Op.MovupsLoad, I, I, M); // movaps/movapd: alignment checked via opcode
  sse(T, 0x29, Op.MovupsStore, Op.MovupsStore, I, I, M);
  sse(T, 0x2a, I, I, Op.Cvtsi2ss, Op.Cvtsi2sd, M);
  sse(T, 0x2c, I, I, Op.Cvttss2si, Op.Cvttsd2si, M);
  sse(T, 0x2d, I, I, Op.Cvtss2si, Op.Cvtsd2si, M);
  sse(T, 0x2e, Op.UcomiSs, Op.UcomiSd, I, I, M);
  sse(T, 0x2f, Op.UcomiSs, Op.UcomiSd, I, I, M);
  sse(T, 0x50, Op.MovmskPs, Op.MovmskPd, I, I, M | REGONLY);
  sse(T, 0x51, Op.SqrtPs, Op.SqrtPd, Op.SqrtSs, Op.SqrtSd, M);
  sse(T, 0x54, Op.LogicPs, Op.LogicPs, I, I, M);
  sse(T, 0x55, Op.LogicPs, Op.LogicPs, I, I, M);
  sse(T, 0x56, Op.LogicPs, Op.LogicPs, I, I, M);
  sse(T, 0x57, Op.LogicPs, Op.LogicPs, I, I, M);
  sse(T, 0x58, Op.ArithPs, Op.ArithPd, Op.ArithSs, Op.ArithSd, M);
  sse(T, 0x59, Op.ArithPs, Op.ArithPd, Op.ArithSs, Op.ArithSd, M);
  sse(T, 0x5a, Op.Cvtps2pd, Op.Cvtpd2ps, Op.Cvtss2sd, Op.Cvtsd2ss, M);
  sse(T, 0x5b, Op.Cvtdq2ps, I, Op.Cvttps2dq, I, M);
  for (let c: u32 = 0x5c; c <= 0x5f; c++) sse(T, c, Op.ArithPs, Op.ArithPd, Op.ArithSs, Op.ArithSd, M);
  sse(T, 0x60, I, Op.PunpcklBW, I, I, M);
  sse(T, 0x61, I, Op.PunpcklWD, I, I, M);
  sse(T, 0x62, I, Op.PunpcklDQ, I, I, M);
  sse(T, 0x63, I, Op.PackssWB, I, I, M);
  sse(T, 0x64, I, Op.PcmpgtB, I, I, M);
  sse(T, 0x65, I, Op.PcmpgtW, I, I, M);
  sse(T, 0x66, I, Op.PcmpgtD, I, I, M);
  sse(T, 0x67, I, Op.PackusWB, I, I, M);
  sse(T, 0x68, I, Op.PunpckhBW, I, I, M);
  sse(T, 0x69, I, Op.PunpckhWD, I, I, M);
  sse(T, 0x6a, I, Op.PunpckhDQ, I, I, M);
  sse(T, 0x6b, I, Op.PackssDW, I, I, M);
  sse(T, 0x6c, I, Op.PunpcklQDQ, I, I, M);
  sse(T, 0x6d, I, Op.PunpckhQDQ, I, I, M);
  sse(T, 0x6e, I, Op.MovdToXmm, I, I, M); // 66 REX.W: movq xmm, r/m64
  sse(T, 0x6f, I, Op.MovupsLoad, Op.MovupsLoad, I, M); // movdqa / movdqu
  sse(T, 0x70, I, Op.Pshufd, Op.Pshufhw, Op.Pshuflw, M | IB);
  sse(T, 0x71, I, Op.PshiftW, I, I, M | IB | REGONLY | badRegs(0xab));
  sse(T, 0x72, I, Op.PshiftD, I, I, M | IB | REGONLY | badRegs(0xab));
  sse(T, 0x73, I, Op.PshiftQ, I, I, M | IB | REGONLY | badRegs(0x33)); // /2 psrlq, /3 psrldq, /6 psllq, /7 pslldq
  sse(T, 0x74, I, Op.PcmpeqB, I, I, M);
  sse(T, 0x75, I, Op.PcmpeqW, I, I, M);
  sse(T, 0x76, I, Op.PcmpeqD, I, I, M);
  sse(T, 0x7e, I, Op.MovdFromXmm, Op.MovqToXmm, I, M);
  sse(T, 0x7f, I, Op.MovupsStore, Op.MovupsStore, I, M);
  sse(T, 0xc2, Op.CmpPs, Op.CmpPd, Op.CmpSs, Op.CmpSd, M | IB);
  sse(T, 0xc6, Op.Shufps, Op.Shufpd, I, I, M | IB);
  sse(T, 0xd4, I, Op.PaddQ, I, I, M);
  sse(T, 0xd5, I, Op.PmullW, I, I, M);
  sse(T, 0xd6, I, Op.MovqXmmStore, I, I, M);
  sse(T, 0xd7, I, Op.Pmovmskb, I, I, M | REGONLY);
  sse(T, 0xda, I, Op.PminUB, I, I, M);
  sse(T, 0xdb, I, Op.Pand, I, I, M);
  sse(T, 0xdc, I, Op.PaddusB, I, I, M);
  sse(T, 0xd8, I, Op.PsubusB, I, I, M);
  sse(T, 0xde, I, Op.PmaxUB, I, I, M);
  sse(T, 0xdf, I, Op.Pandn, I, I, M);
  sse(T, 0xe6, I, Op.Cvttpd2dq, Op.Cvtdq2pd, I, M);
  sse(T, 0xeb, I, Op.Por, I, I, M);
  sse(T, 0xef, I, Op.Pxor, I, I, M);
  sse(T, 0xf4, I, Op.Pmuludq, I, I, M);
  sse(T, 0xf8, I, Op.PsubB, I, I, M);
  sse(T, 0xf9, I, Op.PsubW, I, I, M);
  sse(T, 0xfa, I, Op.PsubD, I, I, M);
  sse(T, 0xfb, I, Op.PsubQ, I, I, M);
  sse(T, 0xfc, I, Op.PaddB, I, I, M);
  sse(T, 0xfd, I, Op.PaddW, I, I, M);
  sse(T, 0xfe, I, Op.PaddD, I, I, M);
  initSseExtTable();
}

function initSseExtTable(): void {
  const T = MAP_0F, T38 = MAP_0F38, T3A = MAP_0F3A, I = Op.Invalid;
  sse(T, 0x12, Op.MovlpLoad, Op.MovlpLoad, Op.Movsldup, Op.Movddup, M);
  sse(T, 0x16, Op.MovhpLoad, Op.MovhpLoad, Op.Movshdup, I, M);
  sse(T, 0x2b, Op.MovntStore, Op.MovntStore, I, I, M | MEMONLY);
  sse(T, 0x7c, I, Op.FloatHorizontal, I, Op.FloatHorizontal, M);
  sse(T, 0x7d, I, Op.FloatHorizontal, I, Op.FloatHorizontal, M);
  sse(T, 0xc3, Op.Movnti, I, I, I, M | MEMONLY);
  sse(T, 0xc4, I, Op.InsertLane, I, I, M | IB);
  sse(T, 0xc5, I, Op.PextrwReg, I, I, M | IB | REGONLY);
  sse(T, 0xd0, I, Op.AddSub, I, Op.AddSub, M);
  for (let c: u32 = 0xd1; c <= 0xd3; c++) sse(T, c, I, Op.PshiftXmm, I, I, M);
  sse(T, 0xe1, I, Op.PshiftXmm, I, I, M);
  sse(T, 0xe2, I, Op.PshiftXmm, I, I, M);
  for (let c: u32 = 0xf1; c <= 0xf3; c++) sse(T, c, I, Op.PshiftXmm, I, I, M);
  const lane0F: u32[] = [0xd9, 0xdd, 0xe0, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xec, 0xed, 0xee];
  for (let k = 0; k < lane0F.length; k++) sse(T, lane0F[k], I, Op.LaneExt, I, I, M);
  sse(T, 0xe7, I, Op.MovntStore, I, I, M | MEMONLY);
  sse(T, 0xf0, I, I, I, Op.Lddqu, M | MEMONLY);
  sse(T, 0xf5, I, Op.Pmaddwd, I, I, M);
  sse(T, 0xf6, I, Op.Psadbw, I, I, M);

  sse(T38, 0x00, I, Op.Pshufb, I, I, M);
  for (let c: u32 = 0x01; c <= 0x02; c++) sse(T38, c, I, Op.HorizontalInt, I, I, M);
  for (let c: u32 = 0x05; c <= 0x06; c++) sse(T38, c, I, Op.HorizontalInt, I, I, M);
  for (let c: u32 = 0x08; c <= 0x0a; c++) sse(T38, c, I, Op.LaneExt, I, I, M); // psignb/w/d
  for (let c: u32 = 0x1c; c <= 0x1e; c++) sse(T38, c, I, Op.LaneExt, I, I, M); // pabsb/w/d
  sse(T38, 0x10, I, Op.BlendVar, I, I, M);
  sse(T38, 0x14, I, Op.BlendVar, I, I, M);
  sse(T38, 0x15, I, Op.BlendVar, I, I, M);
  sse(T38, 0x17, I, Op.Ptest, I, I, M);
  for (let c: u32 = 0x20; c <= 0x25; c++) sse(T38, c, I, Op.PmovExt, I, I, M);
  for (let c: u32 = 0x30; c <= 0x35; c++) sse(T38, c, I, Op.PmovExt, I, I, M);
  sse(T38, 0x28, I, Op.Pmuldq, I, I, M);
  sse(T38, 0x29, I, Op.LaneExt, I, I, M); // pcmpeqq
  sse(T38, 0x2b, I, Op.PackusDW, I, I, M);
  sse(T38, 0x37, I, Op.LaneExt, I, I, M); // pcmpgtq
  for (let c: u32 = 0x38; c <= 0x40; c++) sse(T38, c, I, Op.LaneExt, I, I, M); // pmin/pmax s/u b/w/d, pmulld
  sse(T38, 0xf0, Op.Movbe, I, I, Op.Crc32, M); // movbe needs memory: decoder
  sse(T38, 0xf1, Op.Movbe, I, I, Op.Crc32, M);

  for (let c: u32 = 0x08; c <= 0x0b; c++) sse(T3A, c, I, Op.Round, I, I, M | IB);
  for (let c: u32 = 0x0c; c <= 0x0e; c++) sse(T3A, c, I, Op.BlendImm, I, I, M | IB);
  sse(T3A, 0x0f, I, Op.Palignr, I, I, M | IB);
  for (let c: u32 = 0x14; c <= 0x17; c++) sse(T3A, c, I, Op.ExtractLane, I, I, M | IB);
  sse(T3A, 0x20, I, Op.InsertLane, I, I, M | IB);
  sse(T3A, 0x21, I, Op.Insertps, I, I, M | IB);
  sse(T3A, 0x22, I, Op.InsertLane, I, I, M | IB);
  for (let c: u32 = 0x60; c <= 0x63; c++) sse(T3A, c, I, Op.PcmpStr, I, I, M | IB);
}
