/**
 * One certificate request: a fresh ECDSA P-256 key pair made in memory, a CSR signed with it, and the
 * config service's answer. The private key leaves WebCrypto only as the PKCS#8 PEM that `node:tls`
 * takes, in this process's memory; it is never written or sent.
 */
import { webcrypto } from 'node:crypto';
import { ErrorCode, WeftError } from '@weft/core';
import type { TrustBundle } from '@weft/core/config';
import * as x509 from './x509.ts';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** What a process holds for its identity: what `node:tls` needs for a secure context, and more. */
export interface IdentityCredentials {
  /** The private key, PKCS#8 PEM (the `key` of `tls.createSecureContext`). */
  readonly key: string;
  /** The leaf certificate, PEM. */
  readonly certificate: string;
  /** Intermediates between the leaf and the bundle's roots, PEM (empty under a generated root). */
  readonly chain: readonly string[];
  /** `spiffe://<trust-domain>/service/<service>`. */
  readonly spiffeId: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The roots to verify peers against (the `ca` of a secure context). */
  readonly trustBundle: TrustBundle;
}

interface IssuedBody {
  certificate: string;
  chain: string[];
  spiffeId: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  trustBundle: TrustBundle;
}

/** An HTTP answer that is not a certificate; `fatal` for the first request when retrying cannot help. */
export class CertificateRequestError extends WeftError {
  readonly status: number | undefined;
  constructor(status: number | undefined, message: string, cause?: unknown) {
    const refused = status === 401 || status === 403;
    super(refused ? ErrorCode.Unauthorized : ErrorCode.RequestFailed, message, {
      cause,
      retryable: status === undefined || status >= 500 || status === 429,
    });
    this.name = 'CertificateRequestError';
    this.status = status;
  }
}

export interface RequestTarget {
  readonly url: string;
  readonly service: string;
  readonly token: string | undefined;
  readonly lifetimeMs: number | undefined;
  readonly timeoutMs: number;
}

async function keyAndCsr(service: string): Promise<{ key: string; csr: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ CN: [service] }]).toString(),
    keys,
    signingAlgorithm: SIGNING,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csr: csr.toString('pem') };
}

/** Makes a key pair and a CSR, and asks the config service at `target.url` to sign it. */
export async function requestCertificate(target: RequestTarget): Promise<IdentityCredentials> {
  const { key, csr } = await keyAndCsr(target.service);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const url = new URL(`/v1/services/${encodeURIComponent(target.service)}/certificates`, target.url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(
        target.lifetimeMs === undefined ? { csr } : { csr, lifetimeMs: target.lifetimeMs },
      ),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw new CertificateRequestError(
      undefined,
      `certificate request to ${url.origin} failed: ${(error as Error).message}`,
      error,
    );
  }
  const text = await res.text();
  if (res.status !== 201) {
    let reason = text.slice(0, 300);
    try {
      reason = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? reason;
    } catch {}
    throw new CertificateRequestError(
      res.status,
      `the config service refused the certificate for "${target.service}" (HTTP ${res.status}): ${reason}`,
    );
  }
  const body = JSON.parse(text) as IssuedBody;
  return {
    key,
    certificate: body.certificate,
    chain: body.chain,
    spiffeId: body.spiffeId,
    serialNumber: body.serialNumber,
    notBefore: new Date(body.notBefore),
    notAfter: new Date(body.notAfter),
    trustBundle: body.trustBundle,
  };
}
