// The analysis layer's public surface: build a CodeMap from a CodeImage, then ask about a patch site.
export type { CodeImage, CodeImageFunction, CodeImageSection } from './code-image.js';
export { AnalysisError, type AnalysisProblem } from './error.js';
export {
  CodeMap,
  type AddressRegion,
  type BranchEdge,
  type BranchKind,
  type CodeFunction,
  type CodeRange,
  type InstructionKind,
  type InstructionSite,
  type RipRelativeOperand,
} from './code-map.js';
export type { JumpTable } from './jump-tables.js';
export {
  analyzePatchSite,
  PAGE_SIZE,
  type BranchIntoRange,
  type CoveredInstruction,
  type InstructionEvidence,
  type Overrun,
  type OverrunRegion,
  type OverrunSpan,
  type OverwrittenRange,
  type PatchSite,
  type PatchTarget,
  type ReturnAddressInRange,
  type RipRelativeInRange,
} from './patch-site.js';
export { CallerSavedLiveness, CALLER_SAVED, registersOf } from './liveness.js';
