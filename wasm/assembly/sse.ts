// SSE/SSE2 dispatch: Op values from the opcode table (ops.ts) to the handlers in sse-move.ts,
// sse-int.ts and sse-float.ts. sseSupported() is what probe() reports.

import { Insn, I_OPSZ, I_REPNE } from './insn';
import { Op } from './ops';
import { movLoad128, movStore128, movScalarLoad, movScalarStore, movHalfLoad, movHalfStore, movHalves, movToXmm, movFromXmm, movqStore, moveMask } from './sse-move';
import {
  logic128, LOGIC_AND, LOGIC_ANDN, LOGIC_OR, LOGIC_XOR, laneOp, LANE_ADD, LANE_SUB, LANE_EQ, LANE_GT, LANE_MINU, LANE_MAXU,
  LANE_ADDUS, LANE_SUBUS, LANE_MULLO, pmuludq, unpack, pack, pshuf, shuf, shiftImmediate,
} from './sse-int';
import {
  laneOpExt, X_MINS, X_MAXS, X_MINU, X_MAXU, X_ADDS, X_SUBS, X_ADDUS, X_SUBUS, X_AVG, X_MULHS, X_MULHU, X_MULLO, X_EQ, X_GT, X_SIGN, X_ABS,
  shiftByXmm, pmaddwd, psadbw, pmuldq, pshufb, palignr, pmovExtend, ptest, blend, extractLane, insertLane, insertps, roundOp,
  horizontalInt, floatHorizontal, duplicate, lddqu, movntStore, movnti,
} from './sse-ext';
import { stringCompare } from './sse-string';
import { arith, sqrtOp, ucomi, cmpOp, intToScalar, scalarToInt, cvtss2sd, cvtsd2ss, packedConvert } from './sse-float';

export function sseSupported(op: u32): bool {
  return op >= <u32>Op.MovupsLoad && op < <u32>Op.Count;
}

