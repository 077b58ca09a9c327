/**
 * Test helper: the config service app in this process, on 127.0.0.1 port 0, over a real store, with
 * an admin token installed. Faster than a child process and lets a test look at the server's sockets.
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../src/server/app.ts';
import { issueToken } from '../src/server/tokens.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { call, tempDir } from './service.ts';

export interface InProcessService {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Every socket the server accepted. */
  readonly sockets: Socket[];
  /** Makes a token through the API and returns its secret and id. */
  newToken(body: Record<string, unknown>): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

/** Starts the app over `store` (default: SQLite in a temp directory, removed on close). */
export async function startInProcess(
  options: Partial<AppOptions> & { store?: Store; adminToken?: string } = {},
): Promise<InProcessService> {
  const dir = options.store ? undefined : tempDir();
  const store = options.store ?? sqliteStore({ file: `${dir!.path}/weft.db` });
  let token = options.adminToken;
  if (!token) {
    const issued = issueToken('admin', 'admin');
    await store.putToken(issued.record);
    token = issued.token;
  }
  const { adminToken: _a, ...appOptions } = options;
  const app = buildApp({ ...appOptions, store });
  const sockets: Socket[] = [];
  app.server.on('connection', (s: Socket) => sockets.push(s));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    store,
    url,
    port,
    token,
    sockets,
    async newToken(body) {
      const r = await call(url, 'POST', '/v1/tokens', { token: token!, body });
      if (r.status !== 201) throw new Error(`token not created: ${r.status} ${JSON.stringify(r.body)}`);
      return { token: r.body.token as string, id: r.body.id as string };
    },
    async close() {
      await app.close();
      if (!options.store) await store.close();
      dir?.remove();
    },
  };
}

/**
 * A request whose path is sent exactly as given (no URL normalization: dot segments, doubled
 * slashes and percent-encodings reach the server as written).
 */
export function rawCall(
  port: number,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
