import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ResolverState } from '@weft/core';
import { kubernetesResolver } from '@weft/discovery';
import { keysOf, until, waitForState } from './helpers.ts';
import { RecordedApiServer } from './kubernetes-api.ts';

const fixtures = new URL('./fixtures/kubernetes/', import.meta.url);
const load = async (name: string) => readFile(new URL(name, fixtures), 'utf8');

async function recorded(): Promise<RecordedApiServer> {
  const lists = [JSON.parse(await load('list-1.json')), JSON.parse(await load('list-2.json'))];
  const events = (await load('watch-1.ndjson')).split('\n').filter(Boolean);
  return new RecordedApiServer(lists, events).start();
}

const keys =
  (...k: string[]) =>
  (s: ResolverState) =>
    s.kind === 'bound' && keysOf(s).join() === k.join();

describe('kubernetesResolver', () => {
  test('replays a recorded list + watch: readiness, zones, port by name, one update per event, 410 → relist', async () => {
    const api = await recorded();
    const dir = await mkdtemp(join(tmpdir(), 'weft-k8s-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'token-1\n');
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 'http',
      server: api.url,
      tokenFile,
      retryMs: 20,
    });
    const states: ResolverState[] = [];
    try {
      // The list: 10.1.0.3 is not ready yet; the metrics port is not the one asked for.
      const first = await waitForState(r, keys('10.1.0.1:8080', '10.1.0.2:8080', '10.1.1.1:8080'));
      const zones =
        first.kind === 'bound'
          ? first.endpoints.map((e) => `${e.address}=${e.labels?.zone}/${e.labels?.node}`)
          : [];
      assert.deepEqual(zones.sort(), ['10.1.0.1=eu-1a/n1', '10.1.0.2=eu-1b/n2', '10.1.1.1=eu-1c/n3']);
      assert.equal(api.seen('list')[0]?.authorization, 'Bearer token-1');
      r.subscribe((s) => states.push(s));
      states.length = 0;

      // Event 1: 10.1.0.2 starts terminating. It leaves the set on this very event.
      await api.release(1);
      await waitForState(r, keys('10.1.0.1:8080', '10.1.1.1:8080'));
      assert.equal(states.length, 1, 'exactly one update for one event');
      // Event 2: a new slice. Event 3: a bookmark (no update). Event 4: a slice deleted.
      await writeFile(tokenFile, 'token-2\n');
      await api.release(3);
      await waitForState(r, keys('10.1.0.1:8080', '10.1.2.1:8080'));
      assert.equal(states.length, 3);
      // Event 5: 410 Gone. The resolver relists; the new list has only terminating endpoints, and the
      // ones still serving are used because none is ready.
      await api.release(1);
      await waitForState(r, keys('10.1.0.1:8080'));
      assert.equal(api.seen('list').length, 2, 'relisted after 410');
      await until(() => api.seen('watch').length === 2, 'the second watch');
      assert.equal(api.seen('list')[1]?.authorization, 'Bearer token-2', 'the token file is read again');
      const watches = api.seen('watch').map((w) => w.url.searchParams.get('resourceVersion'));
      assert.deepEqual(watches, ['1000', '2000']);
      assert.ok(
        states.every((s) => s.kind === 'bound'),
        'a relist is not a failure',
      );
    } finally {
      r.close();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('in-cluster defaults: API server from the environment, HTTPS verified with the CA file, token file', async () => {
    const tls = { key: await load('../tls/server.key'), cert: await load('../tls/server.crt') };
    const lists = [JSON.parse(await load('list-1.json'))];
    const api = await new RecordedApiServer(lists, [], tls).start();
    const dir = await mkdtemp(join(tmpdir(), 'weft-k8s-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'in-cluster-token\n');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = new URL(api.url).port;
    const caFile = fileURLToPath(new URL('../tls/server.crt', fixtures));
    const r = kubernetesResolver({ service: 'web', namespace: 'shop', port: 'http', caFile, tokenFile });
    // Without the CA (the file is missing), the self-signed certificate is refused: a failure, not a downgrade.
    const untrusted = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      caFile: join(dir, 'none.crt'),
      tokenFile,
    });
    try {
      await waitForState(r, keys('10.1.0.1:8080', '10.1.0.2:8080', '10.1.1.1:8080'));
      assert.equal(api.seen('list')[0]?.authorization, 'Bearer in-cluster-token');
      const s = await waitForState(untrusted, (x) => x.kind === 'failed');
      assert.match(s.kind === 'failed' ? s.reason.message : '', /shop\/web: DEPTH_ZERO_SELF_SIGNED_CERT/);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      r.close();
      untrusted.close();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a resumed watch starts from the last resourceVersion, bookmarks included', async () => {
    const api = await recorded();
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 8080,
      server: api.url,
      token: 't',
      retryMs: 20,
    });
    try {
      await waitForState(r, (s) => s.kind === 'bound');
      await api.release(3); // MODIFIED 1001, ADDED 1002, BOOKMARK 1005
      await waitForState(r, keys('10.1.0.1:8080', '10.1.1.1:8080', '10.1.2.1:8080'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await api.endWatch();
      await api.release(1); // waits for the resumed watch: DELETED 1006
      await waitForState(r, keys('10.1.0.1:8080', '10.1.2.1:8080'));
      const watches = api.seen('watch').map((w) => w.url.searchParams.get('resourceVersion'));
      assert.deepEqual(watches, ['1000', '1005']);
      assert.equal(api.seen('list').length, 1);
    } finally {
      r.close();
      await api.close();
    }
  });

  test('an unreachable API server fails, keeps the last set, and recovers', async () => {
    const api = await recorded();
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 'http',
      server: api.url,
      token: 't',
      retryMs: 20,
    });
    let again: RecordedApiServer | undefined;
    try {
      await waitForState(r, (s) => s.kind === 'bound');
      await api.release(1); // MODIFIED 1001: 10.1.0.2 terminating
      await waitForState(r, keys('10.1.0.1:8080', '10.1.1.1:8080'));
      // The API server goes away: the watch breaks, is resumed at once, and that reconnect is refused.
      await api.close();
      const failed = await waitForState(r, (s) => s.kind === 'failed');
      assert.match(
        failed.kind === 'failed' ? failed.reason.message : '',
        /Kubernetes EndpointSlices of shop\/web: ECONN(REFUSED|RESET)/,
      );
      assert.deepEqual(keysOf(failed), ['10.1.0.1:8080', '10.1.1.1:8080'], 'the last good set is kept');
      // It comes back on the same address: the watch resumes from 1001 without a relist, and the state is bound again.
      again = await new RecordedApiServer([], []).start(Number(new URL(api.url).port));
      await waitForState(r, keys('10.1.0.1:8080', '10.1.1.1:8080'));
      assert.equal(again.seen('list').length, 0);
      assert.equal(again.seen('watch')[0]?.url.searchParams.get('resourceVersion'), '1001');
    } finally {
      r.close();
      await again?.close();
    }
  });

  test('an API error status on LIST is a failure carrying the API message, retried', async () => {
    const api = await recorded();
    // The stand-in only serves namespace "shop": another namespace gets a 404 Status object.
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'billing',
      server: api.url,
      token: 't',
      retryMs: 10,
    });
    try {
      const s = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(
        s.kind === 'failed' ? s.reason.message : '',
        /Kubernetes EndpointSlices of billing\/web: HTTP 404: no route \/apis\/discovery\.k8s\.io\/v1\/namespaces\/billing\/endpointslices/,
      );
      await until(() => api.requests.length >= 3, 'retries');
    } finally {
      r.close();
      await api.close();
    }
  });

  test('an unknown port name is a failure that says so', async () => {
    const api = await recorded();
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 'grpc',
      server: api.url,
      token: 't',
    });
    try {
      const s = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(s.kind === 'failed' ? s.reason.message : '', /no EndpointSlice has port "grpc"/);
    } finally {
      r.close();
      await api.close();
    }
  });

  test('checks its options', () => {
    assert.throws(() => kubernetesResolver({ service: '' }), /invalid option service/);
    assert.throws(
      () => kubernetesResolver({ service: 'web', server: 'http://x', port: 0 }),
      /invalid option port/,
    );
    assert.throws(
      () => kubernetesResolver({ service: 'web', server: 'http://x', watchTimeoutSeconds: 0 }),
      /invalid option watchTimeoutSeconds/,
    );
  });
});
