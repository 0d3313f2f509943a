// Hex text for addresses and bytes, as every layer's messages and reports print them.
// A leaf module: it imports nothing, so any layer may use it without reversing the data flow.

export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/** Space-separated byte pairs, as objdump prints them: `48 b8 10 c1`. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
