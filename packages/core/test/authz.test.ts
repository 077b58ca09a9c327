/**
 * Authorization without a protocol: the AuthorizationPolicy schema, the identity read from a
 * verified certificate only, the compiled decision (DENY first, ALLOW selects), and the
 * `authorization` module (live, counted by policy and reason, the empty slot without settings).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AuthorizationPolicySpec,
  AuthzDenial,
  CompiledAuthorization,
  ErrorCode,
  type PeerIdentity,
  parseSpiffeId,
  peerFromCertificate,
  peerOfSocket,
  resolveServerBase,
  type ServerBinding,
  ServerCall,
  type ServerConfigSource,
  type ServerStackEnv,
  selectPolicies,
  serverAuthorizationModule,
  serverTelemetryModule,
} from '@weft/core';
import { validateDocument } from '@weft/core/config';

const id = (service: string, td = 'weft.local') => `spiffe://${td}/service/${service}`;

class FakeCall extends ServerCall {
  readonly headers: Record<string, string | string[]>;
  readonly #peer: PeerIdentity | undefined;
  peerReads = 0;
  constructor(method: string, path: string, peer?: string, headers: Record<string, string | string[]> = {}) {
    super(method, path, 0);
    this.#peer = peer === undefined ? undefined : parseSpiffeId(peer);
    this.headers = headers;
  }
  header(name: string) {
    return this.headers[name];
  }
  headerNames() {
    return Object.keys(this.headers);
  }
  protected override readPeer() {
    this.peerReads++;
    return this.#peer;
  }
}

const spec = (s: Partial<AuthorizationPolicySpec> & Pick<AuthorizationPolicySpec, 'action'>) =>
  ({ service: 'catalog', rules: [], ...s }) as AuthorizationPolicySpec;

const compiled = (policies: Record<string, AuthorizationPolicySpec>, trustDomain = 'weft.local') =>
  new CompiledAuthorization(selectPolicies(new Map(Object.entries(policies)), 'catalog'), trustDomain);

describe('the AuthorizationPolicy document', () => {
  test("the issue's example validates as written", () => {
    const r = validateDocument({
      kind: 'AuthorizationPolicy',
      name: 'catalog-readers',
      spec: {
        service: 'catalog',
        action: 'ALLOW',
        rules: [
          {
            from: [{ services: ['frontend'] }, { principals: [id('frontend')] }],
            to: [
              { methods: ['GET'], paths: ['/items/*'] },
              { grpcMethods: ['shop.inventory.v1.Inventory/*'] },
            ],
            when: [{ header: 'x-tenant', values: ['acme'] }],
          },
        ],
      },
    });
    assert.ok(r.ok, JSON.stringify(r));
  });

  test('a bad policy is refused naming each field', () => {
    const r = validateDocument({
      kind: 'AuthorizationPolicy',
      name: 'bad',
      spec: {
        service: 'Not A Name',
        action: 'PERMIT',
        rules: [
          {
            from: [{}, { principals: ['frontend'] }],
            to: [{ methods: ['get'] }, { grpcMethods: ['x/y'], paths: ['/a'] }],
            when: [{ header: 'x y', values: [] }],
            extra: true,
          },
        ],
      },
    });
    assert.equal(r.ok, false);
    const issues = (r as { issues: readonly string[] }).issues.join('\n');
    for (const path of [
      'spec.service',
      'spec.action',
      'spec.rules.0.from.0',
      'spec.rules.0.from.1.principals.0',
      'spec.rules.0.to.0.methods.0',
      'spec.rules.0.to.1',
      'spec.rules.0.when.0.header',
      'spec.rules.0.when.0.values',
      'spec.rules.0',
    ])
      assert.match(issues, new RegExp(`^${path.replace(/\./g, '\\.')}: `, 'm'), path);
  });
});

describe('the caller identity comes from a verified certificate only', () => {
  test('one SPIFFE ID in the URI SAN names the caller; none or two name nobody', () => {
    assert.deepEqual(peerFromCertificate({ subjectaltname: `DNS:a, URI:${id('frontend')}` }), {
      spiffeId: id('frontend'),
      trustDomain: 'weft.local',
      service: 'frontend',
    });
    assert.equal(peerFromCertificate({ subjectaltname: `URI:${id('a')}, URI:${id('b')}` }), undefined);
    assert.equal(peerFromCertificate({ subjectaltname: 'URI:spiffe://weft.local/ns/x/sa/y' }), undefined);
    assert.equal(peerFromCertificate({ subjectaltname: 'DNS:localhost' }), undefined);
    assert.equal(peerFromCertificate({}), undefined);
    assert.equal(peerFromCertificate(null), undefined);
  });

  test('a socket gives an identity only when encrypted and authorized, read once per connection', () => {
    let reads = 0;
    const socket = (encrypted: boolean, authorized: boolean) => ({
      encrypted,
      authorized,
      getPeerCertificate: () => {
        reads++;
        return { subjectaltname: `URI:${id('frontend')}` };
      },
    });
    assert.equal(peerOfSocket(socket(false, false)), undefined);
    assert.equal(peerOfSocket(socket(true, false)), undefined, 'a certificate that did not verify');
    assert.equal(reads, 0);
    const verified = socket(true, true);
    assert.equal(peerOfSocket(verified)?.service, 'frontend');
    assert.equal(peerOfSocket(verified)?.service, 'frontend');
    assert.equal(reads, 1);
  });
});

describe('the decision', () => {
  test('no policy allows; an ALLOW policy selects; DENY wins; "*" selects every server', () => {
    assert.ok(compiled({}).empty);
    const other = compiled({ p: spec({ service: 'payments', action: 'ALLOW' }) });
    assert.ok(other.empty, 'a policy of another service');
    const c = compiled({
      readers: spec({ action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] }),
      'no-admin': spec({ action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] }),
    });
    assert.equal(c.decide(new FakeCall('GET', '/items', id('frontend')), false), undefined);
    assert.equal(c.decide(new FakeCall('GET', '/admin/x', id('frontend')), false)?.policy, 'no-admin');
    const none = c.decide(new FakeCall('GET', '/items', id('orders')), false);
    assert.deepEqual(
      [none?.policy, none?.authzReason, none?.code],
      ['readers', 'no_allow_match', ErrorCode.PermissionDenied],
    );
    assert.equal(
      c.decide(new FakeCall('GET', '/items'), false),
      none,
      'the same refusal object: nothing made per call',
    );
    const mesh = compiled({ all: spec({ service: '*', action: 'ALLOW' }) });
    assert.ok(mesh.decide(new FakeCall('GET', '/', id('frontend')), false) instanceof AuthzDenial);
  });

  test('services match only callers of the server trust domain; principals match the full ID', () => {
    const c = compiled({ p: spec({ action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] }) });
    assert.equal(c.decide(new FakeCall('GET', '/', id('frontend')), false), undefined);
    assert.ok(c.decide(new FakeCall('GET', '/', id('frontend', 'evil.example')), false));
    const p = compiled({
      p: spec({
        action: 'ALLOW',
        rules: [{ from: [{ principals: ['spiffe://partner.example/service/*'] }] }],
      }),
    });
    assert.equal(p.decide(new FakeCall('GET', '/', id('billing', 'partner.example')), false), undefined);
    assert.ok(p.decide(new FakeCall('GET', '/', id('billing')), false));
  });

  test('operations: HTTP entries never match gRPC calls and the other way round; repeated headers', () => {
    const c = compiled({
      p: spec({
        action: 'ALLOW',
        rules: [
          { to: [{ methods: ['GET'] }] },
          { to: [{ grpcMethods: ['shop.v1.Inventory/*'] }], when: [{ header: 'x-t', values: ['a'] }] },
        ],
      }),
    });
    assert.equal(c.decide(new FakeCall('GET', '/x'), false), undefined);
    assert.ok(c.decide(new FakeCall('/shop.v1.Inventory/Get', '/shop.v1.Inventory/Get'), true));
    assert.equal(
      c.decide(
        new FakeCall('/shop.v1.Inventory/Get', '/shop.v1.Inventory/Get', undefined, { 'x-t': ['b', 'a'] }),
        true,
      ),
      undefined,
    );
    // An HTTP call whose path looks like a gRPC method is not one.
    assert.ok(c.decide(new FakeCall('POST', '/shop.v1.Inventory/Get', undefined, { 'x-t': 'a' }), false));
    // A gRPC call never matches an HTTP entry (its method is its path).
    assert.ok(c.decide(new FakeCall('GET', '/shop.v2.Other/Get'), true));
  });
});

describe('the authorization module', () => {
  const binding = {
    protocol: 'http',
    rejectionAttributes: { 'x.proto': 'http' },
  } as unknown as ServerBinding;

  const next0 = () => {};

  function setup(policies: Pick<ServerConfigSource, 'revision' | 'authorizationPolicies'>) {
    const counted: unknown[] = [];
    // The rest of a config client (the kill switch) is not what these tests are about.
    const source: ServerConfigSource = {
      get revision() {
        return policies.revision;
      },
      authorizationPolicies: () => policies.authorizationPolicies(),
      trafficSwitch: () => undefined,
      peerAuthentication: () => undefined,
      subscribe: () => () => {},
    };
    const server = resolveServerBase({ drainSignals: false, service: 'catalog', config: source }, false);
    const env = {
      binding,
      authorization: server.authorization,
      instruments: { authzDenied: { add: (_n: number, attributes: unknown) => counted.push(attributes) } },
    } as unknown as ServerStackEnv;
    let ran = 0;
    const service = serverAuthorizationModule().make(
      {},
      () => ran++,
      env,
      () => next0,
    );
    return { service, counted, ran: () => ran };
  }

  test('live: a new config revision applies to the next call; denials are counted by policy and reason', () => {
    const docs = new Map<string, AuthorizationPolicySpec>();
    const source = { revision: 1, authorizationPolicies: () => docs };
    const { service, counted, ran } = setup(source);
    service(new FakeCall('GET', '/'));
    assert.equal(ran(), 1);
    docs.set('readers', spec({ action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] }));
    source.revision = 2;
    assert.throws(() => service(new FakeCall('GET', '/', id('orders'))), AuthzDenial);
    assert.throws(() => service(new FakeCall('GET', '/')), AuthzDenial);
    service(new FakeCall('GET', '/', id('frontend')));
    assert.equal(ran(), 2);
    assert.deepEqual(counted, [
      { 'weft.authz.policy': 'readers', 'weft.authz.reason': 'no_allow_match', 'x.proto': 'http' },
      { 'weft.authz.policy': 'readers', 'weft.authz.reason': 'no_allow_match', 'x.proto': 'http' },
    ]);
    assert.equal(counted[0], counted[1], 'the attributes are made once');
  });

  test('without service and config it is the empty slot; a bad service or config option is refused', () => {
    const server = resolveServerBase({ drainSignals: false }, false);
    assert.equal(server.authorization, undefined);
    const next = () => {};
    assert.equal(
      serverAuthorizationModule().make({}, next, { authorization: undefined } as ServerStackEnv, () => next),
      next,
    );
    assert.throws(() => resolveServerBase({ service: 'Bad Name' }, false), /service/);
    assert.throws(() => resolveServerBase({ service: 'a', config: {} as never }, false), /config/);
    assert.throws(() => resolveServerBase({ trustDomain: 'no/slash' }, false), /trustDomain/);
  });
});

describe('the verified peer on the server span', () => {
  test('a recorded span gets weft.peer.service and weft.peer.spiffe_id; an unrecorded one costs no peer read', () => {
    const set: Record<string, unknown> = {};
    let recording = true;
    const span = { isRecording: () => recording, setAttribute: (k: string, v: unknown) => (set[k] = v) };
    const env = {
      binding: { spanName: () => 's', spanAttributes: () => ({}) },
      instruments: { tracer: { startSpan: () => span }, inflight: { add: () => {} } },
    } as unknown as ServerStackEnv;
    const service = serverTelemetryModule().make(
      {},
      () => {},
      env,
      () => () => {},
    );
    service(new FakeCall('GET', '/', id('frontend')));
    assert.deepEqual(set, { 'weft.peer.service': 'frontend', 'weft.peer.spiffe_id': id('frontend') });
    recording = false;
    const call = new FakeCall('GET', '/', id('orders'));
    service(call);
    assert.equal(call.peerReads, 0);
    assert.equal(set['weft.peer.service'], 'frontend');
  });
});
