/**
 * `weft traffic` without a network: what it writes for each command, and what it refuses before
 * writing anything. (packages/grpc/test/kill-switch.test.ts runs it against a real config service.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../src/commands.ts';
import { CommandError } from '../src/errors.ts';
import { trafficResume, trafficStatus, trafficStop } from '../src/traffic.ts';
import { fakeApi } from './fake-api.ts';

describe('weft traffic', () => {
  test('stop writes the mesh-wide switch, or the one of --service; resume writes stopped: false', async () => {
    const f = fakeApi();
    await trafficStop(f.request, f.o, { reason: 'incident 42' });
    await trafficStop(f.request, f.o, { service: 'orders' });
    await trafficResume(f.request, f.o, { service: 'orders' });
    await trafficResume(f.request, f.o);
    assert.deepEqual(f.sent, [
      {
        method: 'PUT',
        path: '/v1/documents/TrafficSwitch/mesh',
        body: { spec: { stopped: true, reason: 'incident 42' } },
      },
      { method: 'PUT', path: '/v1/documents/TrafficSwitch/orders', body: { spec: { stopped: true } } },
      { method: 'PUT', path: '/v1/documents/TrafficSwitch/orders', body: { spec: { stopped: false } } },
      { method: 'PUT', path: '/v1/documents/TrafficSwitch/mesh', body: { spec: { stopped: false } } },
    ]);
    assert.deepEqual(f.lines, [
      'TrafficSwitch/mesh: traffic stopped for the whole mesh (incident 42)\nrevision 7',
      'TrafficSwitch/orders: traffic stopped for service orders\nrevision 7',
      'TrafficSwitch/orders: traffic resumed for service orders\nrevision 7',
      'TrafficSwitch/mesh: traffic resumed for the whole mesh\nrevision 7',
    ]);
  });

  test('refuses a bad or reserved service name and an invalid reason, writing nothing', async () => {
    const f = fakeApi();
    await assert.rejects(trafficStop(f.request, f.o, { service: 'Orders!' }), UsageError);
    await assert.rejects(trafficStop(f.request, f.o, { service: 'mesh' }), /mesh-wide switch/);
    await assert.rejects(trafficResume(f.request, f.o, { service: 'mesh' }), UsageError);
    await assert.rejects(trafficStop(f.request, f.o, { reason: 'two\nlines' }), (e: unknown) => {
      assert.ok(e instanceof CommandError);
      assert.match(JSON.stringify(e), /spec\.reason/);
      return true;
    });
    assert.deepEqual(f.sent, []);
  });

  test('status lists what is stopped (the mesh first) and since which revision', async () => {
    const doc = (name: string, revision: number, spec: object) => ({
      kind: 'TrafficSwitch',
      name,
      revision,
      createRevision: 1,
      spec,
    });
    const f = fakeApi({
      revision: 12,
      documents: [
        doc('orders', 9, { stopped: true, reason: 'bad deploy' }),
        doc('users', 4, { stopped: false }),
        doc('mesh', 11, { stopped: true }),
      ],
    });
    await trafficStatus(f.request, f.o);
    assert.deepEqual(f.lines, [
      'stopped: the whole mesh since revision 11\nstopped: service orders since revision 9 (bad deploy)',
    ]);
    const none = fakeApi({ revision: 3, documents: [doc('mesh', 2, { stopped: false })] });
    await trafficStatus(none.request, none.o);
    assert.deepEqual(none.lines, ['traffic flows: no switch is on (revision 3)']);
  });
});
