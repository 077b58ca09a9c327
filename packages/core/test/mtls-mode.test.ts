/**
 * The mTLS mode a service is in, from its `PeerAuthentication` documents as a config client holds
 * them: the service's own, else the mesh's, else PERMISSIVE; the floor given in code; documents
 * that a change deletes or a new snapshot no longer has stop applying.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigState, validateDocument } from '../src/config/index.ts';
import { ClientMtls, type MeshIdentity } from '../src/index.ts';
import { mtlsModeOf } from '../src/mtls/peer-authentication-schema.ts';

const doc = (name: string, mode: string, revision = 1) => ({
  kind: 'PeerAuthentication' as const,
  name,
  spec: { mode } as never,
  revision,
  createRevision: revision,
});
const snap = (documents: unknown[], revision = 1) =>
  ({ storeId: 's', revision, documents, instances: [] }) as never;
const identity: MeshIdentity = { credentials: undefined, onChange: () => () => {} };

describe('PeerAuthentication', () => {
  test('the service’s own document, else the mesh’s, else PERMISSIVE', () => {
    const state = new ConfigState();
    state.load(snap([]));
    assert.equal(mtlsModeOf(state, 'catalog'), 'PERMISSIVE');
    state.load(snap([doc('mesh', 'STRICT')]));
    assert.equal(mtlsModeOf(state, 'catalog'), 'STRICT');
    state.load(snap([doc('mesh', 'STRICT'), doc('catalog', 'PERMISSIVE')]));
    assert.equal(mtlsModeOf(state, 'catalog'), 'PERMISSIVE');
    assert.equal(mtlsModeOf(state, 'orders'), 'STRICT');
    assert.equal(mtlsModeOf(undefined, 'catalog'), 'PERMISSIVE');
  });

  test('a delete, and a snapshot without the document, stop it applying', () => {
    const state = new ConfigState();
    state.load(snap([doc('catalog', 'STRICT')]));
    assert.equal(mtlsModeOf(state, 'catalog'), 'STRICT');
    state.apply({
      revision: 2,
      at: '',
      changes: [{ op: 'delete', kind: 'PeerAuthentication', name: 'catalog' }],
    });
    assert.equal(mtlsModeOf(state, 'catalog'), 'PERMISSIVE');
    state.apply({ revision: 3, at: '', changes: [{ op: 'put', document: doc('catalog', 'STRICT', 3) }] });
    assert.equal(mtlsModeOf(state, 'catalog'), 'STRICT');
    state.load(snap([], 4)); // a new snapshot (another store, a restore) replaces everything
    assert.equal(mtlsModeOf(state, 'catalog'), 'PERMISSIVE');
  });

  test('the schema refuses other modes and unknown keys, naming the field', () => {
    const bad = validateDocument({ kind: 'PeerAuthentication', name: 'mesh', spec: { mode: 'DISABLE' } });
    assert.ok(!bad.ok && bad.issues.some((i) => i.startsWith('spec.mode:')), JSON.stringify(bad));
    const extra = validateDocument({
      kind: 'PeerAuthentication',
      name: 'mesh',
      spec: { mode: 'STRICT', x: 1 },
    });
    assert.ok(!extra.ok && extra.issues.some((i) => i.includes('"x"')), JSON.stringify(extra));
  });

  test('the client plan: STRICT from the config or the floor; PERMISSIVE follows the endpoint’s label', () => {
    const state = new ConfigState();
    state.load(snap([]));
    const plain = { address: '127.0.0.1', port: 1 };
    const labelled = { address: '127.0.0.1', port: 2, labels: { 'weft/mtls': 'true' } };
    const withCert: MeshIdentity = {
      credentials: {
        key: 'k',
        certificate: 'c',
        chain: [],
        spiffeId: 'spiffe://weft.local/service/frontend',
        notAfter: new Date(Date.now() + 60_000),
        trustBundle: { trustDomain: 'weft.local', certificates: ['ca'], generation: 1 },
      },
      onChange: () => () => {},
    };
    const client = new ClientMtls('catalog', { identity: withCert }, state);
    assert.equal(client.plan(plain), 'plaintext');
    assert.equal(client.plan(labelled), 'mtls');
    state.load(snap([doc('catalog', 'STRICT')], 2));
    assert.equal(client.plan(plain), 'mtls');
    // No identity: a STRICT destination gets nothing, a PERMISSIVE one plaintext.
    const anonymous = new ClientMtls('catalog', undefined, state);
    const refused = anonymous.plan(plain);
    assert.ok(
      refused instanceof Error &&
        /WEFT_MTLS_REQUIRED|accepts only mTLS/.test(
          `${(refused as { code?: string }).code} ${refused.message}`,
        ),
    );
    state.load(snap([], 3));
    assert.equal(anonymous.plan(plain), 'plaintext');
    // The floor in code: STRICT whatever the config says; no certificate yet: refused, not plaintext.
    const floor = new ClientMtls('catalog', { identity, mode: 'STRICT' }, state);
    assert.ok(floor.plan(labelled) instanceof Error);
    assert.equal(floor.mode(), 'STRICT');
    // The server identity accepted: the destination's own, and those listed.
    const listed = new ClientMtls('catalog', { identity: withCert, serverIdentities: ['orders'] }, state);
    const check = listed.tlsOptions().checkServerIdentity;
    assert.equal(check('x', { subjectaltname: 'URI:spiffe://weft.local/service/catalog' }), undefined);
    assert.equal(check('x', { subjectaltname: 'URI:spiffe://weft.local/service/orders' }), undefined);
    assert.match(
      String(check('x', { subjectaltname: 'URI:spiffe://weft.local/service/users' })),
      /presented spiffe:\/\/weft\.local\/service\/users/,
    );
    assert.ok(check('x', { subjectaltname: 'DNS:catalog' }) instanceof Error);
  });
});
