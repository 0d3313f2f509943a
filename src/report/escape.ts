// Text for a terminal: every control character shown visibly, so guest-controlled text (program
// output, symbol and file names) cannot clear the screen, move the cursor over the verdict, set
// the window title or write the clipboard. Line feeds stay (the report's own line structure).

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\r': '\\r', '\x1b': '\\x1b', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\0': '\\0' };

// C0 controls but \n, DEL, C1 controls (CSI 0x9b, OSC 0x9d...), and the Unicode bidirectional
// overrides and isolates, which reorder what a terminal shows (CVE-2021-42574).
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeTerminal(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
