// The dev server (`vite web`) treats a request for a file without an extension as a JS
// module and tries to transform it, so fetching a corpus executable (corpus/<scenario>/main)
// failed with a parse error. This serves the corpus binaries as bytes before Vite's own
// middlewares see them; the production build emits them as plain assets and needs nothing.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { normalize, sep } from 'node:path';
import type { Plugin } from 'vite';

/** Source and metadata files of a scenario: the page never fetches these. */
const NOT_BINARY = /\.(?:json|c|cc|cpp|h|sh|md|ts|js)$/;

export function corpusBinaries(corpusDir: string): Plugin {
  const root = normalize(corpusDir.endsWith(sep) ? corpusDir : corpusDir + sep);
  return {
    name: 'patchsandbox:corpus-binaries',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://dev');
        if (url.search !== '' || !url.pathname.startsWith('/@fs/')) return next();
        const file = normalize(decodeURIComponent(url.pathname.slice('/@fs'.length)));
        if (!file.startsWith(root) || NOT_BINARY.test(file) || !existsSync(file) || !statSync(file).isFile()) return next();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-cache' });
        res.end(readFileSync(file));
      });
    },
  };
}

