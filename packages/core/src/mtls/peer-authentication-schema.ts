/**
 * The `PeerAuthentication` document: whether a service's servers accept plaintext beside mTLS, after
 * Istio's resource of the same name. `name: mesh` is the mesh-wide default; `name: <service>`
 * overrides it for that service. The same document tells that service's callers what to send: a
 * client never sends plaintext to a service whose mode is `STRICT`.
 *
 * ```yaml
 * kind: PeerAuthentication
 * name: mesh            # or a service name
 * spec: { mode: STRICT }
 * ```
 *
 * Without any document the mode is `PERMISSIVE`: the migration default, in which a server accepts
 * both and a client uses mTLS with every endpoint that serves it.
 */
import { z } from 'zod';

/** The name of the mesh-wide default. */
export const MESH_PEER_AUTHENTICATION = 'mesh';

/**
 * - `PERMISSIVE`: servers accept plaintext and mTLS on the same port; clients use mTLS with the
 *   endpoints that serve it and plaintext with the others.
 * - `STRICT`: servers refuse plaintext before any handler runs; clients send only mTLS.
 */
export const MtlsMode = z.enum(['PERMISSIVE', 'STRICT']);
export type MtlsMode = z.infer<typeof MtlsMode>;

export const PeerAuthenticationSpec = z.strictObject({
  mode: MtlsMode,
});
export type PeerAuthenticationSpec = z.infer<typeof PeerAuthenticationSpec>;

/** What the mode is read from (a `ConfigClient` has it). */
export interface PeerAuthenticationSource {
  peerAuthentication(name: string): PeerAuthenticationSpec | undefined;
}

/** The mode of `service`: its own document, else the mesh-wide one, else `PERMISSIVE`. */
export function mtlsModeOf(
  source: PeerAuthenticationSource | undefined,
  service: string | undefined,
): MtlsMode {
  if (source === undefined) return 'PERMISSIVE';
  const own = service === undefined ? undefined : source.peerAuthentication(service);
  return (own ?? source.peerAuthentication(MESH_PEER_AUTHENTICATION))?.mode ?? 'PERMISSIVE';
}
