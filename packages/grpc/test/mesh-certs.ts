/**
 * Test helper: a throwaway mesh CA and leaf certificates whose URI SAN is a SPIFFE ID, made at test
 * time (ECDSA P-256 through WebCrypto and @peculiar/x509), so no certificate on disk ever expires
 * under the tests. The same helper as the HTTP tests' (test projects do not import each other).
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as Crypto);

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
