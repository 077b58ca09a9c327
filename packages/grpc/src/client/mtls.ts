/**
 * The gRPC client's half of mTLS (the client option `mtls`), over core's `ClientMtls`: for each
 * endpoint, whether its channel is mTLS or plaintext — `STRICT` destinations get mTLS only,
 * `PERMISSIVE` ones get mTLS with the endpoints whose server registered `weft/mtls` — and the
 * channel credentials of mTLS channels.
 *
 * The credentials are grpc-js certificate-provider credentials over the process's identity: every
 * new connection uses the identity's current certificate and roots, so a renewal or a rotated bundle
 * needs no new channel. The server must present the destination's SPIFFE ID (or one of
 * `serverIdentities`): host names are not checked, since endpoints are addresses.
 *
 * The plan is made when an endpoint's channel is made, and made again when something it depends on
 * changes: the destination's mode (a `PeerAuthentication` document), the identity (a first
 * certificate), or the endpoint's registration (its labels). A channel whose plan changed is
 * replaced for the next calls; the old one is closed, and grpc-js lets its calls finish.
 */
import { type ChannelCredentials, type ChannelOptions, experimental } from '@grpc/grpc-js';
import {
  ClientMtls,
  type ClientMtlsOptions,
  type ConnectionPlan,
  type Endpoint,
  type MeshCredentials,
  type MeshIdentity,
  type MtlsMode,
  type PeerAuthenticationSource,
  type PolicySource,
  tlsMaterial,
  type WeftError,
} from '@weft/core';

type CaCertificateUpdateListener = experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdateListener = experimental.IdentityCertificateUpdateListener;

/**
 * A grpc-js certificate provider over a `MeshIdentity`, for roots and identity both: listeners get
 * the current certificate when they subscribe and every later one. The first delivery waits for a
 * microtask, because grpc-js subscribes before it starts listening to its credentials object.
 */
export class IdentityCertificateProvider {
  readonly #identity: MeshIdentity;
  readonly #ca = new Set<CaCertificateUpdateListener>();
  readonly #own = new Set<IdentityCertificateUpdateListener>();
  #stop: (() => void) | undefined;

  constructor(identity: MeshIdentity) {
    this.#identity = identity;
  }

  addCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.#ca.add(listener);
    this.#follow();
    queueMicrotask(() => this.#tellCa(listener, this.#identity.credentials));
  }

  removeCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.#ca.delete(listener);
    this.#unfollow();
  }

  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#own.add(listener);
    this.#follow();
    queueMicrotask(() => this.#tellOwn(listener, this.#identity.credentials));
  }

  removeIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#own.delete(listener);
    this.#unfollow();
  }

  #follow(): void {
    this.#stop ??= this.#identity.onChange((credentials) => {
      for (const listener of this.#ca) this.#tellCa(listener, credentials);
      for (const listener of this.#own) this.#tellOwn(listener, credentials);
    });
  }

  #unfollow(): void {
    if (this.#ca.size > 0 || this.#own.size > 0) return;
    this.#stop?.();
    this.#stop = undefined;
  }

  #tellCa(listener: CaCertificateUpdateListener, credentials: MeshCredentials | undefined): void {
    if (credentials === undefined || !this.#ca.has(listener)) return;
    listener({ caCertificate: Buffer.from(tlsMaterial(credentials).ca.join('\n')) });
  }

  #tellOwn(listener: IdentityCertificateUpdateListener, credentials: MeshCredentials | undefined): void {
    if (credentials === undefined || !this.#own.has(listener)) return;
    const material = tlsMaterial(credentials);
    listener({ certificate: Buffer.from(material.cert), privateKey: Buffer.from(material.key) });
  }
}

/** One gRPC destination's mTLS: the plan of each endpoint's channel, and the mTLS credentials. */
export class GrpcClientMtls {
  readonly #mtls: ClientMtls;
  readonly #stops: (() => void)[] = [];
  /** The credentials of every mTLS channel of the destination (undefined without an identity). */
  readonly credentials: ChannelCredentials | undefined;
  /**
   * The options of mTLS channels: the TLS server name is the destination service (never an
   * address, which TLS does not allow as a server name; the server check ignores it anyway).
   */
  readonly channelOptions: ChannelOptions;
  /** Bumped when a plan may have changed (mode, identity): each endpoint's channel plans again. */
  generation = 0;
  /** Why no call may be sent now (`STRICT` without a usable identity), or undefined. */
  blocked: WeftError | undefined;

  constructor(destination: string, options: ClientMtlsOptions | undefined, config: PolicySource | undefined) {
    // A source without PeerAuthentication documents leaves every destination PERMISSIVE.
    const source = config?.peerAuthentication ? (config as PeerAuthenticationSource) : undefined;
    this.#mtls = new ClientMtls(destination, options, source);
    this.channelOptions = { 'grpc.ssl_target_name_override': destination };
    if (options !== undefined) {
      const provider = new IdentityCertificateProvider(options.identity);
      this.credentials = experimental.createCertificateProviderChannelCredentials(provider, provider, {
        checkServerIdentity: (host, cert) => this.#mtls.tlsOptions().checkServerIdentity(host, cert),
      });
      this.#stops.push(this.#mtls.onChange(() => this.#changed()));
    }
    if (config !== undefined) this.#stops.push(config.subscribe(() => this.#changed()));
    this.#updateBlocked();
  }

  /** The destination's mode now. */
  mode(): MtlsMode {
    return this.#mtls.mode();
  }

  /** mTLS or plaintext for a new channel to `endpoint`, or why none may be made. */
  plan(endpoint: Endpoint): ConnectionPlan | WeftError {
    return this.#mtls.plan(endpoint);
  }

  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  #changed(): void {
    this.generation++;
    this.#updateBlocked();
  }

  /** A refusal that holds whatever the endpoint: `STRICT` with no certificate to present. */
  #updateBlocked(): void {
    const plan = this.#mtls.plan(ANY_ENDPOINT);
    this.blocked = typeof plan === 'string' ? undefined : plan;
  }
}

/** An endpoint with no labels: what a plan says regardless of the endpoint. */
const ANY_ENDPOINT: Endpoint = { address: '0.0.0.0', port: 0 };
