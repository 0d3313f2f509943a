// SARIF 2.1.0, so CI systems (GitHub code scanning, GitLab, IDEs) show findings inline. One
// rule per finding code. A finding's primary location is its source line when the file
// has DWARF line info (-g): the finding's own address, else the patched function's entry;
// without line info it is the executable with the run-time address. partialFingerprints
// make an alert the same alert across runs and commits that move code around it.

import type { SourceLine } from '../elf/dwarf-line.js';
import { FINDING_CATALOG } from '../verify/finding-catalog.js';
import { FINDING_CODES, type Finding, type FindingCode, type Severity } from '../verify/finding.js';
import type { VerifyResult } from '../verify/result.js';
import { hex } from './format.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** The key of our fingerprint in partialFingerprints (versioned: a new recipe gets a new key). */
export const SARIF_FINGERPRINT_KEY = 'patchsandboxFinding/v1';

export interface SarifArtifacts {
  /** Path or URI of the executable as the user gave it. */
  main: string;
  patch: string;
}

/** FNV-1a, 64-bit, as 16 hex digits: stable, tiny, the same in every JavaScript engine. */
export function fingerprint(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** A relative source path stays relative (to the repository root, as code scanning reads it); an absolute one becomes a file: URI. */
function sourceUri(file: string): string {
  const encoded = file.split('/').map((part) => encodeURIComponent(part)).join('/');
  return file.startsWith('/') ? `file://${encoded}` : encoded;
}

function fileUri(path: string): string {
  return path.split('/').map((part) => encodeURIComponent(part)).join('/');
}

export function renderSarif(
  result: VerifyResult,
  tool: { name: string; version: string; informationUri?: string },
  artifacts: SarifArtifacts,
): string {
  const codes = Object.keys(FINDING_CODES) as FindingCode[];
  const artifactList: { location: { uri: string }; roles?: string[] }[] = [
    { location: { uri: fileUri(artifacts.main) }, roles: ['analysisTarget'] },
    { location: { uri: fileUri(artifacts.patch) }, roles: ['analysisTarget'] },
  ];
  const artifactIndex = (uri: string): number => {
    let i = artifactList.findIndex((a) => a.location.uri === uri);
    if (i < 0) i = artifactList.push({ location: { uri } }) - 1;
    return i;
  };
  const sourceLocation = (s: SourceLine, message?: string): Record<string, unknown> => {
    const uri = sourceUri(s.file);
    return {
      physicalLocation: {
        artifactLocation: { uri, index: artifactIndex(uri) },
        region: { startLine: s.line, ...(s.column !== undefined ? { startColumn: s.column } : {}) },
      },
      ...(message ? { message: { text: message } } : {}),
    };
  };
  const binaryLocation = (address: bigint | undefined): Record<string, unknown> => ({
    physicalLocation: {
      artifactLocation: { uri: fileUri(artifacts.main), index: 0 },
      ...(address !== undefined ? { address: { absoluteAddress: Number(address) } } : {}),
    },
  });
  const logical = result.target ? [{ name: result.target.demangled ?? result.target.name, kind: 'function' }] : undefined;

  const resultOf = (f: Finding): Record<string, unknown> => {
    const source = f.source ?? result.target?.source;
    const primary = source ? sourceLocation(source) : binaryLocation(f.address);
    if (logical) primary.logicalLocations = logical;
    const related: Record<string, unknown>[] = [];
    for (const e of f.evidence) {
      if (e.source) related.push({ id: related.length, ...sourceLocation(e.source, `${e.label}${e.location ? ` (${e.location})` : ''}`) });
    }
    if (source && f.address !== undefined) related.push({ id: related.length, ...binaryLocation(f.address), message: { text: `run-time address ${hex(f.address)} in ${artifacts.main}` } });
    // What identifies the problem, not where the run happened to map it: code, function,
    // the symbol+offset form of its address and the evidence's places.
    const places = f.evidence.map((e) => e.location ?? '').filter(Boolean).join(',');
    const target = result.target ? result.target.name : '';
    return {
      ruleId: f.code,
      ruleIndex: codes.indexOf(f.code),
      level: LEVEL[f.severity],
      message: { text: f.hint ? `${f.message} Fix: ${f.hint}` : f.message },
      locations: [primary],
      ...(related.length > 0 ? { relatedLocations: related } : {}),
      partialFingerprints: { [SARIF_FINGERPRINT_KEY]: fingerprint(`${f.code}|${f.severity}|${target}|${places}`) },
      properties: {
        ...(f.address !== undefined ? { address: hex(f.address) } : {}),
        evidence: f.evidence.map((e) => ({
          label: e.label,
          ...(e.address !== undefined ? { address: hex(e.address) } : {}),
          ...(e.location ? { location: e.location } : {}),
          ...(e.text ? { text: e.text } : {}),
          ...(e.source ? { source: `${e.source.file}:${e.source.line}` } : {}),
        })),
      },
    };
  };

  const results = result.findings.map(resultOf);
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.informationUri ? { informationUri: tool.informationUri } : {}),
            rules: codes.map((code) => ({
              id: code,
              name: code,
              shortDescription: { text: FINDING_CATALOG[code].meaning },
              defaultConfiguration: { level: LEVEL[FINDING_CATALOG[code].severities[0]!] },
            })),
          },
        },
        artifacts: artifactList,
        invocations: [
          {
            executionSuccessful: result.verdict !== 'error',
            ...(result.error ? { toolExecutionNotifications: [{ level: 'error', message: { text: result.error } }] } : {}),
          },
        ],
        results,
        properties: { verdict: result.verdict },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
