import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';
import { type Config, projectRoot } from './config.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/** Paths that belong to the server; everything else under GET is the single-page app. */
const SERVER_PREFIXES = ['/api/', '/auth/', '/oauth/', '/.well-known/', '/healthz', '/readyz', '/metrics', '/openapi.json', '/dev/', '/dfm/'];

/** What a server started before `npm run build` answers instead of the app. */
const NOT_BUILT = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Ombud</title></head>
<body><main><h1>Ombud</h1><p>Webbappen är inte byggd: kör <code>npm run build</code>.</p>
<p lang="en">The web app is not built: run <code>npm run build</code>.</p></main></body></html>`;

/**
 * Serves the built web app from `web/dist` on the same origin as the API; unknown paths
 * fall back to index.html for client-side routing. Sources under web/ are never served.
 */
export function webApp(_config: Config) {
  const root = path.join(projectRoot, 'web', 'dist');
  return async (ctx: Context, next: Next): Promise<void> => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || SERVER_PREFIXES.some((p) => ctx.path.startsWith(p))) {
      return next();
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    const wanted = path.normalize(path.join(root, decoded));
    let file = wanted.startsWith(root + path.sep) && existsSync(wanted) && statSync(wanted).isFile() ? wanted : undefined;
    const isAsset = path.extname(ctx.path) !== '';
    if (!file && !isAsset) file = path.join(root, 'index.html');
    if (!file || !existsSync(file)) {
      if (isAsset) return next();
      ctx.type = TYPES['.html'] as string;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = NOT_BUILT;
      return;
    }
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.set('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.body = readFileSync(file);
  };
}
