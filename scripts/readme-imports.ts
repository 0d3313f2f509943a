// Keeps README.md's list of covered imports equal to the loader's stub table.
// Run `node --import tsx scripts/readme-imports.ts` to rewrite the block; test/docs checks it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COVERED_IMPORTS } from '../src/loader/index.js';

export const BEGIN = '<!-- covered-imports:begin -->';
export const END = '<!-- covered-imports:end -->';
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** One line per libc area, names in stub-table order. */
export function renderCoveredImports(): string {
  const byArea = new Map<string, string[]>();
  for (const { name, area } of COVERED_IMPORTS) {
    const names = byArea.get(area) ?? [];
    names.push('`' + name + '`');
    byArea.set(area, names);
  }
  return [...byArea].map(([area, names]) => `- **${area}**: ${names.join(', ')}`).join('\n');
}

export function currentBlock(readme: string): string | undefined {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) return undefined;
  return readme.slice(begin + BEGIN.length, end).trim();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const readme = readFileSync(README, 'utf8');
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
  writeFileSync(README, readme.slice(0, begin + BEGIN.length) + '\n' + renderCoveredImports() + '\n' + readme.slice(end));
  console.log(`README.md: ${COVERED_IMPORTS.length} covered imports listed`);
}
