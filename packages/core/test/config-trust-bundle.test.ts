import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigState, spiffeId, type TrustBundle } from '../src/config/index.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
const bundle = (generation: number, certificates = [PEM]): TrustBundle => ({
  trustDomain: 'weft.local',
  certificates,
  generation,
});
const snap = (trustBundle?: unknown) =>
  ({
    storeId: 's',
    revision: 1,
    documents: [],
    instances: [],
    ...(trustBundle ? { trustBundle } : {}),
  }) as never;

describe('ConfigState keeps the trust bundle', () => {
  test('from the snapshot, then from a bundle change; snapshot() carries it', () => {
    const state = new ConfigState();
    state.load(snap(bundle(1)));
    assert.equal(state.trustBundle()?.generation, 1);
    assert.ok(
      state.apply({ revision: 2, at: '', changes: [{ op: 'bundle', bundle: bundle(2, [PEM, PEM]) }] }),
    );
    assert.equal(state.trustBundle()?.certificates.length, 2);
    assert.deepEqual(state.snapshot().trustBundle, bundle(2, [PEM, PEM]));
    state.load(snap());
    assert.equal(state.trustBundle(), undefined);
  });

  test('a malformed bundle is skipped and reported; the last good one stays', () => {
    const state = new ConfigState();
    state.load(snap(bundle(1)));
    state.apply({
      revision: 2,
      at: '',
      changes: [{ op: 'bundle', bundle: { ...bundle(2), certificates: ['x'] } }],
    });
    state.load(snap({ trustDomain: 'Not A Domain', certificates: [PEM], generation: 3 }));
    assert.equal(state.trustBundle()?.generation, 1);
    assert.match(
      state.problems.join('\n'),
      /revision 2: change skipped: certificates: each must be one PEM certificate/,
    );
    assert.match(state.problems.join('\n'), /snapshot: trust bundle skipped: trustDomain/);
  });

  test('spiffeId', () => {
    assert.equal(spiffeId('weft.local', 'users'), 'spiffe://weft.local/service/users');
  });
});
