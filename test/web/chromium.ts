// What the chromium page tests share: where Debian's chromium is and how it is launched (the
// developers' guide's flags), whether the tests can run (a missing chromium fails CI and skips
// elsewhere), a static server for a built page, and the Vite dev server of web/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { createLogger, createServer as createViteServer, type Logger, type ViteDevServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
export const repo = new URL('../../', import.meta.url).pathname;

/** Whether chromium is installed; without it CI fails at once, elsewhere the suite says it skips. */
export function chromiumAvailable(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  console.warn(`${suite}: SKIPPED, ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.txt': 'text/plain',
};

/** Serves a built page's folder on 127.0.0.1 (a free port); nothing outside it. */
export function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** web/'s Vite dev server on 127.0.0.1, without file watching or HMR (edits elsewhere in the tree must not reload the page mid-run). */
export async function devServer(logger: Logger = createLogger('error')): Promise<ViteDevServer> {
  const server = await createViteServer({
    configFile: join(repo, 'web/vite.config.ts'),
    customLogger: logger,
    server: { host: '127.0.0.1', port: 0, strictPort: false, watch: null, hmr: false },
  });
  await server.listen();
  return server;
}
