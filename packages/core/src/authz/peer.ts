/**
 * The caller's identity, read only from a certificate the TLS layer verified: the SPIFFE ID in its
 * URI SAN, `spiffe://<trust-domain>/service/<service>`. Never from a header: a request can carry any
 * header it likes (`x-spiffe-id`, `x-forwarded-client-cert`), but only the holder of a key whose
 * certificate chains to the server's CA completes the handshake. A certificate with no SPIFFE ID, or
 * with more than one, identifies nobody.
 */
import { SPIFFE_SERVICE_ID } from './authz-schema.ts';

/** A caller authenticated by its verified certificate. */
export interface PeerIdentity {
  /** `spiffe://<trust-domain>/service/<service>`. */
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly service: string;
}

/** What Node's `getPeerCertificate()` returns that identity needs (`subjectaltname`: `URI:…, DNS:…`). */
export interface CertificateNames {
  readonly subjectaltname?: string | undefined;
}

/** The identity a SPIFFE ID names, or undefined when it is not `spiffe://<td>/service/<name>`. */
export function parseSpiffeId(uri: string): PeerIdentity | undefined {
  const m = SPIFFE_SERVICE_ID.exec(uri);
  return m ? { spiffeId: uri, trustDomain: m[1]!, service: m[2]! } : undefined;
}

/**
 * The identity in a verified peer certificate's URI SAN; undefined when it has no SPIFFE ID or
 * more than one (ambiguous, so nobody). Call it only for a certificate the TLS layer verified.
 */
export function peerFromCertificate(cert: CertificateNames | undefined | null): PeerIdentity | undefined {
  const names = cert?.subjectaltname;
  if (typeof names !== 'string' || names.length === 0) return undefined;
  let found: string | undefined;
  for (const entry of names.split(', ')) {
    if (!entry.startsWith('URI:spiffe://')) continue;
    if (found !== undefined) return undefined;
    found = entry.slice(4);
  }
  return found === undefined ? undefined : parseSpiffeId(found);
}

/** The TLS side of a socket, as `node:tls` gives it (structural: no import of `node:tls` here). */
export interface TlsSocketLike {
  readonly encrypted?: boolean;
  readonly authorized?: boolean;
  getPeerCertificate?(detailed?: boolean): CertificateNames | null | undefined;
}

const bySocket = new WeakMap<object, PeerIdentity | null>();

/**
 * The verified identity of the peer on `socket`, read once per connection (a connection's peer
 * does not change): undefined for plaintext, for a client that sent no certificate, and for one
 * whose certificate did not verify (`authorized` false, as with `rejectUnauthorized: false`).
 */
export function peerOfSocket(socket: object | null | undefined): PeerIdentity | undefined {
  if (socket === null || socket === undefined) return undefined;
  const tls = socket as TlsSocketLike;
  if (tls.encrypted !== true || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function')
    return undefined;
  let peer = bySocket.get(socket);
  if (peer === undefined) {
    peer = peerFromCertificate(tls.getPeerCertificate(false)) ?? null;
    bySocket.set(socket, peer);
  }
  return peer ?? undefined;
}
