/**
 * Every resolver refuses (or leaves out) an address that no connection can be made to, so a typo
 * in one registration, file or slice never reaches a client's connection pools.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Endpoint, ErrorCode, isWeftError, type ResolverState } from '@weft/core';
import type { ConfigClient, ConfigClientStatus } from '@weft/core/config';
import { parseEndpointFile, registerInstance, registryResolver, staticResolver } from '@weft/discovery';
import { sliceEndpoints } from '../src/kubernetes/slices.ts';

/** Addresses seen in the fault campaign, and their cousins. */
const HOSTILE = [
  '127.0.0.1:8080',
  'http://127.0.0.1',
  'x\r\nHost: evil',
  '10.0.0.1 ',
  'a b',
  'fe80::1%eth0',
  '999.1.1.1',
  'a..b',
  '',
];

describe('endpoint addresses', () => {
  test('the static resolver refuses each hostile address, naming the field', () => {
    for (const address of HOSTILE) {
      assert.throws(
        () =>
          staticResolver([
            { address: '10.0.0.1', port: 80 },
            { address, port: 80 },
          ]),
        (e) => isWeftError(e, ErrorCode.InvalidOption) && /endpoints\[1\]\.address/.test(e.message),
        JSON.stringify(address),
      );
    }
    for (const address of ['10.0.0.1', '::1', 'svc.ns.svc.cluster.local', 'localhost', 'a_b.example'])
      assert.doesNotThrow(() => staticResolver([{ address, port: 80 }]), address);
    // A bracketed IPv6 address is taken as the registry takes it: stored bare.
    const r = staticResolver([{ address: '[::1]', port: 80 }]);
    assert.equal(r.state.kind === 'bound' && r.state.endpoints[0]?.address, '::1');
  });

  test('an instance cannot register itself with a hostile address', () => {
    for (const address of HOSTILE)
      assert.throws(
        () => registerInstance({ service: 'orders', address, port: 80, urls: 'http://127.0.0.1:1' }),
        (e) => isWeftError(e, ErrorCode.InvalidOption) && /address/.test(e.message),
        JSON.stringify(address),
      );
  });

  test('an endpoint file with a hostile address is refused with the field named', () => {
    assert.throws(
      () => parseEndpointFile('{"endpoints":[{"address":"127.0.0.1:8080","port":80}]}', 'json', undefined),
      /endpoints\[0\]\.address/,
    );
  });

  test('EndpointSlice endpoints with an unusable address are left out', () => {
    const slice = {
      metadata: { name: 'orders-abc' },
      ports: [{ port: 8080 }],
      endpoints: [...HOSTILE, '[::1]'].map((a) => ({ addresses: [a] })).concat([{ addresses: ['10.1.2.3'] }]),
    };
    const { ready } = sliceEndpoints(slice, undefined);
    assert.deepEqual(
      ready.map((e) => e.address),
      ['10.1.2.3'],
    );
  });

  test('the registry resolver leaves out instances registered with a hostile address', async () => {
    let endpoints: readonly Endpoint[] = [
      { address: '10.0.0.1', port: 80 },
      ...HOSTILE.map((address) => ({ address, port: 80 })),
      { address: '10.0.0.2', port: 0 },
    ];
    const listeners = new Set<(e: { revision: number }) => void>();
    const status: ConfigClientStatus = { state: 'connected' } as ConfigClientStatus;
    // The resolver's view of a config client: what it reads, nothing more.
    const client = {
      status,
      ready: () => Promise.resolve(),
      endpoints: () => endpoints,
      subscribe(l: (e: { revision: number }) => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      watchStatus: () => () => {},
      close: () => Promise.resolve(),
    } as unknown as ConfigClient;
    const resolver = registryResolver({ service: 'orders', client });
    await Promise.resolve();
    const seen: ResolverState[] = [];
    resolver.subscribe((s) => seen.push(s));
    const bound = seen.at(-1)!;
    assert.equal(bound.kind, 'bound');
    assert.deepEqual(bound.kind === 'bound' && bound.endpoints.map((e) => e.address), ['10.0.0.1']);
    endpoints = [...endpoints, { address: '10.0.0.3', port: 80 }];
    for (const l of listeners) l({ revision: 2 });
    const next = seen.at(-1)!;
    assert.deepEqual(next.kind === 'bound' && next.endpoints.map((e) => e.address), ['10.0.0.1', '10.0.0.3']);
    await resolver.close();
  });
});
