// Small formatting helpers shared by the report writers.

export function hex(value: bigint | number): string {
  return '0x' + value.toString(16);
}

export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
