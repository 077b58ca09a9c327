import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ResolverState } from '@weft/core';
import { registerInstance, registryResolver } from '@weft/discovery';
import { type ConfigServiceChild, killConfigService, startConfigService } from './config-service.ts';

// A fixed admin token, so that a restarted config service (even with new data) accepts the same one.
const TOKEN = `weft_0123456789abcdef_${'A'.repeat(43)}`;

type Svc = ConfigServiceChild;

const start = (data: string, port = 0): Promise<Svc> => startConfigService(data, TOKEN, port);
const kill = killConfigService;

/**
 * Waits (5 s at most) until the registration has read the config service's answer: the watch stream
 * can bring the new instance to a resolver before the registering request's response arrives.
 */
async function registeredSoon(reg: { readonly registered: boolean }): Promise<boolean> {
  for (let i = 0; i < 250 && !reg.registered; i++) await new Promise((r) => setTimeout(r, 20));
  return reg.registered;
}

function until(
  resolver: { subscribe(l: (s: ResolverState) => void): () => void },
  check: (s: ResolverState) => boolean,
  what: string,
) {
  return new Promise<ResolverState>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
    let off: (() => void) | undefined;
    let done = false;
    off = resolver.subscribe((s) => {
      if (done || !check(s)) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => off?.());
      resolve(s);
    });
  });
}

describe('registry resolver and instance registration (real config service)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-registry-'));
  const procs: Svc[] = [];
  after(async () => {
    for (const p of procs) await kill(p);
    rmSync(dir, { recursive: true, force: true });
  });

  test('register, resolve, survive an outage with the last good set, re-register, deregister', async () => {
    const svc = await start(join(dir, 'a'));
    procs.push(svc);
    const fast = { backoffInitialMs: 20, backoffMaxMs: 200 };
    const resolver = registryResolver({ service: 'users', urls: svc.url, token: TOKEN, clientOptions: fast });
    const kinds: string[] = [];
    resolver.subscribe((s) => kinds.push(s.kind));
    try {
      await until(resolver, (s) => s.kind === 'negative', 'no instances yet');
      const reg = registerInstance({
        service: 'users',
        address: '127.0.0.1',
        port: 9100,
        labels: { version: 'v1', zone: 'z1' },
        ttlMs: 600,
        urls: svc.url,
        token: TOKEN,
      });
      const bound = await until(resolver, (s) => s.kind === 'bound', 'the registration');
      assert.deepEqual(bound.kind === 'bound' && bound.endpoints, [
        { address: '127.0.0.1', port: 9100, labels: { version: 'v1', zone: 'z1' } },
      ]);
      assert.equal(await registeredSoon(reg), true);
      // Heartbeats keep the 600 ms lease alive well past its length.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(resolver.state.kind, 'bound');

      assert.deepEqual(kinds, ['pending', 'negative', 'bound'], 'no transient states while connected');
      await kill(svc);
      const failed = await until(resolver, (s) => s.kind === 'failed', 'the outage');
      assert.deepEqual(
        failed.kind === 'failed' && failed.endpoints.map((e) => e.port),
        [9100],
        'last good set kept',
      );
      assert.match(
        failed.kind === 'failed' ? failed.reason.message : '',
        /users: config service unreachable/,
      );

      // The service comes back on the same port with empty data: the instance registers again by itself.
      const back = await start(join(dir, 'b'), svc.port);
      procs.push(back);
      await until(resolver, (s) => s.kind === 'bound' && s.endpoints.length === 1, 're-registration');
      assert.equal(await registeredSoon(reg), true);

      await reg.close();
      await until(resolver, (s) => s.kind === 'negative', 'graceful deregistration');
    } finally {
      await resolver.close();
    }
  });

  test('checks its options', () => {
    assert.throws(
      () => registryResolver({ service: 'Bad Name', urls: 'http://127.0.0.1:1' }),
      /invalid option service/,
    );
    assert.throws(
      () => registerInstance({ service: 'a', address: 'x', port: 0, urls: 'http://127.0.0.1:1' }),
      /invalid option port/,
    );
    assert.throws(
      () => registerInstance({ service: 'a', address: '', port: 1, urls: 'http://127.0.0.1:1' }),
      /invalid option address/,
    );
    assert.throws(
      () => registerInstance({ service: 'a', address: 'x', port: 1, ttlMs: 5, urls: 'http://127.0.0.1:1' }),
      /invalid option ttlMs/,
    );
  });
});
