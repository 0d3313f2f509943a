// SSE/SSE2 dispatch (filled in below the integer core).
import { Insn } from './insn';

export function sseSupported(op: u32): bool {
  return false;
}

export function executeSse(e: Insn, op: u32): bool {
  return false;
}
