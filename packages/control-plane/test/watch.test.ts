import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SseMessage, SseParser } from '@weft/core/config';
import { call, policy, type ServiceProcess, startService, tempDir } from './service.ts';

/** Opens the watch stream and collects events until `count` arrived (or comments, when asked). */
async function watch(
  svc: ServiceProcess,
  options: { lastEventId?: string; query?: string; count: number; comments?: number },
): Promise<{ events: SseMessage[]; comments: string[] }> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${svc.token}` };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(`${svc.url}/v1/watch${options.query ?? ''}`, {
    headers,
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: SseMessage[] = [];
  const comments: string[] = [];
  const parser = new SseParser(
    (m) => events.push(m),
    (c) => comments.push(c),
  );
  const timer = setTimeout(() => controller.abort(), 5000);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      parser.push(decoder.decode(chunk, { stream: true }));
      if (events.length >= options.count && comments.length >= (options.comments ?? 0)) break;
    }
  } catch {}
  clearTimeout(timer);
  controller.abort();
  return { events, comments };
}

const register = (svc: ServiceProcess, service: string, port: number) =>
  call(svc.url, 'POST', `/v1/services/${service}/instances`, {
    token: svc.token,
    body: { address: '127.0.0.1', port, ttlMs: 60_000 },
  });

describe('watch stream', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  before(async () => {
    svc = await startService({ data: dir.path, args: ['--max-resume', '3', '--heartbeat-ms', '100'] });
  });
  after(async () => {
    await svc.stop();
    dir.remove();
  });

  test('a new watcher gets a snapshot, then each revision; a resuming one only what it missed', async () => {
    await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/a', {
      token: svc.token,
      body: policy('a', { timeoutMs: 1 }),
    });
    await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/a', {
      token: svc.token,
      body: policy('a', { timeoutMs: 2 }),
    });
    const fresh = await watch(svc, { count: 1 });
    assert.equal(fresh.events[0]?.event, 'snapshot');
    assert.equal(fresh.events[0]?.id, `${svc.storeId}.2`);
    assert.deepEqual(JSON.parse(fresh.events[0]!.data).documents[0].spec, { timeoutMs: 2 });

    const resumed = await watch(svc, { lastEventId: `${svc.storeId}.1`, count: 1 });
    assert.deepEqual(
      resumed.events.map((e) => [e.event, e.id]),
      [['change', `${svc.storeId}.2`]],
    );
    const data = JSON.parse(resumed.events[0]!.data);
    assert.equal(data.changes[0].op, 'put');
    assert.equal(data.changes[0].document.spec.timeoutMs, 2);
  });

  test('too far behind, another store, or a future revision: a full snapshot instead', async () => {
    for (let i = 0; i < 4; i++) await register(svc, 'far', 9000 + i);
    const rev = (await call(svc.url, 'GET', '/healthz')).body.revision as number;
    const behind = await watch(svc, { lastEventId: `${svc.storeId}.${rev - 4}`, count: 1 });
    assert.equal(behind.events[0]?.event, 'snapshot', 'more than --max-resume 3 revisions behind');
    const within = await watch(svc, { lastEventId: `${svc.storeId}.${rev - 3}`, count: 3 });
    assert.deepEqual(
      within.events.map((e) => e.event),
      ['change', 'change', 'change'],
    );
    assert.equal(
      (await watch(svc, { lastEventId: `other-store.${rev}`, count: 1 })).events[0]?.event,
      'snapshot',
    );
    assert.equal(
      (await watch(svc, { lastEventId: `${svc.storeId}.${rev + 10}`, count: 1 })).events[0]?.event,
      'snapshot',
    );
    assert.equal((await watch(svc, { lastEventId: 'garbage', count: 1 })).events[0]?.event, 'snapshot');
  });

  test('live changes arrive in order; ?services= filters instances; idle streams get pings', async () => {
    const before = (await call(svc.url, 'GET', '/healthz')).body.revision as number;
    const stream = watch(svc, { query: '?services=only', count: 3, comments: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await register(svc, 'other', 9100);
    await register(svc, 'only', 9101);
    const { events, comments } = await stream;
    assert.equal(events[0]?.event, 'snapshot');
    assert.equal(
      JSON.parse(events[0]!.data).instances.length,
      0,
      'the snapshot holds only the asked services',
    );
    assert.deepEqual(
      events.slice(1).map((e) => e.id),
      [`${svc.storeId}.${before + 1}`, `${svc.storeId}.${before + 2}`],
    );
    assert.deepEqual(JSON.parse(events[1]!.data).changes, [], 'the other service is filtered out');
    assert.equal(JSON.parse(events[2]!.data).changes[0].instance.port, 9101);
    assert.ok(comments.includes('ping'));
  });

  test('the watch needs a token', async () => {
    assert.equal((await call(svc.url, 'GET', '/v1/watch')).status, 401);
  });
});

describe('watch history compaction', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  before(async () => {
    svc = await startService({ data: dir.path, args: ['--watch-history', '5'] });
  });
  after(async () => {
    await svc.stop();
    dir.remove();
  });

  test('registry-only revisions beyond --watch-history are dropped; resuming before them gets a snapshot', async () => {
    await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/kept', {
      token: svc.token,
      body: policy('kept', {}),
    });
    for (let i = 0; i < 12; i++) await register(svc, 'churn', 9200 + i);
    assert.equal(
      (await watch(svc, { lastEventId: `${svc.storeId}.1`, count: 1 })).events[0]?.event,
      'snapshot',
    );
    const recent = await watch(svc, { lastEventId: `${svc.storeId}.11`, count: 2 });
    assert.deepEqual(
      recent.events.map((e) => e.event),
      ['change', 'change'],
    );
    // Document history is never compacted: history and rollback still see revision 1.
    const history = await call(svc.url, 'GET', '/v1/history', { token: svc.token });
    assert.deepEqual(
      history.body.entries.map((e: { revision: number }) => e.revision),
      [1],
    );
  });
});
