/**
 * Test helpers for mTLS and authorization tests (HTTP and gRPC, and users' own): a throwaway mesh CA
 * whose leaf certificates carry a SPIFFE ID as their URI SAN, made at test time (ECDSA P-256 through
 * WebCrypto and @peculiar/x509), so no certificate on disk ever expires under a test; and
 * `setPolicies`, which makes a real config service hold exactly some `AuthorizationPolicy`
 * documents and waits until a config client has them.
 */
import assert from 'node:assert/strict';
import { KeyObject, webcrypto } from 'node:crypto';
import type { ConfigClient } from '@weft/core/config';
import * as x509 from './ca/x509.ts';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Leaf {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
}

export interface TestCa {
  /** The CA certificate, PEM: what servers and clients trust. */
  readonly ca: string;
  /** A leaf for `spiffeId` (none: a certificate without a SPIFFE ID), valid for 127.0.0.1 too. */
  leaf(spiffeId: string | undefined, commonName?: string): Promise<Leaf>;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');

const pemKey = (key: webcrypto.CryptoKey) =>
  KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();

/** Makes a CA named `name`. */
export async function testCa(name = 'Weft Test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + DAY),
    keys: keys as CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  return {
    ca: caCert.toString('pem'),
    async leaf(spiffeId, commonName = 'weft-test') {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      const names: x509.JsonGeneralName[] = [
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ];
      if (spiffeId !== undefined) names.unshift({ type: 'url', value: spiffeId });
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: nextSerial(),
        subject: `CN=${commonName}`,
        issuer: caCert.subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + DAY),
        signingKey: keys.privateKey as CryptoKey,
        publicKey: leafKeys.publicKey as CryptoKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
          ]),
          new x509.SubjectAlternativeNameExtension(names),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { cert: cert.toString('pem'), key: pemKey(leafKeys.privateKey) };
    },
  };
}

/** `spiffe://weft.local/service/<service>`. */
export const spiffe = (service: string, trustDomain = 'weft.local') =>
  `spiffe://${trustDomain}/service/${service}`;

/** A call to the config service's API with `cp`'s admin token. */
export const controlPlaneApi = (
  cp: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
) =>
  fetch(`${cp.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${cp.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

export type Spec = Record<string, unknown>;

/** Makes the AuthorizationPolicy documents exactly `docs`, and waits until the servers' config has them. */
export async function setPolicies(
  cp: { url: string; token: string },
  config: ConfigClient,
  docs: Record<string, Spec>,
): Promise<void> {
  const api = (method: string, path: string, body?: unknown) => controlPlaneApi(cp, method, path, body);
  const list = (await (await api('GET', '/v1/documents/AuthorizationPolicy')).json()) as {
    documents: { name: string }[];
  };
  let revision = 0;
  for (const d of list.documents) {
    if (docs[d.name]) continue;
    const r = await api('DELETE', `/v1/documents/AuthorizationPolicy/${d.name}`);
    assert.equal(r.status, 200);
    revision = ((await r.json()) as { revision: number }).revision;
  }
  const documents = Object.entries(docs).map(([name, spec]) => ({ kind: 'AuthorizationPolicy', name, spec }));
  if (documents.length) {
    const r = await api('POST', '/v1/apply', { documents });
    assert.equal(r.status, 200, await r.clone().text());
    revision = Math.max(revision, ((await r.json()) as { revision: number }).revision);
  }
  for (let i = 0; config.revision < revision; i++) {
    assert.ok(i < 500, 'the config client did not see the policies');
    await new Promise((r) => setTimeout(r, 10));
  }
}
