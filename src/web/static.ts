import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/** Where `npm run build` puts the Mini App (scripts/build-webapp.*). */
export const WEBAPP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'webapp');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** esbuild's `[name]-[hash]`: the content decides the name, so it may be cached for good. */
const HASHED = /-[A-Za-z0-9]{8,}\.[a-z0-9]+$/;

/**
 * The built front end under /app/: index.html (never cached, so a new build is picked up at
 * once) for /app/ and any path without a file extension (the app routes itself); hashed assets
 * with a year's immutable cache. Without a build: 503 that says how to make one.
 */
export function staticHandler(root = WEBAPP_DIR) {
  return async (c: Context) => {
    const rel = decodeURIComponent(c.req.path.replace(/^\/app\/?/, ''));
    const wantsIndex = rel === '' || extname(rel) === '';
    const file = normalize(join(root, wantsIndex ? 'index.html' : rel));
    if (!file.startsWith(root + sep)) return c.text('Not found', 404);
    const found = await stat(file).then((s) => s.isFile(), () => false);
    if (!found) {
      if (wantsIndex) return c.text('Mini App not built: run npm run build', 503);
      return c.text('Not found', 404);
    }
    const body = await readFile(file);
    const cache = wantsIndex ? 'no-cache' : HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'public, max-age=300';
    return c.body(body, 200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
    });
  };
}
