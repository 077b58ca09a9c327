/**
 * The client's half of mTLS for one destination: for each new connection to an endpoint, whether it
 * is mTLS or plaintext, and the TLS options to make it with. Decided per connection, not per
 * request, from the destination's mode (its `PeerAuthentication`, else the mesh's, else the floor
 * given in code) and from what the endpoint serves (the `weft/mtls` label its server registers):
 *
 * - `STRICT`: every connection is mTLS; without an identity none is made (`WEFT_MTLS_REQUIRED`);
 * - `PERMISSIVE`: mTLS with the endpoints that serve it, plaintext with the others.
 *
 * A connection made stays what it was: the mode applies to the connections made after it changes,
 * and a server that turns strict closes its plaintext connections itself.
 */

import { SPIFFE_SERVICE_ID } from '../authz/authz-schema.ts';
import { NAME_PATTERN } from '../config/document.ts';
import type { Endpoint } from '../endpoint/endpoint.ts';
import { ErrorCode, invalidOption, WeftError } from '../errors/errors.ts';
import { checkKnownKeys, type KeySet } from '../util/known-keys.ts';
import {
  acceptedServerIds,
  type MeshCredentials,
  type MeshIdentity,
  spiffeServerCheck,
  tlsMaterial,
} from './credentials.ts';
import { type MtlsMode, mtlsModeOf, type PeerAuthenticationSource } from './peer-authentication-schema.ts';

/** The label a server serving mTLS through Weft registers (`"true"`). */
export const MTLS_LABEL = 'weft/mtls';

/** The `mtls` option of Weft's clients. */
export interface ClientMtlsOptions {
  /** The process's identity (`createIdentity` of `@weft/discovery`): the certificate it presents. */
  identity: MeshIdentity;
  /**
   * The least mode for this client's destinations: `STRICT` sends only mTLS whatever the config
   * service says; the config service's `PeerAuthentication` can tighten `PERMISSIVE`, never loosen
   * `STRICT`. Defaults to `PERMISSIVE`.
   */
  mode?: MtlsMode;
  /**
   * Server identities accepted besides the destination's own `spiffe://<td>/service/<destination>`:
   * SPIFFE IDs, or service names of the mesh's trust domain. Defaults to none.
   */
  serverIdentities?: readonly string[];
}

export const CLIENT_MTLS_KEYS = {
  identity: true,
  mode: true,
  serverIdentities: true,
} as const satisfies KeySet<ClientMtlsOptions>;

/** Checks a client's `mtls` option; the error names the field. */
export function checkClientMtls(options: ClientMtlsOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null)
    throw invalidOption('mtls', 'must be { identity, mode?, serverIdentities? }');
  checkKnownKeys('mtls', options, CLIENT_MTLS_KEYS);
  if (typeof (options.identity as MeshIdentity | undefined)?.onChange !== 'function')
    throw invalidOption('mtls.identity', 'must be an identity (createIdentity of @weft/discovery)');
  if (options.mode !== undefined && options.mode !== 'PERMISSIVE' && options.mode !== 'STRICT')
    throw invalidOption('mtls.mode', 'must be PERMISSIVE or STRICT');
  const listed = options.serverIdentities;
  if (listed !== undefined) {
    if (!Array.isArray(listed)) throw invalidOption('mtls.serverIdentities', 'must be a list');
    for (const entry of listed)
      if (typeof entry !== 'string' || !(SPIFFE_SERVICE_ID.test(entry) || NAME_PATTERN.test(entry)))
        throw invalidOption(
          'mtls.serverIdentities',
          `${JSON.stringify(entry)} is neither spiffe://<trust-domain>/service/<name> nor a service name`,
        );
  }
}

/** The `node:tls` options of an mTLS connection. */
export interface ClientTlsOptions {
  readonly key: string;
  readonly cert: string;
  readonly ca: readonly string[];
  readonly rejectUnauthorized: true;
  readonly checkServerIdentity: (host: string, cert: { subjectaltname?: string }) => Error | undefined;
}

/** What the next connection to an endpoint is. */
export type ConnectionPlan = 'mtls' | 'plaintext';

export class ClientMtls {
  readonly #destination: string;
  readonly #options: ClientMtlsOptions | undefined;
  readonly #source: PeerAuthenticationSource | undefined;
  #forCredentials: MeshCredentials | undefined;
  #tls: ClientTlsOptions | undefined;

  constructor(
    destination: string,
    options: ClientMtlsOptions | undefined,
    source: PeerAuthenticationSource | undefined,
  ) {
    this.#destination = destination;
    this.#options = options;
    this.#source = source;
  }

  /** Whether this client can make mTLS connections at all (it has an identity). */
  get enabled(): boolean {
    return this.#options !== undefined;
  }

  /** The destination's mode now. */
  mode(): MtlsMode {
    if (this.#options?.mode === 'STRICT') return 'STRICT';
    return mtlsModeOf(this.#source, this.#destination);
  }

  /** mTLS or plaintext for a new connection to `endpoint`, or the error why none may be made. */
  plan(endpoint: Endpoint): ConnectionPlan | WeftError {
    const strict = this.mode() === 'STRICT';
    if (this.#options === undefined)
      return strict ? this.#required('this client has no identity (the `mtls` option)') : 'plaintext';
    if (!strict && endpoint.labels?.[MTLS_LABEL] !== 'true') return 'plaintext';
    if (this.#options.identity.credentials === undefined)
      return strict ? this.#required('its identity has no certificate yet') : 'plaintext';
    return 'mtls';
  }

  /** The TLS options for an mTLS connection now (the current certificate and roots). */
  tlsOptions(): ClientTlsOptions {
    const credentials = this.#options?.identity.credentials;
    if (credentials === undefined) throw this.#required('its identity has no certificate yet');
    if (this.#tls === undefined || this.#forCredentials !== credentials) {
      const material = tlsMaterial(credentials);
      const accepted = acceptedServerIds(
        credentials.trustBundle.trustDomain,
        this.#destination,
        this.#options?.serverIdentities,
      );
      this.#tls = {
        key: material.key,
        cert: material.cert,
        ca: material.ca,
        rejectUnauthorized: true,
        checkServerIdentity: spiffeServerCheck(this.#destination, accepted),
      };
      this.#forCredentials = credentials;
    }
    return this.#tls;
  }

  /** Calls `listener` when the identity changes (new certificate or roots); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#options?.identity.onChange(listener) ?? (() => {});
  }

  #required(why: string): WeftError {
    return new WeftError(
      ErrorCode.MtlsRequired,
      `"${this.#destination}" accepts only mTLS (mode STRICT) and ${why}: no plaintext is sent`,
      { retryable: false },
    );
  }
}
