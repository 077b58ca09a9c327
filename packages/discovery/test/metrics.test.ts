import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Attributes, metrics } from '@opentelemetry/api';
import { VirtualClock } from '@weft/core/testing';
import { EndpointSource, withHealthChecks } from '@weft/discovery';
import { recordingProvider } from './helpers.ts';

after(() => metrics.disable());

test('resolver and health-check metrics go through the global meter provider', async () => {
  const rec = recordingProvider();
  metrics.setGlobalMeterProvider(rec.provider);
  const source = new EndpointSource('file', 'users');
  source.bind([
    { address: '10.0.0.1', port: 80 },
    { address: '10.0.0.2', port: 80 },
  ]);
  source.fail(new Error('bad file'));

  const mine = (o: { attributes: Attributes }) => o.attributes['weft.service'] === 'users';
  const gauges = (await rec.collect()).filter(mine);
  assert.deepEqual(
    gauges.map((g) => `${g.name}=${g.value}`),
    ['weft.discovery.resolver.endpoints=2', 'weft.discovery.resolver.stale=1'],
    'failed but serving the last good set',
  );
  assert.deepEqual(
    rec.added.filter(mine).map((a) => `${a.name}:${a.attributes['weft.resolver.state']}`),
    ['weft.discovery.resolver.updates:bound', 'weft.discovery.resolver.updates:failed'],
  );

  source.bind([{ address: '10.0.0.1', port: 80 }]);
  const after = (await rec.collect()).filter(mine);
  assert.deepEqual(
    after.map((g) => `${g.name}=${g.value}`),
    ['weft.discovery.resolver.endpoints=1', 'weft.discovery.resolver.stale=0'],
  );

  // Health check results, by outcome.
  const clock = new VirtualClock();
  let up = true;
  const hc = withHealthChecks(source, {
    checker: { name: 'fake', check: async () => (up ? undefined : Promise.reject(new Error('down'))) },
    jitter: 0,
    clock,
    service: 'users',
  });
  await clock.advance(0);
  up = false;
  await clock.advance(5000);
  const results = rec.added.filter((a) => a.name === 'weft.discovery.health_check.results');
  assert.deepEqual(
    results.map((r) => `${r.attributes['weft.health_check']}:${r.attributes['weft.health_check.outcome']}`),
    ['fake:healthy', 'fake:unhealthy'],
  );

  // A closed resolver stops reporting.
  await hc.close();
  assert.equal((await rec.collect()).filter(mine).length, 0);
});
