/**
 * The dashboard's static files at `/ui`: the page, its script and its stylesheet, bundled at build
 * time (`ui/build.mjs`, part of `npm run build` and of the package's prepack) into `dist/ui` and
 * read from there once, on first request. The routes are public (the page holds no data; every
 * datum comes through the API with the token the user logs in with) and serve a fixed list of
 * files, so no request path ever reaches the file system. A strict Content-Security-Policy keeps
 * the page to its own script and to this origin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError, notFound } from './http-errors.ts';

/** The files of the bundle and their content types. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // uPlot and the graph set element styles from script; no inline <style> or style attributes in markup.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Where the bundle is: `dist/ui` of this package, seen from the sources (`src/server`) or from
 * the compiled files (`dist/src/server`).
 */
export function uiDirectory(): string | undefined {
  for (const relative of ['../../dist/ui/', '../../ui/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`) && existsSync(`${dir}app.js`)) return dir;
  }
  return undefined;
}

export function uiRoutes(app: FastifyInstance, dir: string | undefined = uiDirectory()): void {
  const cache = new Map<string, Buffer>();
  const read = (file: string): Buffer => {
    let body = cache.get(file);
    if (!body) {
      if (!dir)
        throw new HttpError(
          503,
          'dashboard_not_built',
          'the dashboard is not built into this package: run `npm run build`',
        );
      body = readFileSync(`${dir}${file}`);
      cache.set(file, body);
    }
    return body;
  };
  const send = (file: string) => async (_req: unknown, reply: FastifyReply) => {
    const body = read(file);
    reply
      .header('content-type', FILES[file])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache');
    return reply.send(body);
  };
  app.get('/ui', async (_req, reply) => reply.redirect('/ui/', 302));
  app.get('/ui/', send('index.html'));
  app.get('/ui/:file', async (req, reply) => {
    const { file } = req.params as { file: string };
    if (!Object.hasOwn(FILES, file)) throw notFound(`no file ${file} in the dashboard`);
    return send(file)(req, reply);
  });
}
