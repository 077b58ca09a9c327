/** The discovery entry points refuse option keys they do not know, naming the closest valid one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  dnsResolver,
  fileResolver,
  httpHealthCheck,
  kubernetesResolver,
  registerInstance,
  registryResolver,
  staticResolver,
  withHealthChecks,
} from '@weft/discovery';

const refused = (pattern: RegExp) => (e: { code?: string; message?: string }) =>
  e.code === 'WEFT_INVALID_OPTION' && pattern.test(String(e.message));

describe('discovery option checks', () => {
  test('registerInstance({ ttl }) is refused: did you mean ttlMs', () => {
    assert.throws(
      () =>
        registerInstance({
          service: 'users',
          address: '127.0.0.1',
          port: 8080,
          urls: 'http://127.0.0.1:1',
          ttl: 5000,
        } as never),
      refused(/registerInstance has no option "ttl"; did you mean "ttlMs"\?/),
    );
  });

  test('every resolver and health check refuses an unknown key', () => {
    assert.throws(
      () => dnsResolver({ name: 'x.internal', port: 80, ttl: 1 } as never),
      refused(/dnsResolver has no option "ttl"/),
    );
    assert.throws(
      () => fileResolver({ path: '/nonexistent.json', pollMs: 5 } as never),
      refused(/fileResolver has no option "pollMs"/),
    );
    assert.throws(
      () => kubernetesResolver({ service: 'users', namespce: 'x' } as never),
      refused(/kubernetesResolver has no option "namespce"; did you mean "namespace"/),
    );
    assert.throws(
      () => registryResolver({ service: 'users', url: 'http://127.0.0.1:1' } as never),
      refused(/registryResolver has no option "url"; did you mean "urls"/),
    );
    assert.throws(
      () => httpHealthCheck({ pth: '/x' } as never),
      refused(/httpHealthCheck has no option "pth"; did you mean "path"/),
    );
    assert.throws(
      () =>
        withHealthChecks(staticResolver(['127.0.0.1:1']), {
          checker: httpHealthCheck(),
          interval: 5,
        } as never),
      refused(/withHealthChecks has no option "interval"; did you mean "intervalMs"/),
    );
  });
});
