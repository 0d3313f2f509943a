// SARIF 2.1.0, so CI systems show findings inline. One rule per finding code; the
// patched executable is the artifact; addresses go into physicalLocation.address.

import { FINDING_CODES, type FindingCode, type Severity } from '../verify/finding.js';
import type { VerifyResult } from '../verify/result.js';
import { hex } from './format.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

export interface SarifArtifacts {
  /** Path or URI of the executable as the user gave it. */
  main: string;
  patch: string;
}

export function renderSarif(
  result: VerifyResult,
  tool: { name: string; version: string; informationUri?: string },
  artifacts: SarifArtifacts,
): string {
  const codes = Object.keys(FINDING_CODES) as FindingCode[];
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
            rules: codes.map((code) => ({ id: code, name: code, shortDescription: { text: FINDING_CODES[code] } })),
          },
        },
        artifacts: [{ location: { uri: artifacts.main } }, { location: { uri: artifacts.patch } }],
        invocations: [
          {
            executionSuccessful: result.verdict !== 'error',
            ...(result.error ? { toolExecutionNotifications: [{ level: 'error', message: { text: result.error } }] } : {}),
          },
        ],
        results: result.findings.map((f) => ({
          ruleId: f.code,
          ruleIndex: codes.indexOf(f.code),
          level: LEVEL[f.severity],
          message: { text: f.hint ? `${f.message} Fix: ${f.hint}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifacts.main, index: 0 },
                ...(f.address !== undefined ? { address: { absoluteAddress: Number(f.address) } } : {}),
              },
              ...(result.target
                ? { logicalLocations: [{ name: result.target.demangled ?? result.target.name, kind: 'function' }] }
                : {}),
            },
          ],
          properties: {
            evidence: f.evidence.map((e) => ({
              label: e.label,
              ...(e.address !== undefined ? { address: hex(e.address) } : {}),
              ...(e.location ? { location: e.location } : {}),
              ...(e.text ? { text: e.text } : {}),
            })),
          },
        })),
        properties: { verdict: result.verdict },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
