/** Test helpers: real HTTP servers on 127.0.0.1 with OS-chosen ports. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly endpoint: string;
  /** Requests received, in order. */
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  port = 0,
): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    Promise.resolve(handler(req, res)).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    endpoint: `127.0.0.1:${actual}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port that nothing listens on (bound once by the OS, then released). */
export async function closedPort(): Promise<number> {
  const s = await startServer(() => {});
  await s.close();
  return s.port;
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it stops throwing; rethrows its last error after `ms`. */
export async function eventually(check: () => void | Promise<void>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await delay(10);
    }
  }
}

/** Starts servers for one test file and closes them all when the file is done (`after` of node:test). */
export function serversClosedAfter(after: (fn: () => Promise<void>) => void) {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  return async (handler: Parameters<typeof startServer>[0]): Promise<TestServer> => {
    const s = await startServer(handler);
    servers.push(s);
    return s;
  };
}
