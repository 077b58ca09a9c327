/**
 * `weft ca status` and `weft ca rotate`: the config service's certificate authority. Rotation
 * starts an overlap (a new root, or the operator's new intermediate, signs; the old one stays
 * trusted); `weft ca rotate --finish` ends it once the old CA's certificates have expired.
 */
import { readFile } from 'node:fs/promises';
import type { Api } from './api.ts';
import { type Output, UsageError } from './commands.ts';

export interface CaRotateOptions {
  /** PEM file of a new intermediate (then its chain up to the root), with `caKey`. Defaults to a generated root. */
  caCert?: string;
  /** PKCS#8 PEM file of the intermediate's private key. */
  caKey?: string;
  /** Ends the open overlap instead. Defaults to false. */
  finish?: boolean;
  /** With `finish`: end it even though the retiring CA's certificates may still be valid. Defaults to false. */
  force?: boolean;
}

interface CaStatusBody {
  trustDomain: string;
  generation: number;
  authorities: {
    id: string;
    subject: string;
    source: string;
    role: string;
    notBefore: string;
    notAfter: string;
    anchor: string;
  }[];
  overlap: { since: string; endsAfter: string } | null;
}

function statusText(s: CaStatusBody): string {
  const lines = [`trust domain ${s.trustDomain} (generation ${s.generation})`];
  for (const a of s.authorities)
    lines.push(
      `${a.role.padEnd(8)} ${a.subject} (${a.source}) valid until ${a.notAfter}`,
      `         id ${a.id.slice(0, 16)}…, trusted through ${a.anchor}`,
    );
  lines.push(
    s.overlap
      ? `overlap open since ${s.overlap.since}; end it after ${s.overlap.endsAfter} with: weft ca rotate --finish`
      : 'no overlap: one CA is trusted',
  );
  return lines.join('\n');
}

const show = (o: Output, body: unknown) =>
  o.write(o.json ? JSON.stringify(body, null, 2) : statusText(body as CaStatusBody));

export async function caStatus(request: Api, o: Output): Promise<void> {
  show(o, (await request('GET', '/v1/ca')).body);
}

export async function caRotate(request: Api, o: Output, options: CaRotateOptions): Promise<void> {
  if ((options.caCert === undefined) !== (options.caKey === undefined))
    throw new UsageError('--ca-cert and --ca-key go together');
  if (options.finish && options.caCert) throw new UsageError('--finish takes no new CA');
  if (options.force && !options.finish) throw new UsageError('--force only goes with --finish');
  const body = options.finish
    ? { finish: true, ...(options.force ? { force: true } : {}) }
    : options.caCert
      ? {
          certificate: await readFile(options.caCert, 'utf8'),
          privateKey: await readFile(options.caKey!, 'utf8'),
        }
      : {};
  show(o, (await request('POST', '/v1/ca/rotate', body)).body);
}
