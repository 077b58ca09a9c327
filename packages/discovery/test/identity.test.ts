import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { metrics } from '@opentelemetry/api';
import { isWeftError } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';
import { createIdentity, type IdentityCredentials } from '@weft/discovery';
import * as x509 from '../src/identity/x509.ts';
import { type ConfigServiceChild, killConfigService, startConfigService } from './config-service.ts';
import { recordingProvider } from './helpers.ts';

const ADMIN = `weft_0123456789abcdef_${'B'.repeat(43)}`;

type Svc = ConfigServiceChild;

const start = (data: string, port = 0): Promise<Svc> => startConfigService(data, ADMIN, port);
const stop = killConfigService;

async function serviceToken(svc: Svc, name: string): Promise<string> {
  const res = await fetch(`${svc.url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, role: 'service' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

const uriSans = (pem: string) =>
  (new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [])
    .filter((n) => n.type === 'url')
    .map((n) => n.value);

/** The certificate's public key and the private key's, as SPKI DER (equal for a matching pair). */
function keysMatch(c: IdentityCredentials): boolean {
  const fromCert = createPublicKey(c.certificate).export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(c.key).export({ type: 'spki', format: 'der' });
  return fromCert.equals(fromKey);
}

/** Moves virtual time in steps (with real time between, for the network) until `done()`. */
async function advanceUntil(clock: VirtualClock, done: () => boolean, stepMs: number, what: string) {
  for (let i = 0; i < 400 && !done(); i++) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 15));
  }
  assert.ok(done(), `timed out waiting for ${what}`);
}

describe('createIdentity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-identity-'));
  let svc: Svc;
  let users: string;

  before(async () => {
    svc = await start(dir);
    users = await serviceToken(svc, 'users');
  });
  after(async () => {
    await stop(svc);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the first certificate carries the service's SPIFFE ID, verifies against the bundle and fits node:tls", async () => {
    const identity = createIdentity({ service: 'users', urls: svc.url, token: users });
    try {
      const c = await identity.ready();
      assert.equal(c.spiffeId, 'spiffe://weft.local/service/users');
      assert.deepEqual(uriSans(c.certificate), ['spiffe://weft.local/service/users']);
      assert.equal(c.trustBundle.certificates.length, 1);
      const root = new x509.X509Certificate(c.trustBundle.certificates[0]!);
      assert.ok(await new x509.X509Certificate(c.certificate).verify({ publicKey: root.publicKey }));
      assert.ok(keysMatch(c));
      assert.match(c.key, /^-----BEGIN PRIVATE KEY-----/);
      createSecureContext({ key: c.key, cert: c.certificate, ca: [...c.trustBundle.certificates] });
      assert.equal(identity.credentials, c);
      const d = identity.describe();
      assert.equal(d.state, 'valid');
      assert.equal(d.serialNumber, c.serialNumber);
      assert.equal(d.notAfter, c.notAfter.toISOString());
      assert.deepEqual([d.renewals, d.failures, d.lastError], [0, 0, undefined]);
    } finally {
      identity.close();
    }
  });

  test('a users token cannot get an orders identity: ready() rejects with WEFT_UNAUTHORIZED saying why', async () => {
    const identity = createIdentity({ service: 'orders', urls: svc.url, token: users });
    await assert.rejects(identity.ready(), (error: unknown) => {
      assert.ok(isWeftError(error, 'WEFT_UNAUTHORIZED'), String(error));
      assert.match(error.message, /HTTP 403/);
      assert.match(error.message, /scoped to service "users"/);
      return true;
    });
    assert.equal(identity.describe().state, 'refused');
    assert.equal(identity.describe().failures, 1);
    identity.close();
  });

  test('options are checked: unknown keys and bad values are named', () => {
    assert.throws(
      () => createIdentity({ service: 'users', urls: svc.url, lifetime: 5 } as never),
      /lifetime/,
    );
    assert.throws(() => createIdentity({ service: 'users', urls: svc.url, renewAt: 1 }), /renewAt/);
    assert.throws(() => createIdentity({ service: 'users', urls: svc.url, lifetimeMs: 10 }), /lifetimeMs/);
    assert.throws(() => createIdentity({ service: 'users', urls: 'ftp://x' }), /urls/);
    assert.throws(() => createIdentity({ service: 'Not A Name', urls: svc.url }), /service/);
  });

  test('renews at about half-life with a new key and serial, tells the listeners, and close() stops it', async () => {
    const clock = new VirtualClock();
    const identity = createIdentity({
      service: 'users',
      urls: svc.url,
      token: users,
      lifetimeMs: 60_000,
      clock,
      random: () => 0.5,
    });
    try {
      const first = await identity.ready();
      const told: [IdentityCredentials, string][] = [];
      identity.onChange((c, state) => told.push([c, state]));
      // Half of the remaining lifetime (just under 60 s), less up to 10 % of jitter (5 % here).
      await clock.advance(27_000);
      assert.equal(told.length, 0);
      assert.equal(identity.describe().state, 'valid');
      await advanceUntil(clock, () => told.length > 0, 100, 'the renewal');
      assert.ok(clock.now() >= 28_000 && clock.now() <= 29_000, `renewed at ${clock.now()}`);
      const [second, state] = told[0]!;
      assert.equal(state, 'valid');
      assert.equal(identity.credentials, second);
      assert.notEqual(second.serialNumber, first.serialNumber);
      assert.notEqual(second.key, first.key);
      assert.ok(keysMatch(second));
      assert.equal(second.spiffeId, first.spiffeId);
      assert.deepEqual([identity.describe().renewals, identity.describe().state], [1, 'valid']);
      identity.close();
      assert.equal(clock.pending, 0, 'close() leaves no timer behind');
      assert.equal(identity.describe().state, 'closed');
    } finally {
      identity.close();
    }
  });
});

describe('createIdentity while the config service is down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-identity-'));
  let svc: Svc;
  let users: string;

  before(async () => {
    svc = await start(dir);
    users = await serviceToken(svc, 'users');
  });
  after(async () => {
    await stop(svc);
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (clock: VirtualClock) =>
    createIdentity({
      service: 'users',
      urls: svc.url,
      token: users,
      lifetimeMs: 60_000,
      backoffInitialMs: 500,
      backoffMaxMs: 2000,
      clock,
      random: () => 0.5,
    });

  test('a failed renewal keeps the current certificate, is counted, and succeeds once the service is back', async () => {
    const rec = recordingProvider();
    metrics.setGlobalMeterProvider(rec.provider);
    const clock = new VirtualClock();
    const identity = make(clock);
    const requests = (kind: string, outcome: string) =>
      rec.added.filter(
        (a) =>
          a.name === 'weft.identity.certificate.requests' &&
          a.attributes['weft.identity.request'] === kind &&
          a.attributes['weft.identity.outcome'] === outcome,
      ).length;
    try {
      const first = await identity.ready();
      const told: string[] = [];
      identity.onChange((_, state) => told.push(state));
      const port = svc.port;
      await stop(svc);
      await advanceUntil(clock, () => identity.describe().failures >= 2, 200, 'two failed renewals');
      const d = identity.describe();
      assert.equal(d.state, 'renewing');
      assert.equal(d.serialNumber, first.serialNumber);
      assert.equal(identity.credentials, first);
      assert.match(d.lastError ?? '', /certificate request to .* failed/);
      assert.equal(d.renewals, 0);
      assert.deepEqual(told, []);
      svc = await start(dir, port);
      await advanceUntil(clock, () => told.length > 0, 200, 'the renewal after the restart');
      assert.deepEqual(told, ['valid']);
      assert.notEqual(identity.credentials?.serialNumber, first.serialNumber);
      assert.equal(identity.describe().state, 'valid');
      assert.equal(identity.describe().renewals, 1);
      assert.equal(identity.describe().lastError, undefined);
      assert.ok(clock.now() < 60_000, `renewed at ${clock.now()}, after the expiry`);
      assert.equal(requests('first', 'success'), 1);
      assert.equal(requests('renewal', 'failure'), identity.describe().failures);
      assert.equal(requests('renewal', 'success'), 1);
      const [gauge] = (await rec.collect()).filter(
        (o) => o.name === 'weft.identity.certificate.time_to_expiry',
      );
      const left = (60_000 - clock.now()) / 1000;
      assert.ok(gauge && gauge.value > left && gauge.value <= 60, `time to expiry ${gauge?.value}`);
      assert.equal(gauge.attributes['weft.service'], 'users');
    } finally {
      identity.close();
      metrics.disable();
    }
  });

  test('a certificate that expires before a renewal succeeds: state expired, listeners told', async () => {
    const clock = new VirtualClock();
    const identity = make(clock);
    try {
      const first = await identity.ready();
      const told: [IdentityCredentials, string][] = [];
      identity.onChange((c, state) => told.push([c, state]));
      await stop(svc);
      await advanceUntil(clock, () => told.length > 0, 1000, 'the expiry');
      assert.deepEqual(told, [[first, 'expired']]);
      assert.ok(clock.now() >= 59_000 && clock.now() <= 61_000, `expired at ${clock.now()}`);
      const d = identity.describe();
      assert.equal(d.state, 'expired');
      assert.ok(d.failures >= 1);
      assert.equal(identity.credentials, first);
    } finally {
      identity.close();
    }
  });
});
