/** Test helpers for the CA: key pairs and CSRs made in the test, an operator's CA, chain checks. */
import { webcrypto } from 'node:crypto';
import * as x509 from '../src/ca/x509.ts';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A fresh P-256 key pair and a CSR for it; `asks` is the URI SAN the CSR asks for. */
export async function makeCsr(asks = 'spiffe://weft.local/service/orders'): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=orders',
    keys,
    signingAlgorithm: SIGN,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: asks }])],
  });
  return csr.toString('pem');
}

/** A CSR with an RSA key (which the CA refuses). */
export async function makeRsaCsr(): Promise<string> {
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
  return (
    await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: alg })
  ).toString('pem');
}

/** The CSR with one byte of its signature changed (its key no longer verifies it). */
export function tamper(pem: string): string {
  const der = Buffer.from(x509.PemConverter.decodeFirst(pem));
  der[der.length - 2]! ^= 0x01;
  return x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
}

export const uriSans = (pem: string): string[] =>
  (new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [])
    .filter((n) => n.type === 'url')
    .map((n) => n.value);

/**
 * True when `leaf`, then each of `chain`, is signed by the next, the last one by one of `anchors`,
 * and every certificate is valid now.
 */
export async function chainVerifies(
  leaf: string,
  chain: readonly string[],
  anchors: readonly string[],
): Promise<boolean> {
  const path = [leaf, ...chain].map((p) => new x509.X509Certificate(p));
  const date = new Date();
  for (let i = 0; i + 1 < path.length; i++)
    if (!(await path[i]!.verify({ publicKey: path[i + 1]!.publicKey, date }))) return false;
  const last = path[path.length - 1]!;
  for (const a of anchors) {
    const anchor = new x509.X509Certificate(a);
    if (last.issuer === anchor.subject && (await last.verify({ publicKey: anchor.publicKey, date })))
      return true;
  }
  return false;
}

/** An operator's root and an intermediate signed by it, as PEM (the intermediate's key PKCS#8). */
export async function makeOperatorCa(): Promise<{ root: string; intermediate: string; key: string }> {
  const now = Date.now();
  const rootKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'O=acme, CN=acme root',
    keys: rootKeys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: 'O=acme, CN=acme weft intermediate',
    issuer: root.subject,
    publicKey: keys.publicKey,
    signingKey: rootKeys.privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 90 * 86_400_000),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    root: root.toString('pem'),
    intermediate: intermediate.toString('pem'),
    key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
