/**
 * What Weft's clients and servers need of a process's identity to put mTLS on the wire: its current
 * key and certificate chain, the roots to verify peers against, and word of each change. The
 * `Identity` of `@weft/discovery` (`createIdentity`) is one; core names only this shape, so that core
 * depends on no certificate library and tests can hand in certificates of their own.
 */

import { peerFromCertificate } from '../authz/peer.ts';
import type { TrustBundle } from '../config/protocol.ts';
import { spiffeId } from '../config/protocol.ts';

/** One certificate of a process, with its key and the roots it trusts. */
export interface MeshCredentials {
  /** The private key, PKCS#8 PEM. */
  readonly key: string;
  /** The leaf certificate, PEM. */
  readonly certificate: string;
  /** Intermediates between the leaf and the roots, PEM (may be empty). */
  readonly chain: readonly string[];
  /** `spiffe://<trust-domain>/service/<service>`. */
  readonly spiffeId: string;
  readonly notAfter: Date;
  /** The roots peers are verified against, and the trust domain. */
  readonly trustBundle: TrustBundle;
}

/** A process's identity, kept current: see `createIdentity` in `@weft/discovery`. */
export interface MeshIdentity {
  /** The current credentials, or undefined before the first certificate. */
  readonly credentials: MeshCredentials | undefined;
  /**
   * Told of every new certificate or trust bundle (`valid`) and of an expiry without renewal
   * (`expired`). Returns the function that removes the listener.
   */
  onChange(listener: (credentials: MeshCredentials, state: 'valid' | 'expired') => void): () => void;
}

/** The `key`, `cert` and `ca` of a `node:tls` secure context. */
export interface TlsMaterial {
  readonly key: string;
  /** The leaf, then its intermediates. */
  readonly cert: string;
  readonly ca: readonly string[];
}

const materials = new WeakMap<MeshCredentials, TlsMaterial>();

/** The secure-context pieces of `credentials` (made once per credentials object). */
export function tlsMaterial(credentials: MeshCredentials): TlsMaterial {
  let material = materials.get(credentials);
  if (material === undefined) {
    const cert = [credentials.certificate, ...credentials.chain].map((pem) => pem.trim()).join('\n');
    material = { key: credentials.key, cert: `${cert}\n`, ca: credentials.trustBundle.certificates };
    materials.set(credentials, material);
  }
  return material;
}

/** A peer certificate's names as `node:tls` gives them to `checkServerIdentity`. */
interface PeerNames {
  readonly subjectaltname?: string | undefined;
}

/**
 * A `checkServerIdentity` for `node:tls` that ignores host names (endpoints are addresses, and the
 * mesh's certificates name services, not hosts) and accepts a server only when its certificate's one
 * SPIFFE ID is in `accepted`. `tls` calls it only after the chain verified against the bundle.
 */
export function spiffeServerCheck(
  destination: string,
  accepted: ReadonlySet<string>,
): (host: string, cert: PeerNames) => Error | undefined {
  return (_host, cert) => {
    const peer = peerFromCertificate(cert);
    if (peer !== undefined && accepted.has(peer.spiffeId)) return undefined;
    const presented = peer?.spiffeId ?? 'no single SPIFFE ID';
    const error = new Error(
      `the server of "${destination}" presented ${presented}, not ${[...accepted].join(' or ')}`,
    ) as Error & { code: string };
    error.code = 'WEFT_PEER_IDENTITY';
    return error;
  };
}

/**
 * The SPIFFE IDs a client accepts from the servers of `destination`: the destination service's own
 * and those listed (full SPIFFE IDs, or service names of the same trust domain).
 */
export function acceptedServerIds(
  trustDomain: string,
  destination: string,
  listed: readonly string[] | undefined,
): Set<string> {
  const ids = new Set([spiffeId(trustDomain, destination)]);
  for (const entry of listed ?? [])
    ids.add(entry.startsWith('spiffe://') ? entry : spiffeId(trustDomain, entry));
  return ids;
}
