// Preloaded into the verify-patch child by hostile.test.ts: at exit, writes the process's peak
// resident set size (KiB, from getrusage) to $HOSTILE_RSS_FILE, so the bound is measured on the
// child itself.
import { writeFileSync } from 'node:fs';

const out = process.env.HOSTILE_RSS_FILE;
if (out) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
