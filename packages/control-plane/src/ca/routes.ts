/**
 * The CA's HTTP routes: certificates for a service (its own token, or admin), the trust bundle
 * (public: it holds only CA certificates, which every party of a TLS handshake sees anyway), and
 * status and rotation (admin).
 */
import { checkName } from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../server/http-errors.ts';
import type { CertificateAuthority } from './authority.ts';
import { CERTIFICATE_LIFETIME_LIMITS } from './authority.ts';
import { checkRequestBody } from './csr.ts';

/** Body of `POST /v1/ca/rotate`. */
interface RotateBody {
  /** PEM of a new intermediate followed by its chain; with `privateKey`. Defaults to a generated root. */
  certificate?: string;
  /** PKCS#8 PEM of its key. */
  privateKey?: string;
  /** Ends the open overlap instead of starting one. */
  finish?: boolean;
  /** With `finish`: end it before the retiring CA's certificates have all expired. */
  force?: boolean;
}

function checkRotateBody(input: unknown): RotateBody {
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(body))
    if (!['certificate', 'privateKey', 'finish', 'force'].includes(key)) issues.push(`${key}: unknown field`);
  for (const key of ['certificate', 'privateKey'])
    if (body[key] !== undefined && typeof body[key] !== 'string')
      issues.push(`${key}: expected a PEM string`);
  for (const key of ['finish', 'force'])
    if (body[key] !== undefined && typeof body[key] !== 'boolean')
      issues.push(`${key}: expected true or false`);
  if ((body.certificate === undefined) !== (body.privateKey === undefined))
    issues.push('certificate, privateKey: give both or neither');
  if (body.finish && body.certificate !== undefined)
    issues.push('finish: ends the overlap; it takes no new certificate');
  if (body.force && !body.finish) issues.push('force: only with finish');
  if (issues.length) throw invalid(issues, 'invalid rotation request');
  return body as RotateBody;
}

export function caRoutes(app: FastifyInstance, ca: CertificateAuthority, maxLifetimeMs: number): void {
  app.post('/v1/services/:service/certificates', async (req, reply) => {
    const { service } = req.params as { service: string };
    const reason = checkName(service);
    if (reason) throw invalid([`service: ${reason}`], 'invalid service name');
    const body = checkRequestBody(req.body, CERTIFICATE_LIFETIME_LIMITS.minMs, maxLifetimeMs);
    reply.code(201);
    return ca.issue(service, body.csr, body.lifetimeMs);
  });
  app.get('/v1/ca/bundle', async () => ca.bundle());
  app.get('/v1/ca', async () => ca.status());
  app.post('/v1/ca/rotate', async (req) => {
    const body = checkRotateBody(req.body ?? {});
    if (body.finish) await ca.finish(body.force === true);
    else
      await ca.rotate(
        body.certificate === undefined
          ? undefined
          : { certificate: body.certificate, privateKey: body.privateKey! },
      );
    return ca.status();
  });
}
