import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VirtualClock } from '@weft/core/testing';
import { dnsResolver } from '@weft/discovery';
import { TestDnsServer } from './dns-server.ts';
import { keysOf, until, waitForState } from './helpers.ts';

let server: TestDnsServer;
before(async () => {
  server = await TestDnsServer.start();
});
after(async () => {
  await server.close();
});

const fast = { timeoutMs: 200, tries: 1 };

describe('dnsResolver', () => {
  test('A records: binds, re-resolves when the smallest TTL runs out, and drops a removed address', async () => {
    server.zone.set('users.test', [
      { type: 'A', address: '10.0.0.1', ttl: 30 },
      { type: 'A', address: '10.0.0.2', ttl: 20 },
    ]);
    const clock = new VirtualClock();
    const r = dnsResolver({
      name: 'users.test',
      port: 8080,
      servers: [server.address],
      clock,
      labels: { zone: 'a' },
      ...fast,
    });
    try {
      const s = await waitForState(r, (x) => x.kind === 'bound');
      assert.deepEqual(keysOf(s), ['10.0.0.1:8080', '10.0.0.2:8080']);
      assert.equal(s.kind === 'bound' && s.endpoints[0]?.labels?.zone, 'a');
      assert.equal(r.nextRefreshMs, 20_000, 'the smallest TTL');
      server.zone.set('users.test', [{ type: 'A', address: '10.0.0.2', ttl: 20 }]);
      await clock.advance(19_999);
      assert.equal(server.asked('A users.test'), 1, 'no query before the TTL runs out');
      await clock.advance(1);
      const next = await waitForState(r, (x) => x.kind === 'bound' && x.endpoints.length === 1);
      assert.deepEqual(keysOf(next), ['10.0.0.2:8080'], 'the removed address is gone after one refresh');
    } finally {
      r.close();
    }
  });

  test('TTLs are clamped to [minTtlMs, maxTtlMs]', async () => {
    server.zone.set('zero.test', [{ type: 'A', address: '10.0.1.1', ttl: 0 }]);
    server.zone.set('long.test', [{ type: 'A', address: '10.0.1.2', ttl: 86_400 }]);
    const clock = new VirtualClock();
    const opts = { port: 80, servers: [server.address], clock, minTtlMs: 500, maxTtlMs: 60_000, ...fast };
    const zero = dnsResolver({ name: 'zero.test', ...opts });
    const long = dnsResolver({ name: 'long.test', ...opts });
    try {
      await waitForState(zero, (x) => x.kind === 'bound');
      await waitForState(long, (x) => x.kind === 'bound');
      assert.equal(zero.nextRefreshMs, 500);
      assert.equal(long.nextRefreshMs, 60_000);
    } finally {
      zero.close();
      long.close();
    }
  });

  test('AAAA and A+AAAA', async () => {
    server.zone.set('dual.test', [
      { type: 'A', address: '10.0.2.1', ttl: 60 },
      { type: 'AAAA', address: 'fd00::1', ttl: 40 },
    ]);
    const clock = new VirtualClock();
    const six = dnsResolver({
      name: 'dual.test',
      type: 'AAAA',
      port: 443,
      servers: [server.address],
      clock,
      ...fast,
    });
    const both = dnsResolver({
      name: 'dual.test',
      type: 'A+AAAA',
      port: 443,
      servers: [server.address],
      clock,
      ...fast,
    });
    try {
      assert.deepEqual(keysOf(await waitForState(six, (x) => x.kind === 'bound')), ['[fd00::1]:443']);
      assert.deepEqual(keysOf(await waitForState(both, (x) => x.kind === 'bound')), [
        '10.0.2.1:443',
        '[fd00::1]:443',
      ]);
      assert.equal(both.nextRefreshMs, 40_000);
    } finally {
      six.close();
      both.close();
    }
  });

  test('SRV: lowest priority only, targets resolved, port and weight from the record', async () => {
    server.zone.set('_http._tcp.orders.test', [
      { type: 'SRV', target: 'o1.test', port: 9001, priority: 10, weight: 5, ttl: 300 },
      { type: 'SRV', target: 'o2.test', port: 9002, priority: 10, weight: 0, ttl: 300 },
      { type: 'SRV', target: 'backup.test', port: 9003, priority: 20, weight: 1, ttl: 300 },
    ]);
    server.zone.set('o1.test', [{ type: 'A', address: '10.0.3.1', ttl: 120 }]);
    server.zone.set('o2.test', [
      { type: 'A', address: '10.0.3.2', ttl: 15 },
      { type: 'AAAA', address: 'fd00::2', ttl: 120 },
    ]);
    server.zone.set('backup.test', [{ type: 'A', address: '10.0.3.9', ttl: 120 }]);
    const clock = new VirtualClock();
    const r = dnsResolver({
      name: '_http._tcp.orders.test',
      type: 'SRV',
      servers: [server.address],
      clock,
      ...fast,
    });
    try {
      const s = await waitForState(r, (x) => x.kind === 'bound');
      assert.deepEqual(keysOf(s), ['10.0.3.1:9001', '10.0.3.2:9002', '[fd00::2]:9002']);
      const byKey = new Map(s.kind === 'bound' ? s.endpoints.map((e) => [`${e.address}:${e.port}`, e]) : []);
      assert.equal(byKey.get('10.0.3.1:9001')?.weight, 5);
      assert.equal(byKey.get('10.0.3.2:9002')?.weight, 1, 'weight 0 becomes the smallest weight');
      assert.equal(byKey.get('10.0.3.1:9001')?.labels?.host, 'o1.test');
      assert.equal(r.nextRefreshMs, 15_000, 'a target TTL shorter than srvRefreshMs wins');
    } finally {
      r.close();
    }
  });

  test('NXDOMAIN and NODATA are negative, asked again after negativeTtlMs', async () => {
    server.zone.set('nodata.test', [{ type: 'AAAA', address: 'fd00::9', ttl: 60 }]);
    const clock = new VirtualClock();
    const opts = { port: 80, servers: [server.address], clock, negativeTtlMs: 10_000, ...fast };
    const nx = dnsResolver({ name: 'missing.test', ...opts });
    const nodata = dnsResolver({ name: 'nodata.test', ...opts });
    try {
      await waitForState(nx, (x) => x.kind === 'negative');
      await waitForState(nodata, (x) => x.kind === 'negative');
      assert.equal(nx.nextRefreshMs, 10_000);
      server.zone.set('missing.test', [{ type: 'A', address: '10.0.4.1', ttl: 60 }]);
      await clock.advance(10_000);
      assert.deepEqual(keysOf(await waitForState(nx, (x) => x.kind === 'bound')), ['10.0.4.1:80']);
      // A name that existed and is then removed: negative drops the set (an authoritative "no").
      server.zone.delete('missing.test');
      await clock.advance(60_000);
      await waitForState(nx, (x) => x.kind === 'negative');
    } finally {
      nx.close();
      nodata.close();
    }
  });

  test('SERVFAIL keeps the last good set, backs off, and recovers', async () => {
    server.zone.set('flaky.test', [{ type: 'A', address: '10.0.5.1', ttl: 5 }]);
    const clock = new VirtualClock();
    const r = dnsResolver({
      name: 'flaky.test',
      port: 80,
      servers: [server.address],
      clock,
      retryMs: 1000,
      ...fast,
    });
    try {
      await waitForState(r, (x) => x.kind === 'bound');
      server.rcode.set('flaky.test', 2);
      await clock.advance(5000);
      const failed = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(
        failed.kind === 'failed' ? failed.reason.message : '',
        /DNS A lookup of flaky\.test failed: ESERVFAIL/,
      );
      assert.deepEqual(
        keysOf(failed),
        ['10.0.5.1:80'],
        'static stability: the last good set is still offered',
      );
      assert.equal(r.nextRefreshMs, 1000);
      await clock.advance(1000);
      await until(() => r.nextRefreshMs === 2000, 'the second retry to be scheduled');
      assert.equal(r.state.kind, 'failed');
      server.rcode.delete('flaky.test');
      await clock.advance(2000);
      assert.deepEqual(keysOf(await waitForState(r, (x) => x.kind === 'bound')), ['10.0.5.1:80']);
      assert.equal(r.nextRefreshMs, 5000);
    } finally {
      r.close();
    }
  });

  test('a server that does not answer is a failure (timeout), not a negative', async () => {
    server.silent.add('mute.test');
    const r = dnsResolver({
      name: 'mute.test',
      port: 80,
      servers: [server.address],
      timeoutMs: 100,
      tries: 1,
    });
    try {
      const s = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(s.kind === 'failed' ? s.reason.message : '', /ETIMEOUT/);
    } finally {
      r.close();
    }
  });

  test('checks its options', () => {
    assert.throws(
      () => dnsResolver({ name: 'x.test' }),
      /invalid option port: must be an integer in 1\.\.65535/,
    );
    assert.throws(
      () => dnsResolver({ name: 'x.test', port: 80, minTtlMs: 10, maxTtlMs: 5 }),
      /invalid option maxTtlMs/,
    );
    assert.throws(
      () => dnsResolver({ name: 'x.test', port: 80, servers: ['not an ip'] }),
      /invalid option servers/,
    );
    assert.throws(() => dnsResolver({ name: 'x.test', type: 'MX' as 'A', port: 80 }), /invalid option type/);
  });
});
