/**
 * Checks a certificate request: PEM PKCS#10, a signature that verifies with the key it carries (the
 * proof that the caller holds the private key, which never reaches the service), and an ECDSA P-256
 * key. What the CSR asks for (subject, SANs, extensions) is ignored: the CA decides the identity.
 */

import { invalid } from '../server/http-errors.ts';
import { EC_P256 } from './keys.ts';
import * as x509 from './x509.ts';

/** Body of `POST /v1/services/:service/certificates`. */
export interface CertificateRequestBody {
  /** The PKCS#10 request, PEM. */
  readonly csr: string;
  /** Lifetime asked for, in ms (at most the service's `certificateLifetimeMs`). Defaults to that. */
  readonly lifetimeMs?: number;
}

/** Checks the body's shape; throws a 400 naming each wrong field. */
export function checkRequestBody(input: unknown, minMs: number, maxMs: number): CertificateRequestBody {
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(body))
    if (key !== 'csr' && key !== 'lifetimeMs') issues.push(`${key}: unknown field`);
  if (typeof body.csr !== 'string' || body.csr.length === 0 || body.csr.length > 16_384)
    issues.push('csr: expected a PEM certificate request (a string of at most 16384 characters)');
  const life = body.lifetimeMs;
  if (
    life !== undefined &&
    !(Number.isInteger(life) && (life as number) >= minMs && (life as number) <= maxMs)
  )
    issues.push(`lifetimeMs: expected an integer from ${minMs} to ${maxMs}`);
  if (issues.length) throw invalid(issues, 'invalid certificate request');
  return body as unknown as CertificateRequestBody;
}

/** Parses and verifies the CSR; throws a 400 saying what is wrong with it. */
export async function verifiedCsr(pem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch {
    throw invalid(['csr: not a PEM PKCS#10 certificate request'], 'invalid certificate request');
  }
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== EC_P256.name || alg.namedCurve !== EC_P256.namedCurve)
    throw invalid(
      [`csr: the key must be ECDSA P-256 (got ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''})`],
      'invalid certificate request',
    );
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {}
  if (!ok)
    throw invalid(
      ['csr: its signature does not verify with its own key (proof of possession failed)'],
      'invalid certificate request',
    );
  return csr;
}
