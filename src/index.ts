// The package's public API (`import { verifyPatch } from 'patchsandbox'`): verification as a
// function (bytes in, result out, as the CLI and the web page use it), the report formats,
// the finding-code catalog, and the layers a tool author may build on (subpaths
// 'patchsandbox/elf', '/engine', '/loader' give each layer's whole surface). Everything here
// runs in a browser as in Node.

// Verification.
export { verifyPatch } from './verify/verify.js';
export { DEFAULT_MAX_INSTRUCTIONS, type VerifyInput, type TrampolineChoice, type EngineChoice } from './verify/input.js';
export type { VerifyResult, SymbolSummary, TrampolineSummary, InstructionLine, RunSummary, OutputLine, ProgramWrite } from './verify/result.js';
export { VerifyError, type VerifyProblem } from './verify/error.js';
export { EXIT_CODES, FINDING_CODES, isFindingCode, sortFindings, type Finding, type Evidence, type FindingCode, type Severity, type Verdict } from './verify/finding.js';
export { FINDING_CATALOG, type FindingCodeInfo } from './verify/finding-catalog.js';

// The command line, without Node: parse verify-patch's arguments, run on bytes, render.
export { parseCommandLine, runCommand, render, REPORT_FORMATS, TOOL, type ParsedCommand, type CommandRequest, type CommandOutcome, type ReportFormat } from './verify/command.js';

// Reports.
export { renderText } from './report/text.js';
export { renderJson, JSON_SCHEMA_VERSION } from './report/json.js';
export { renderSarif, SARIF_FINGERPRINT_KEY, type SarifArtifacts } from './report/sarif.js';
export { renderHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';

// Lower layers a tool author reuses.
export { ElfFile, ElfError, demangle, initDemangler, type ElfSymbol, type Section, type Segment } from './elf/index.js';
export { LineTable, readLineRows, formatSourceLine, type LineRow, type SourceLine } from './elf/dwarf-line.js';
export { createEngine, EmulationError, type Engine, type EngineKind } from './engine/index.js';
export { EmulatedProcess, LoaderError, type ProcessOptions, type RunOptions, type ProcessStop } from './loader/index.js';
