// The web dashboard's static files (the Vite build in dist/dashboard/), served at `/` of the API address.
// These routes are public: the page holds no data, it asks for the token and then calls the API with it.
// Only `/`, `/index.html` and `/assets/*` are served; an asset path never leaves the assets folder.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the bearer token (the dashboard's static files only). */
    public?: boolean;
  }
}

/** Whether a request hit a route that needs no token (the API's auth hook asks this). */
export function isPublicRoute(req: FastifyRequest): boolean {
  return req.routeOptions.config.public === true;
}

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

export interface DashboardRouteOptions {
  /** The built dashboard (index.html and assets/); default dist/dashboard/ of this package. */
  readonly dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
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

/** Vite names built assets `<name>-<hash>.<ext>`: their content never changes under that name. */
const HASHED_ASSET = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

// The page talks only to its own origin; no inline scripts, no framing (clickjacking).
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AnonNet dashboard: not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The AnonNet dashboard is not built</h1>
<p>This daemon serves the dashboard from <code>dist/dashboard/</code>, which is missing.
Build it in the AnonNet source folder, then reload this page:</p>
<pre>npm run build:dashboard</pre>
<p>(<code>npm ci</code> builds it too.) The control API and <code>/metrics</code> work without it.</p>
</body></html>
`;

function commonHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

/** The file under `root` named by `rel`, or undefined when `rel` tries to leave `root`. */
export function resolveInside(root: string, rel: string): string | undefined {
  if (rel.length === 0 || rel.includes('\0') || rel.includes('\\')) return undefined;
  if (rel.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined;
  const base = resolve(root);
  const full = resolve(base, rel);
  return full.startsWith(base + sep) ? full : undefined;
}

async function readRegularFile(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export function registerDashboardRoutes(app: FastifyInstance, opts: DashboardRouteOptions = {}): void {
  const root = opts.dir ?? DEFAULT_DASHBOARD_DIR;
  const assets = join(root, 'assets');
  const config = { public: true };

  const page = async (_req: unknown, reply: FastifyReply) => {
    commonHeaders(reply).header('cache-control', 'no-cache').header('content-security-policy', PAGE_CSP);
    const html = await readRegularFile(join(root, 'index.html'));
    if (html === undefined) {
      return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    }
    return reply.type('text/html; charset=utf-8').send(html);
  };
  app.get('/', { config }, page);
  app.get('/index.html', { config }, page);

  app.get<{ Params: { '*': string } }>('/assets/*', { config }, async (req, reply) => {
    commonHeaders(reply);
    const path = resolveInside(assets, req.params['*']);
    const body = path === undefined ? undefined : await readRegularFile(path);
    if (path === undefined || body === undefined) {
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
    }
    const name = req.params['*'];
    reply.header(
      'cache-control',
      HASHED_ASSET.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    return reply.type(CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream').send(body);
  });
}
