// JSON report: the documented schema of shared/design.md. Addresses are hex strings
// (JSON numbers lose precision above 2^53), byte strings are space-separated hex.

import type { VerifyResult } from '../verify/result.js';
import { hex, hexBytes } from './format.js';

export const JSON_SCHEMA_VERSION = 1;

export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return hex(value);
  if (value instanceof Uint8Array) return hexBytes(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

/**
 * The documented keys (verdict, target, trampoline, findings, run) are always present, null
 * when there is nothing to say (no trampoline written, input that could not be read), so a
 * consumer can rely on the shape; the others appear when they apply.
 */
export function renderJson(result: VerifyResult, tool: { name: string; version: string }): string {
  const { verdict, strategy, target, replacement, trampoline, findings, run, baseline, programWrites, slotWrites, exploration, error } = result;
  return (
    JSON.stringify(
      toJsonValue({
        schemaVersion: JSON_SCHEMA_VERSION, tool, verdict, strategy,
        target: target ?? null, replacement, trampoline: trampoline ?? null, programWrites, slotWrites,
        findings, run: run ?? null, baseline, exploration, error,
      }),
      null,
      2,
    ) + '\n'
  );
}
