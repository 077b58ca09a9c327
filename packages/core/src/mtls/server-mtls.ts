/**
 * The server's half of mTLS, the same for every protocol: each accepted connection is read up to its
 * first byte, which tells a TLS ClientHello (`0x16`) from plaintext, so one port serves both. TLS
 * goes to the protocol's TLS side (which requires and verifies a client certificate against the
 * bundle); plaintext goes to its plaintext side in `PERMISSIVE` mode and is refused in `STRICT` mode
 * before anything of it is parsed. The mode is read for every new connection, from the server's
 * `PeerAuthentication` (its service's, else the mesh's) with the floor given in code; when it turns
 * `STRICT`, plaintext connections already open are closed.
 */
import type { Socket } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { invalidOption } from '../errors/errors.ts';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from '../telemetry/instruments.ts';
import type { KeySet } from '../util/known-keys.ts';
import { checkKnownKeys } from '../util/known-keys.ts';
import type { MeshIdentity } from './credentials.ts';
import { type MtlsMode, mtlsModeOf, type PeerAuthenticationSource } from './peer-authentication-schema.ts';

/** The `mtls` option of Weft's servers. */
export interface ServerMtlsOptions {
  /** The process's identity (`createIdentity` of `@weft/discovery`): the certificate the server presents. */
  identity: MeshIdentity;
  /**
   * The least mode: `STRICT` refuses plaintext whatever the config service says; the config
   * service's `PeerAuthentication` can tighten `PERMISSIVE`, never loosen `STRICT`. Defaults to
   * `PERMISSIVE`.
   */
  mode?: MtlsMode;
  /** How long a new connection may take to send its first byte before it is closed, in ms (1–600000). Defaults to 10000. */
  firstByteTimeoutMs?: number;
  /** How long a TLS handshake may take, in ms (1–600000). Defaults to 10000. */
  handshakeTimeoutMs?: number;
}

export const SERVER_MTLS_KEYS = {
  identity: true,
  mode: true,
  firstByteTimeoutMs: true,
  handshakeTimeoutMs: true,
} as const satisfies KeySet<ServerMtlsOptions>;

export const SERVER_MTLS_DEFAULTS = { firstByteTimeoutMs: 10_000, handshakeTimeoutMs: 10_000 } as const;