export function executeSse(e: Insn, op: u32): bool {
  switch (op) {
    case Op.MovupsLoad: movLoad128(e); break;
    case Op.MovupsStore: movStore128(e); break;
    case Op.MovssLoad: movScalarLoad(e, 4); break;
    case Op.MovssStore: movScalarStore(e, 4); break;
    case Op.MovsdLoad: movScalarLoad(e, 8); break;
    case Op.MovsdStore: movScalarStore(e, 8); break;
    case Op.MovlpLoad: movHalfLoad(e, false); break;
    case Op.MovlpStore: movHalfStore(e, false); break;
    case Op.MovhpLoad: movHalfLoad(e, true); break;
    case Op.MovhpStore: movHalfStore(e, true); break;
    case Op.Movhlps: movHalves(e, true); break;
    case Op.Movlhps: movHalves(e, false); break;
    case Op.MovdToXmm: movToXmm(e, 4); break;
    case Op.MovqToXmm: movToXmm(e, 8); break;
    case Op.MovdFromXmm: movFromXmm(e, 4); break;
    case Op.MovqFromXmm: movFromXmm(e, 8); break;
    case Op.MovqXmmStore: movqStore(e); break;
    case Op.MovmskPs: moveMask(e, 4); break;
    case Op.MovmskPd: moveMask(e, 2); break;
    case Op.Pmovmskb: moveMask(e, 16); break;
    case Op.LogicPs: logic128(e, <u32>e.opcode - 0x54); break;
    case Op.Pand: logic128(e, LOGIC_AND); break;
    case Op.Pandn: logic128(e, LOGIC_ANDN); break;
    case Op.Por: logic128(e, LOGIC_OR); break;
    case Op.Pxor: logic128(e, LOGIC_XOR); break;
    case Op.PaddB: laneOp(e, LANE_ADD, 1); break;
    case Op.PaddW: laneOp(e, LANE_ADD, 2); break;
    case Op.PaddD: laneOp(e, LANE_ADD, 4); break;
    case Op.PaddQ: laneOp(e, LANE_ADD, 8); break;
    case Op.PsubB: laneOp(e, LANE_SUB, 1); break;
    case Op.PsubW: laneOp(e, LANE_SUB, 2); break;
    case Op.PsubD: laneOp(e, LANE_SUB, 4); break;
    case Op.PsubQ: laneOp(e, LANE_SUB, 8); break;
    case Op.PcmpeqB: laneOp(e, LANE_EQ, 1); break;
    case Op.PcmpeqW: laneOp(e, LANE_EQ, 2); break;
    case Op.PcmpeqD: laneOp(e, LANE_EQ, 4); break;
    case Op.PcmpgtB: laneOp(e, LANE_GT, 1); break;
    case Op.PcmpgtW: laneOp(e, LANE_GT, 2); break;
    case Op.PcmpgtD: laneOp(e, LANE_GT, 4); break;
    case Op.PminUB: laneOp(e, LANE_MINU, 1); break;
    case Op.PmaxUB: laneOp(e, LANE_MAXU, 1); break;
    case Op.PaddusB: laneOp(e, LANE_ADDUS, 1); break;
    case Op.PsubusB: laneOp(e, LANE_SUBUS, 1); break;
    case Op.PmullW: laneOp(e, LANE_MULLO, 2); break;
    case Op.Pmuludq: pmuludq(e); break;
    case Op.PunpcklBW: unpack(e, 1, false); break;
    case Op.PunpcklWD: unpack(e, 2, false); break;
    case Op.PunpcklDQ: unpack(e, 4, false); break;
    case Op.PunpcklQDQ: unpack(e, 8, false); break;
    case Op.PunpckhBW: unpack(e, 1, true); break;
    case Op.PunpckhWD: unpack(e, 2, true); break;
    case Op.PunpckhDQ: unpack(e, 4, true); break;
    case Op.PunpckhQDQ: unpack(e, 8, true); break;
    case Op.Unpcklps: unpack(e, 4, false); break;
    case Op.Unpckhps: unpack(e, 4, true); break;
    case Op.Unpcklpd: unpack(e, 8, false); break;
    case Op.Unpckhpd: unpack(e, 8, true); break;
    case Op.PackssWB: pack(e, 2, false); break;
    case Op.PackusWB: pack(e, 2, true); break;
    case Op.PackssDW: pack(e, 4, false); break;
    case Op.Pshufd: pshuf(e, 0); break;
    case Op.Pshuflw: pshuf(e, 1); break;
    case Op.Pshufhw: pshuf(e, 2); break;
    case Op.Shufps: shuf(e, false); break;
    case Op.Shufpd: shuf(e, true); break;
    case Op.PshiftW: shiftImmediate(e, 2); break;
    case Op.PshiftD: shiftImmediate(e, 4); break;
    case Op.PshiftQ: shiftImmediate(e, 8); break;
    case Op.ArithPs: arith(e, 4, 4); break;
    case Op.ArithPd: arith(e, 2, 8); break;
    case Op.ArithSs: arith(e, 1, 4); break;
    case Op.ArithSd: arith(e, 1, 8); break;
    case Op.SqrtPs: sqrtOp(e, 4, 4); break;
    case Op.SqrtPd: sqrtOp(e, 2, 8); break;
    case Op.SqrtSs: sqrtOp(e, 1, 4); break;
    case Op.SqrtSd: sqrtOp(e, 1, 8); break;
    case Op.UcomiSs: ucomi(e, 4); break;
    case Op.UcomiSd: ucomi(e, 8); break;
    case Op.CmpPs: cmpOp(e, 4, 4); break;
    case Op.CmpPd: cmpOp(e, 2, 8); break;
    case Op.CmpSs: cmpOp(e, 1, 4); break;
    case Op.CmpSd: cmpOp(e, 1, 8); break;
    case Op.Cvtsi2ss: intToScalar(e, 4); break;
    case Op.Cvtsi2sd: intToScalar(e, 8); break;
    case Op.Cvttss2si: scalarToInt(e, 4, true); break;
    case Op.Cvttsd2si: scalarToInt(e, 8, true); break;
    case Op.Cvtss2si: scalarToInt(e, 4, false); break;
    case Op.Cvtsd2si: scalarToInt(e, 8, false); break;
    case Op.Cvtss2sd: cvtss2sd(e); break;
    case Op.Cvtsd2ss: cvtsd2ss(e); break;
    case Op.Cvtps2pd: packedConvert(e, 0); break;
    case Op.Cvtpd2ps: packedConvert(e, 1); break;
    case Op.Cvtdq2pd: packedConvert(e, 2); break;
    case Op.Cvtdq2ps: packedConvert(e, 3); break;
    case Op.Cvttps2dq: packedConvert(e, 4); break;
    case Op.Cvttpd2dq: packedConvert(e, 5); break;
    case Op.LaneExt: laneExt(e); break;
    case Op.PshiftXmm: {
      const row = <u32>e.opcode >> 4;
      shiftByXmm(e, 1 << (<u32>e.opcode & 3), row == 0xd ? 2 : row == 0xe ? 4 : 6);
      break;
    }
    case Op.Pmaddwd: pmaddwd(e); break;
    case Op.Psadbw: psadbw(e); break;
    case Op.Pmuldq: pmuldq(e); break;
    case Op.PackusDW: pack(e, 4, true); break;
    case Op.Pshufb: pshufb(e); break;
    case Op.Palignr: palignr(e); break;
    case Op.PmovExt: {
      // 20..25 / 30..35: bw bd bq wd wq dq
      const k = <u32>e.opcode & 7;
      const from: u32 = k <= 2 ? 1 : k <= 4 ? 2 : 4;
      const to: u32 = k == 0 || k == 3 ? from * 2 : k == 1 || k == 4 ? from * 4 : 8;
      pmovExtend(e, from, k == 2 ? 8 : to, (<u32>e.opcode & 0x10) == 0);
      break;
    }
    case Op.Ptest: ptest(e); break;
    case Op.BlendImm: blend(e, e.opcode == 0x0c ? 4 : e.opcode == 0x0d ? 8 : 2, false); break;
    case Op.BlendVar: blend(e, e.opcode == 0x14 ? 4 : e.opcode == 0x15 ? 8 : 1, true); break;
    case Op.ExtractLane: extractLane(e, e.opcode == 0x14 ? 1 : e.opcode == 0x15 ? 2 : e.opcode == 0x17 ? 4 : <u32>e.size, false); break;
    case Op.PextrwReg: extractLane(e, 2, true); break;
    case Op.InsertLane: insertLane(e, e.opcode == 0x20 ? 1 : e.opcode == 0xc4 ? 2 : <u32>e.size); break;
    case Op.Insertps: insertps(e); break;
    case Op.Round: roundOp(e, (<u32>e.opcode & 1) == 0 ? (e.opcode == 0x08 ? 4 : 1) : (e.opcode == 0x09 ? 2 : 1), e.opcode == 0x08 || e.opcode == 0x0a ? 4 : 8); break;
    case Op.HorizontalInt: horizontalInt(e, (<u32>e.opcode & 3) == 1 ? 2 : 4, e.opcode >= 0x05); break;
    case Op.FloatHorizontal: floatHorizontal(e, (e.flags & I_OPSZ) && (e.flags & I_REPNE) == 0 ? 8 : 4, <u32>e.opcode & 1); break;
    case Op.AddSub: floatHorizontal(e, (e.flags & I_REPNE) ? 4 : 8, 2); break;
    case Op.Movsldup: duplicate(e, 0); break;
    case Op.Movshdup: duplicate(e, 1); break;
    case Op.Movddup: duplicate(e, 2); break;
    case Op.Lddqu: lddqu(e); break;
    case Op.MovntStore: movntStore(e); break;
    case Op.Movnti: movnti(e); break;
    case Op.PcmpStr: stringCompare(e, (<u32>e.opcode & 2) == 0, (<u32>e.opcode & 1) != 0); break;
    default: return false;
  }
  return true;
}

