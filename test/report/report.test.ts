import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderText } from '../../src/report/text.js';
import { FINDING_CODES, sortFindings, verdictOf, type Finding } from '../../src/verify/finding.js';
import type { VerifyResult } from '../../src/verify/result.js';

const tool = { name: 'verify-patch', version: '0.0.0-test' };

const branchInto: Finding = {
  code: 'BRANCH_INTO_PATCHED_BYTES',
  severity: 'error',
  message: 'the loop in spin() jumps back to offset 4, inside the 12 overwritten bytes',
  address: 0x555555555124n,
  evidence: [
    { label: 'branch', address: 0x55555555513an, location: 'spin+0x1a', bytes: new Uint8Array([0x75, 0xe8]), text: 'jne 0x555555555124' },
  ],
  hint: 'patch a caller instead, or use the 5-byte rel32 form if the replacement is within reach',
};
const padding: Finding = {
  code: 'TRAMPOLINE_OVERRUNS_FUNCTION',
  severity: 'warning',
  message: 'the trampoline covers 3 bytes of alignment padding after the function',
  evidence: [],
};

const result: VerifyResult = {
  verdict: 'unsafe',
  target: { name: '_Z4spini', demangled: 'spin(int)', address: 0x555555555120n, size: 28, file: 'main' },
  replacement: { name: '_Z4spini', demangled: 'spin(int)', address: 0x7ffff7fc1100n, size: 30, file: 'patch.so' },
  trampoline: {
    form: 'abs-rax',
    site: 0x555555555120n,
    target: 0x7ffff7fc1100n,
    bytes: new Uint8Array([0x48, 0xb8, 0, 0x11, 0xfc, 0xf7, 0xff, 0x7f, 0, 0, 0xff, 0xe0]),
    instructions: [
      { address: 0x555555555120n, bytes: new Uint8Array([0x48, 0xb8, 0, 0x11, 0xfc, 0xf7, 0xff, 0x7f, 0, 0]), text: 'mov rax,7FFFF7FC1100h' },
      { address: 0x55555555512an, bytes: new Uint8Array([0xff, 0xe0]), text: 'jmp rax' },
    ],
    originalBytes: new Uint8Array(12),
    originalInstructions: [{ address: 0x555555555120n, bytes: new Uint8Array([0xf3, 0x0f, 0x1e, 0xfa]), text: 'endbr64' }],
  },
  findings: [padding, branchInto],
  run: {
    engine: 'wasm',
    mode: 'tool-driven',
    instructions: 5000,
    patchPoint: 1200,
    ended: 'instruction budget reached',
    output: [
      { stream: 'stdout', text: 'before fix cur times 0', instruction: 900 },
      { stream: 'stdout', text: 'after fix cur times 0', instruction: 2000 },
    ],
  },
};

describe('verdict', () => {
  it('is unsafe with one error finding and safe with warnings only', () => {
    expect(verdictOf([padding, branchInto])).toBe('unsafe');
    expect(verdictOf([padding])).toBe('safe');
    expect(verdictOf([])).toBe('safe');
  });
  it('sorts errors before warnings', () => {
    expect(sortFindings([padding, branchInto]).map((f) => f.severity)).toEqual(['error', 'warning']);
  });
});

describe('text report', () => {
  const text = renderText(result);
  it('ends with the verdict line', () => {
    expect(text.trimEnd().split('\n').at(-1)).toBe('verdict: UNSAFE (1 error, 1 warning)');
  });
  it('shows errors before warnings, with evidence and the fix', () => {
    expect(text.indexOf('Errors (1):')).toBeLessThan(text.indexOf('Warnings (1):'));
    expect(text).toContain('BRANCH_INTO_PATCHED_BYTES at 0x555555555124');
    expect(text).toContain('0x55555555513a <spin+0x1a>  75 e8  jne 0x555555555124');
    expect(text).toContain('fix: patch a caller instead');
  });
  it('names the target demangled and mangled, and splits output at the patch point', () => {
    expect(text).toContain('spin(int) [_Z4spini] at 0x555555555120');
    expect(text).toContain('[before] before fix cur times 0');
    expect(text).toContain('[after ] after fix cur times 0');
  });
  it('says why a patch could not be verified', () => {
    expect(renderText({ verdict: 'error', findings: [], error: 'unsupported instruction' })).toContain(
      'verdict: COULD NOT VERIFY: unsupported instruction',
    );
  });
});

describe('JSON report', () => {
  const json = JSON.parse(renderJson(result, tool)) as Record<string, unknown>;
  it('follows the documented top-level schema', () => {
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['verdict', 'target', 'trampoline', 'findings', 'run']));
    expect(json.verdict).toBe('unsafe');
  });
  it('writes addresses as hex strings and bytes as hex', () => {
    const findings = json.findings as Array<Record<string, unknown>>;
    expect(findings[1]!.address).toBe('0x555555555124');
    const tr = json.trampoline as Record<string, unknown>;
    expect(tr.bytes).toBe('48 b8 00 11 fc f7 ff 7f 00 00 ff e0');
  });
});

describe('SARIF report', () => {
  const sarif = JSON.parse(renderSarif(result, tool, { main: 'main', patch: 'patch.so' })) as {
    version: string;
    runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<Record<string, unknown>> }>;
  };
  it('is SARIF 2.1.0 with one rule per finding code', () => {
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(Object.keys(FINDING_CODES));
  });
  it('maps severities to SARIF levels and keeps the address', () => {
    const [first, second] = sarif.runs[0]!.results;
    expect(first!.level).toBe('warning');
    expect(second!.level).toBe('error');
    expect(JSON.stringify(second)).toContain(String(Number(0x555555555124n)));
  });
});
