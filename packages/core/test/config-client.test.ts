import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ConfigClient, createConfigClient, type LogEntry, type Snapshot } from '@weft/core/config';
import { VirtualClock } from '@weft/core/testing';

/** A real HTTP server that speaks the watch protocol from a script, and records each request. */
class WatchServer {
  readonly server: Server;
  readonly requests: IncomingMessage[] = [];
  readonly streams = new Set<ServerResponse>();
  onWatch: (req: IncomingMessage, res: ServerResponse) => void = () => {};

  constructor() {
    this.server = createServer((req, res) => {
      this.requests.push(req);
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      this.onWatch(req, res);
    });
  }
  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const open = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const send = (res: ServerResponse, event: string, storeId: string, revision: number, data: unknown) =>
  res.write(`event: ${event}\nid: ${storeId}.${revision}\ndata: ${JSON.stringify(data)}\n\n`);

const snapshot = (
  revision: number,
  documents: Snapshot['documents'] = [],
  instances: Snapshot['instances'] = [],
): Snapshot => ({
  storeId: 'store-1',
  revision,
  documents,
  instances,
});
const doc = (name: string, spec: unknown, revision: number) =>
  ({
    kind: 'DestinationPolicy',
    name,
    spec,
    revision,
    createRevision: revision,
  }) as Snapshot['documents'][number];

function nextRevision(client: ConfigClient, revision: number): Promise<void> {
  return new Promise((resolve) => {
    const off = client.subscribe((e) => {
      if (e.revision >= revision) {
        off();
        resolve();
      }
    });
  });
}

async function deadUrl(): Promise<string> {
  const s = new WatchServer();
  const url = await s.listen();
  await s.close();
  return url;
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-client-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('createConfigClient', () => {
  test('loads the snapshot, applies changes at once, validates specs and serves endpoints', async () => {
    const server = new WatchServer();
    server.onWatch = (req, res) => {
      assert.equal(req.headers.authorization, 'Bearer secret');
      open(res);
      send(
        res,
        'snapshot',
        'store-1',
        3,
        snapshot(3, [doc('users', { timeoutMs: 100 }, 2), doc('bad', { timeoutMs: -1 }, 3)]),
      );
      setTimeout(() => {
        const entry: LogEntry = {
          revision: 4,
          at: '',
          changes: [
            { op: 'put', document: doc('users', { timeoutMs: 200 }, 4) },
            {
              op: 'register',
              instance: {
                service: 'pay',
                id: 'a',
                address: '10.0.0.1',
                port: 80,
                labels: { zone: 'z1' },
                ttlMs: 1000,
                revision: 4,
              },
            },
          ],
        };
        send(res, 'change', 'store-1', 4, entry);
      }, 20);
    };
    const url = await server.listen();
    const client = createConfigClient({ urls: url, token: 'secret' });
    try {
      const seen: number[] = [];
      client.subscribe((e) => seen.push(e.revision));
      await client.ready();
      assert.deepEqual(client.policy('users'), { timeoutMs: 100 });
      assert.equal(client.policy('bad'), undefined, 'an invalid spec is never served');
      assert.match(String((client.describe().problems as string[])[0]), /bad: spec\.timeoutMs/);
      await nextRevision(client, 4);
      assert.deepEqual(client.policy('users'), { timeoutMs: 200 });
      assert.deepEqual(client.endpoints('pay'), [{ address: '10.0.0.1', port: 80, labels: { zone: 'z1' } }]);
      assert.deepEqual(seen, [3, 4]);
      assert.equal(client.status.state, 'connected');
      assert.deepEqual(
        client.effectivePolicy('users', { timeoutMs: 1, perTryTimeoutMs: 5 }, { timeoutMs: 50 }),
        {
          timeoutMs: 200,
          perTryTimeoutMs: 5,
        },
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('reconnects after the stream breaks and resumes with Last-Event-ID', async () => {
    const server = new WatchServer();
    let n = 0;
    server.onWatch = (_req, res) => {
      open(res);
      if (n++ === 0) {
        send(res, 'snapshot', 'store-1', 7, snapshot(7, [doc('a', { timeoutMs: 1 }, 7)]));
        setTimeout(() => res.destroy(), 20);
      } else {
        send(res, 'change', 'store-1', 8, {
          revision: 8,
          at: '',
          changes: [{ op: 'delete', kind: 'DestinationPolicy', name: 'a' }],
        });
      }
    };
    const url = await server.listen();
    const client = createConfigClient({ urls: url, backoffInitialMs: 10, backoffMaxMs: 20 });
    try {
      await nextRevision(client, 8);
      assert.equal(server.requests[1]?.headers['last-event-id'], 'store-1.7');
      assert.equal(client.policy('a'), undefined);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('fails over to the next URL when one is down', async () => {
    const server = new WatchServer();
    server.onWatch = (_req, res) => {
      open(res);
      send(res, 'snapshot', 'store-1', 1, snapshot(1, [doc('x', {}, 1)]));
    };
    const url = await server.listen();
    const client = createConfigClient({
      urls: [await deadUrl(), url],
      backoffInitialMs: 10,
      backoffMaxMs: 20,
    });
    try {
      await client.ready();
      assert.equal(client.status.url, url);
      assert.deepEqual(client.policy('x'), {});
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('saves the last-known-good snapshot atomically and starts from it while the service is down', async () => {
    const cacheFile = join(tmp(), 'nested', 'config.json');
    const server = new WatchServer();
    server.onWatch = (_req, res) => {
      open(res);
      const inst = {
        service: 'pay',
        id: 'a',
        address: '127.0.0.9',
        port: 81,
        labels: {},
        ttlMs: 1000,
        revision: 5,
      };
      send(
        res,
        'snapshot',
        'store-1',
        5,
        snapshot(5, [doc('users', { retry: { maxAttempts: 2 } }, 5)], [inst]),
      );
    };
    const url = await server.listen();
    const first = createConfigClient({ urls: url, cacheFile });
    await first.ready();
    await first.close(); // close waits for the pending cache write
    assert.equal(first.describe().cachedRevision, 5);
    await server.close();
    const saved = JSON.parse(readFileSync(cacheFile, 'utf8'));
    assert.equal(saved.revision, 5);

    const second = createConfigClient({ urls: url, cacheFile, backoffInitialMs: 10, backoffMaxMs: 50 });
    try {
      await second.ready();
      assert.equal(second.status.state, 'from-cache');
      assert.deepEqual(second.policy('users'), { retry: { maxAttempts: 2 } });
      assert.deepEqual(second.endpoints('pay'), [{ address: '127.0.0.9', port: 81, labels: {} }]);
      assert.equal(second.revision, 5);
    } finally {
      await second.close();
    }
  });

  test('a client that resumes from its cache with nothing missed is connected without waiting for a change', async () => {
    const cacheFile = join(tmp(), 'config.json');
    const server = new WatchServer();
    server.onWatch = (req, res) => {
      open(res);
      // A resume that missed nothing gets no message at all, only the open stream.
      res.flushHeaders();
      if (req.headers['last-event-id'] === undefined)
        send(res, 'snapshot', 'store-1', 7, snapshot(7, [doc('users', { timeoutMs: 300 }, 7)]));
    };
    const url = await server.listen();
    const first = createConfigClient({ urls: url, cacheFile });
    await first.ready();
    await first.close();

    const second = createConfigClient({ urls: url, cacheFile });
    try {
      await second.ready();
      const connected = new Promise<void>((resolve) => {
        if (second.status.state === 'connected') resolve();
        const off = second.watchStatus((s) => {
          if (s.state === 'connected') {
            off();
            resolve();
          }
        });
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => {
        timer = setTimeout(() => r('late'), 5_000);
      });
      assert.notEqual(await Promise.race([connected, late]), 'late', `still ${second.status.state}`);
      clearTimeout(timer);
      assert.equal(server.requests.at(-1)?.headers['last-event-id'], 'store-1.7');
      assert.deepEqual(second.policy('users'), { timeoutMs: 300 });
    } finally {
      await second.close();
      await server.close();
    }
  });

  test('a damaged cache file is ignored, and ready() rejects after startTimeoutMs with nothing to serve', async () => {
    const dir = tmp();
    const cacheFile = join(dir, 'config.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cacheFile, '{"format":"weft-config-cache/1","revision":');
    const clock = new VirtualClock();
    const client = createConfigClient({ urls: await deadUrl(), cacheFile, clock, startTimeoutMs: 5000 });
    try {
      const ready = client.ready();
      let rejected: unknown;
      ready.catch((e) => {
        rejected = e;
      });
      await clock.advance(4999);
      assert.equal(rejected, undefined);
      await clock.advance(1);
      await new Promise((r) => setImmediate(r));
      assert.match(String(rejected), /no config within 5000 ms/);
      assert.equal((rejected as unknown as { code: string }).code, 'WEFT_RESOLUTION_FAILED');
    } finally {
      await client.close();
    }
  });

  test('backs off with full jitter between failed attempts (virtual clock)', async () => {
    const server = new WatchServer();
    server.onWatch = (_req, res) => {
      res.writeHead(503).end('down');
    };
    const url = await server.listen();
    const clock = new VirtualClock();
    const client = createConfigClient({
      urls: url,
      clock,
      random: () => 0.5,
      backoffInitialMs: 100,
      backoffMaxMs: 400,
    });
    const waitFor = async (count: number) => {
      for (let i = 0; i < 200 && server.requests.length < count; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(server.requests.length, count);
    };
    try {
      await waitFor(1);
      await clock.advance(49); // attempt 0: half of 100 ms
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(server.requests.length, 1);
      await clock.advance(1);
      await waitFor(2);
      assert.match(String(client.status.lastError), /HTTP 503/);
      await clock.advance(100); // attempt 1: half of 200 ms
      await waitFor(3);
      await clock.advance(200); // attempt 2: half of 400 ms
      await waitFor(4);
      await clock.advance(200); // capped at 400 ms
      await waitFor(5);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a refused token fails ready() at once with WEFT_UNAUTHORIZED, not as an outage', async () => {
    const server = new WatchServer();
    server.onWatch = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"unauthorized","message":"invalid token"}}');
    };
    const url = await server.listen();
    const client = createConfigClient({ urls: url, token: 'wrong', startTimeoutMs: 30_000 });
    try {
      const started = performance.now();
      await assert.rejects(client.ready(), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'WEFT_UNAUTHORIZED');
        assert.match(String(e.message), /refused the token \(HTTP 401\)/);
        return true;
      });
      assert.ok(performance.now() - started < 5000, 'did not wait for the start timeout');
      assert.equal(client.status.state, 'unauthorized');
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('checks its options', () => {
    assert.throws(() => createConfigClient({ urls: '' }), /invalid option urls/);
    assert.throws(() => createConfigClient({ urls: 'ftp://x' }), /invalid option urls/);
    assert.throws(() => createConfigClient({ urls: 'http://x', startTimeoutMs: 0 }), /startTimeoutMs/);
  });
});