/** The lane operations routed through Op.LaneExt, by opcode (0F and 0F 38 opcodes do not overlap). */
function laneExt(e: Insn): void {
  switch (<u32>e.opcode) {
    case 0xd9: laneOpExt(e, X_SUBUS, 2); break;
    case 0xdd: laneOpExt(e, X_ADDUS, 2); break;
    case 0xe0: laneOpExt(e, X_AVG, 1); break;
    case 0xe3: laneOpExt(e, X_AVG, 2); break;
    case 0xe4: laneOpExt(e, X_MULHU, 2); break;
    case 0xe5: laneOpExt(e, X_MULHS, 2); break;
    case 0xe8: laneOpExt(e, X_SUBS, 1); break;
    case 0xe9: laneOpExt(e, X_SUBS, 2); break;
    case 0xea: laneOpExt(e, X_MINS, 2); break;
    case 0xec: laneOpExt(e, X_ADDS, 1); break;
    case 0xed: laneOpExt(e, X_ADDS, 2); break;
    case 0xee: laneOpExt(e, X_MAXS, 2); break;
    case 0x08: laneOpExt(e, X_SIGN, 1); break;
    case 0x09: laneOpExt(e, X_SIGN, 2); break;
    case 0x0a: laneOpExt(e, X_SIGN, 4); break;
    case 0x1c: laneOpExt(e, X_ABS, 1); break;
    case 0x1d: laneOpExt(e, X_ABS, 2); break;
    case 0x1e: laneOpExt(e, X_ABS, 4); break;
    case 0x29: laneOpExt(e, X_EQ, 8); break;
    case 0x37: laneOpExt(e, X_GT, 8); break;
    case 0x38: laneOpExt(e, X_MINS, 1); break;
    case 0x39: laneOpExt(e, X_MINS, 4); break;
    case 0x3a: laneOpExt(e, X_MINU, 2); break;
    case 0x3b: laneOpExt(e, X_MINU, 4); break;
    case 0x3c: laneOpExt(e, X_MAXS, 1); break;
    case 0x3d: laneOpExt(e, X_MAXS, 4); break;
    case 0x3e: laneOpExt(e, X_MAXU, 2); break;
    case 0x3f: laneOpExt(e, X_MAXU, 4); break;
    default: laneOpExt(e, X_MULLO, 4); break; // 0x40 pmulld
  }
}
