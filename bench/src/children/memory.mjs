/**
 * A small service for the memory comparison, in plain JavaScript: Weft is loaded from its compiled
 * output (dist), as an application would run it, and no TypeScript is stripped in this process.
 * argv[2] is JSON `{ mode: 'baseline' | 'weft-loaded' | 'raw' | 'weft' | 'weft-request', endpoints, requests }`. It
 * listens on a node:http port (it is a service), builds its clients to the endpoints — one undici
 * Pool each (raw), one Weft client over all of them (weft: `createClient().fetch`), or the Weft
 * dispatcher under `undici.request` (weft-request: the same request API as raw) — sends `requests` requests 16 at a time,
 * then collects garbage and prints its memory use. `weft-loaded` imports Weft and builds nothing;
 * `load:a,b` imports the named packages and builds nothing.
 */
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const { mode, endpoints, requests } = JSON.parse(process.argv[2]);

const server = createServer((_req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

let send;
let hold;
if (mode === 'raw') {
  const { Pool, request } = await import('undici');
  const pools = endpoints.map((e) => new Pool(`http://${e}`, { connections: 16 }));
  const urls = endpoints.map((e) => `http://${e}/`);
  let next = 0;
  send = async () => {
    const i = next;
    next = (i + 1) % pools.length;
    const res = await request(urls[i], { dispatcher: pools[i] });
    await res.body.text();
  };
  hold = pools;
} else if (mode.startsWith('load:')) {
  for (const name of mode.slice(5).split(',')) await import(name);
} else if (mode === 'weft-request') {
  // The same request API as raw: undici.request, through the Weft dispatcher.
  const { request } = await import('undici');
  const { createDispatcher } = await import('@weft/http');
  const dispatcher = createDispatcher({ services: { upstream: { endpoints } }, fallback: false });
  send = async () => {
    const res = await request('http://upstream/', { dispatcher });
    await res.body.text();
  };
  hold = dispatcher;
} else if (mode === 'weft' || mode === 'weft-loaded') {
  const { createClient } = await import('@weft/http');
  if (mode === 'weft') {
    const client = createClient({ service: 'upstream', endpoints });
    send = async () => {
      const res = await client.fetch('/');
      await res.text();
    };
    hold = client;
  }
}

let sent = 0;
if (send)
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (sent < requests) {
        sent++;
        await send();
      }
    }),
  );
for (let i = 0; i < 3; i++) {
  globalThis.gc?.();
  await sleep(200);
}
const m = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ mode, rss: m.rss, heapUsed: m.heapUsed, external: m.external, held: hold !== undefined, sent })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
