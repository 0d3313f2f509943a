// Small formatting helpers shared by the report writers.

export { hex, hexBytes } from '../hex.js';

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