/** Checks the `mtls` option of a server; returns it with its defaults. */
export function checkServerMtls(where: string, options: ServerMtlsOptions): Required<ServerMtlsOptions> {
  checkKnownKeys(`${where} mtls`, options, SERVER_MTLS_KEYS);
  const identity = options.identity as MeshIdentity | undefined;
  if (typeof identity?.onChange !== 'function')
    throw invalidOption('mtls.identity', 'must be an identity (createIdentity of @weft/discovery)');
  if (options.mode !== undefined && options.mode !== 'PERMISSIVE' && options.mode !== 'STRICT')
    throw invalidOption('mtls.mode', 'must be PERMISSIVE or STRICT');
  for (const key of ['firstByteTimeoutMs', 'handshakeTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 600_000))
      throw invalidOption(`mtls.${key}`, 'must be an integer from 1 to 600000');
  }
  return {
    identity: options.identity,
    mode: options.mode ?? 'PERMISSIVE',
    firstByteTimeoutMs: options.firstByteTimeoutMs ?? SERVER_MTLS_DEFAULTS.firstByteTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? SERVER_MTLS_DEFAULTS.handshakeTimeoutMs,
  };
}

/** Where a sorted connection goes: the protocol's two sides, and its refusal of plaintext. */
export interface MtlsSides {
  /** A plaintext connection whose first bytes `first` were read from it already. */
  plaintext(socket: Socket, first: Buffer): void;
  /** A TLS connection, its first bytes put back: the protocol's TLS side does the handshake. */
  tls(socket: Socket): void;
  /** Refuses a plaintext connection in `STRICT` mode (its first bytes `first` read): answer and close. */
  refuse(socket: Socket, first: Buffer): void;
}

/** What a server's config source gives the front: the documents and word of their change. */
export interface MtlsConfigSource extends PeerAuthenticationSource {
  subscribe(listener: (event: { revision: number }) => void): () => void;
}

export interface MtlsCounts {
  mtls: number;
  plaintext: number;
  refused: number;
  handshakeFailed: number;
  timedOut: number;
}

const TLS_HANDSHAKE = 0x16;

function ignoreSocketError(): void {}

/** Sorts a server's connections into mTLS and plaintext. One per listener. */
export class MtlsFront {
  readonly options: Required<ServerMtlsOptions>;
  readonly counts: MtlsCounts = { mtls: 0, plaintext: 0, refused: 0, handshakeFailed: 0, timedOut: 0 };
  readonly #service: string | undefined;
  readonly #source: MtlsConfigSource | undefined;
  readonly #sides: MtlsSides;
  readonly #plaintext = new Set<Socket>();
  /** Connections not yet handed to a side as verified or plaintext: sorting, or in their handshake. */
  readonly #pending = new Set<Socket>();
  readonly #unsubscribe: () => void;
  readonly #connections = metrics
    .getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
    .createCounter('weft.server.connections', {
      description: 'Inbound connections by transport security (weft.tls: mtls, plaintext) and outcome.',
    });
  readonly #attributes = new Map<string, Record<string, string>>();
  #lastMode: MtlsMode;

  constructor(
    options: Required<ServerMtlsOptions>,
    service: string | undefined,
    source: MtlsConfigSource | undefined,
    sides: MtlsSides,
  ) {
    this.options = options;
    this.#service = service;
    this.#source = source;
    this.#sides = sides;
    this.#lastMode = this.mode();
    this.#unsubscribe = source?.subscribe(() => this.#modeChanged()) ?? (() => {});
  }

  /** The mode now: the floor in code, tightened by the config service's documents. */
  mode(): MtlsMode {
    if (this.options.mode === 'STRICT') return 'STRICT';
    return mtlsModeOf(this.#source, this.#service);
  }

  /** Sorts one accepted connection. */
  accept(socket: Socket): void {
    // A connection reset (by the client, or the network) while it is sorted, refused or in its
    // handshake must not be an uncaught error of the process; its consumer's own listeners still
    // run once it has one.
    socket.on('error', ignoreSocketError);
    this.#pending.add(socket);
    socket.once('close', () => this.#pending.delete(socket));
    const timer = setTimeout(() => {
      this.#count('timedOut', 'plaintext', 'first_byte_timeout');
      socket.destroy();
    }, this.options.firstByteTimeoutMs);
    timer.unref();
    const onClose = () => clearTimeout(timer);
    socket.once('close', onClose);
    socket.once('data', (first: Buffer) => {
      clearTimeout(timer);
      socket.off('close', onClose);
      socket.pause();
      if (first[0] === TLS_HANDSHAKE) {
        socket.unshift(first);
        this.#sides.tls(socket);
        return; // pending until the TLS side reports it verified, or it closes
      }
      this.#pending.delete(socket);
      if (this.mode() === 'STRICT') {
        this.#count('refused', 'plaintext', 'refused');
        this.#sides.refuse(socket, first);
      } else {
        this.#count('plaintext', 'plaintext', 'accepted');
        this.#plaintext.add(socket);
        socket.once('close', () => this.#plaintext.delete(socket));
        this.#sides.plaintext(socket, first);
      }
    });
  }

  /** A TLS side reports a verified connection (`socket`: the raw one the front sorted). */
  accepted(socket?: Socket): void {
    if (socket !== undefined) this.#pending.delete(socket);
    this.#count('mtls', 'mtls', 'accepted');
  }

  /** A TLS side reports a failed handshake (no, an unverified or an expired client certificate, …). */
  handshakeFailed(): void {
    this.#count('handshakeFailed', 'mtls', 'handshake_failed');
  }

  describe() {
    return {
      mode: this.mode(),
      floor: this.options.mode,
      connections: { ...this.counts, plaintextOpen: this.#plaintext.size },
    };
  }

  /** Closes the connections still being sorted or in their handshake (the server is closing). */
  destroyPending(): void {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
  }

  close(): void {
    this.#unsubscribe();
  }

  #modeChanged(): void {
    const mode = this.mode();
    if (mode === this.#lastMode) return;
    this.#lastMode = mode;
    if (mode !== 'STRICT') return;
    for (const socket of this.#plaintext) socket.destroy();
    this.#plaintext.clear();
  }

  #count(field: keyof MtlsCounts, tls: string, outcome: string): void {
    this.counts[field]++;
    const key = `${tls}/${outcome}`;
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) {
      attributes = { 'weft.tls': tls, 'weft.outcome': outcome };
      if (this.#service !== undefined) attributes['weft.service'] = this.#service;
      this.#attributes.set(key, attributes);
    }
    this.#connections.add(1, attributes);
  }
}
