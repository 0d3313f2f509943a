// "Download report": the verification the page shows, as the CLI would write it with
// --format json, sarif or html (the same renderers, run here on the worker's result).

import { renderHtml } from '../../../src/report/html.js';
import { renderJson } from '../../../src/report/json.js';
import { renderSarif } from '../../../src/report/sarif.js';
import { TOOL } from '../../../src/report/tool.js';
import type { VerifyResult } from '../../../src/verify/result.js';
import { h } from './dom.js';

const FORMATS = {
  json: { label: 'JSON', type: 'application/json', extension: 'json' },
  sarif: { label: 'SARIF', type: 'application/sarif+json', extension: 'sarif' },
  html: { label: 'HTML', type: 'text/html', extension: 'html' },
} as const;
type DownloadFormat = keyof typeof FORMATS;

export function reportText(result: VerifyResult, format: DownloadFormat, names: { main: string; patch: string }): string {
  switch (format) {
    case 'json':
      return renderJson(result, TOOL);
    case 'sarif':
      return renderSarif(result, TOOL, names);
    case 'html':
      return renderHtml(result, TOOL);
  }
}

/** File name stem: the function's name, kept to characters every file system accepts. */
function stem(result: VerifyResult): string {
  const name = (result.target?.name ?? 'patch').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60);
  return `verify-patch-${name}`;
}

export function renderDownloads(result: VerifyResult, names: { main: string; patch: string }, permalink: string): HTMLElement {
  const buttons = (Object.keys(FORMATS) as DownloadFormat[]).map((format) => {
    const f = FORMATS[format];
    const button = h('button', { type: 'button', class: 'download', 'data-format': format }, f.label);
    button.addEventListener('click', () => {
      const blob = new Blob([reportText(result, format, names)], { type: f.type });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${stem(result)}.${f.extension}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    });
    return button;
  });
  return h('nav', { class: 'report-actions', 'aria-label': 'this verification' },
    'Download report: ', ...buttons.flatMap((b, i) => (i === 0 ? [b] : [' ', b])),
    ' · ', h('a', { href: permalink, id: 'permalink', title: 'the case and options of this verification (not the files)' }, 'permalink'));
}
