/**
 * One hop of a call chain: `GET /` calls the upstream's `GET /` and answers with its status.
 * argv[2] is JSON `{ mode: 'weft' | 'naive', upstream: 'host:port', breaker?: boolean }`.
 * - `weft`: Express 5 with the Weft middleware, a Weft client (full default stack, or without the
 *   breaker) to the upstream; a Weft error becomes a 503.
 * - `naive`: node:http with a client that retries every 5xx or error 3 times, no budget.
 * Prints `{ port }` when listening. `GET /__stats` answers `{ requests }` (calls of `GET /` so far).
 */
import { createServer } from 'node:http';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import { Pool } from 'undici';

const config = JSON.parse(process.argv[2]!) as {
  mode: 'weft' | 'naive';
  upstream: string;
  breaker?: boolean;
};

let requests = 0;
let port: number;
if (config.mode === 'weft') {
  const client = createClient({
    service: 'upstream',
    endpoints: [config.upstream],
    ...(config.breaker === false ? { circuitBreaker: false as const } : {}),
  });
  const app = express();
  app.get('/__stats', (_req, res) => {
    res.json({ requests });
  });
  app.use(weft({ drainSignals: false }));
  app.get('/', async (_req, res) => {
    requests++;
    try {
      const r = await client.fetch('/');
      const body = await r.text();
      res.status(r.status).send(body);
    } catch {
      res.status(503).send('unavailable');
    }
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  server.keepAliveTimeout = 60_000;
  port = (server.address() as { port: number }).port;
} else {
  const pool = new Pool(`http://${config.upstream}`, { connections: 16, keepAliveTimeout: 60_000 });
  const server = createServer(async (req, res) => {
    req.resume();
    if (req.url === '/__stats') {
      res.end(JSON.stringify({ requests }));
      return;
    }
    requests++;
    let status = 502;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const r = await pool.request({ path: '/', method: 'GET' });
        await r.body.text();
        status = r.statusCode;
        if (status < 500) break;
      } catch {
        status = 502;
      }
    }
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status < 500 ? 'ok' : 'unavailable');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
}
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
