/**
 * The CA's certificates and keys through `@peculiar/x509` on Node's WebCrypto: a generated root
 * (ECDSA P-256, self-signed, CA:true with path length 0) or an intermediate the operator gives as
 * PEM files. Everything here is parsing and signing by the library; no ASN.1 is written by hand.
 */
import { createHash, webcrypto } from 'node:crypto';
import type { StoredAuthority } from '../store/store.ts';
import * as x509 from './x509.ts';

/** The one key algorithm the CA makes, takes from the operator, and signs CSRs of. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Lifetime of a root the service generates. */
export const ROOT_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

/** Why `value` is not a SPIFFE trust domain (lower-case letters, digits, `.`, `_`, `-`), or undefined. */
export function trustDomainIssue(value: string): string | undefined {
  return /^[a-z0-9._-]{1,255}$/.test(value)
    ? undefined
    : `"${value}" is not a trust domain: expected lower-case letters, digits, ".", "_" or "-"`;
}

/** An operator-supplied CA that cannot be used, with the reason. */
export class CaMaterialError extends Error {
  override readonly name = 'CaMaterialError';
}

const fingerprint = (cert: x509.X509Certificate) =>
  createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex');

/** Splits a PEM text into its certificates (in order); throws a {@link CaMaterialError} when none parse. */
export function parseCertificates(pem: string, what: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CaMaterialError(`${what}: no PEM certificate found`);
  return blocks.map((b, i) => {
    try {
      return new x509.X509Certificate(b);
    } catch (error) {
      throw new CaMaterialError(`${what}: certificate ${i + 1} does not parse (${(error as Error).message})`);
    }
  });
}

const isEcP256 = (alg: Algorithm) =>
  alg.name === 'ECDSA' && (alg as EcKeyAlgorithm).namedCurve === EC_P256.namedCurve;

/** Generates a new self-signed root for `trustDomain`. */
export async function generateRoot(trustDomain: string, now: Date): Promise<StoredAuthority> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `O=weft, CN=weft mesh root ${now.toISOString()}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const pem = cert.toString('pem');
  return {
    id: fingerprint(cert),
    certificate: pem,
    chain: [],
    anchor: pem,
    privateKey: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    source: 'generated',
    addedAt: now.toISOString(),
  };
}

/**
 * Checks an operator's CA: `certPem` is the CA certificate followed by the certificates above it
 * (the last one is the trust anchor: the operator's root, or the CA itself when alone); `keyPem`
 * is its PKCS#8 ECDSA P-256 private key. The certificate must be a CA allowed to sign certificates,
 * be valid now, match the key, and be signed by the next one in the chain.
 */
export async function operatorAuthority(
  certPem: string,
  keyPem: string,
  now: Date,
): Promise<StoredAuthority> {
  const certs = parseCertificates(certPem, 'CA certificate');
  const cert = certs[0]!;
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new CaMaterialError('CA certificate: basic constraints must say CA:true');
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign))
    throw new CaMaterialError('CA certificate: key usage must include keyCertSign');
  if (cert.notBefore > now || cert.notAfter <= now)
    throw new CaMaterialError(
      `CA certificate: not valid now (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
    );
  if (!isEcP256(cert.publicKey.algorithm))
    throw new CaMaterialError('CA certificate: the key must be ECDSA P-256');
  for (let i = 0; i + 1 < certs.length; i++)
    if (!(await certs[i]!.verify({ publicKey: certs[i + 1]!, signatureOnly: true })))
      throw new CaMaterialError(`CA certificate: certificate ${i + 1} is not signed by certificate ${i + 2}`);
  const key = await importSigningKey(keyPem).catch((error: Error) => {
    throw new CaMaterialError(`CA key: not a PKCS#8 ECDSA P-256 private key (${error.message})`);
  });
  // Proves the key belongs to the certificate: sign something and verify it with the certificate's key.
  const probe = new TextEncoder().encode('weft-ca-key-check');
  const signature = await webcrypto.subtle.sign(SIGNING, key, probe);
  const pub = await cert.publicKey.export(EC_P256, ['verify']);
  if (!(await webcrypto.subtle.verify(SIGNING, pub, signature, probe)))
    throw new CaMaterialError('CA key: does not match the CA certificate');
  return {
    id: fingerprint(cert),
    certificate: cert.toString('pem'),
    chain: certs.slice(1).map((c) => c.toString('pem')),
    anchor: certs[certs.length - 1]!.toString('pem'),
    privateKey: x509.PemConverter.encode(x509.PemConverter.decodeFirst(keyPem), 'PRIVATE KEY'),
    source: 'operator',
    addedAt: now.toISOString(),
  };
}

/** Imports a PKCS#8 PEM ECDSA P-256 key for signing. */
export async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']) as Promise<CryptoKey>;
}
