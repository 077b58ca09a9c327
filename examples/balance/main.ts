/**
 * A Weft client balancing over three local servers, one of which turns slow half-way through.
 * Watch P2C over peak-EWMA move traffic away from it, then back once it recovers.
 *
 *   npm start                 # runs for 12 s
 *   npm start -- --seconds 30
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createClient } from '@weft/http';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '12' } } });
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 3)
  throw new Error(`--seconds must be a number ≥ 3, got ${values.seconds}`);

const slow = { on: false };
const servers: Server[] = [];
for (let i = 0; i < 3; i++) {
  const server = createServer((_req, res) => {
    const ms = i === 0 && slow.on ? 25 : 1;
    setTimeout(() => res.end(`served by ${i}`), ms);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
}
const endpoints = servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`);
console.log(`three servers: ${endpoints.join(', ')}`);

const client = createClient({ service: 'demo', endpoints, timeoutMs: 1_000 });
console.log('\nthe client stack, top to bottom, with its effective params:');
for (const m of client.describe().stack) console.log(`  ${m.role.padEnd(10)} ${JSON.stringify(m.params)}`);
console.log(
  `\nsending load for ${seconds} s with 16 requests in flight; server 0 is slow (25 ms) in the middle third\n`,
);

let running = true;
const counts = [0, 0, 0];
let failures = 0;
const workers = Array.from({ length: 16 }, async () => {
  while (running) {
    try {
      const res = await client.fetch('/');
      const text = await res.text();
      counts[Number(text.at(-1))]!++;
    } catch {
      failures++;
    }
  }
});

process.once('SIGINT', () => {
  running = false;
});
const started = Date.now();
for (let s = 1; s <= seconds && running; s++) {
  await new Promise((r) => setTimeout(r, 1_000));
  slow.on = s > seconds / 3 && s <= (2 * seconds) / 3;
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const shares = counts.map((c) => `${((100 * c) / total).toFixed(0).padStart(3)}%`).join('  ');
  const lat = client
    .describe()
    .endpoints.map((e) => `${e.latencyMs.toFixed(2)}ms`)
    .join(' ');
  console.log(
    `t=${String(s).padStart(2)}s  ${String(total).padStart(6)} req/s  share [${shares}]  ewma [${lat}]  server 0 ${slow.on ? 'SLOW' : 'fast'}  failures ${failures}`,
  );
  counts.fill(0);
}
running = false;
await Promise.all(workers);
await client.close();
for (const s of servers) s.close();
console.log(`\ndone after ${((Date.now() - started) / 1000).toFixed(1)} s`);
