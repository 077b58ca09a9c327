/**
 * The TLS side of a server that `node:tls` terminates (HTTP): a `tls.Server` that never listens, fed
 * the connections the front sorted as TLS. It requires a client certificate and verifies it against
 * the trust bundle (an expired one, one of another CA, or none fails the handshake), and its secure
 * context follows the identity: a renewed certificate or a rotated bundle applies to the next
 * handshake, while connections already open keep theirs — none is dropped.
 */
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { MeshCredentials, MeshIdentity } from './credentials.ts';
import { tlsMaterial } from './credentials.ts';

export interface TlsTerminatorOptions {
  readonly handshakeTimeoutMs: number;
  /** ALPN protocols offered, most preferred first. Defaults to `http/1.1`. */
  readonly alpn?: readonly string[];
  /** Whether the verified socket is half-open (an HTTP server's are). Defaults to false. */
  readonly allowHalfOpen?: boolean;
  /** A handshake verified: `socket` now speaks the protocol in clear; `raw` is the connection under it. */
  readonly secure: (socket: TLSSocket, raw: Socket | undefined) => void;
  /** A handshake failed (the socket is destroyed). */
  readonly failed: (error: Error) => void;
}

export class TlsTerminator {
  readonly #identity: MeshIdentity;
  readonly #options: TlsTerminatorOptions;
  readonly #stop: () => void;
  #server: Server | undefined;
  #installed: MeshCredentials | undefined;
  /** Raw connections in their handshake, by peer address and port (the TLS socket over one has the same). */
  readonly #handshaking = new Map<string, Socket>();

  constructor(identity: MeshIdentity, options: TlsTerminatorOptions) {
    this.#identity = identity;
    this.#options = options;
    this.#stop = identity.onChange(() => this.#refresh());
  }

  /** Runs the handshake of a connection sorted as TLS (its first bytes put back). */
  handshake(socket: Socket): void {
    const server = this.#current();
    if (server === undefined) {
      this.#options.failed(new Error('no certificate yet: TLS connection closed'));
      socket.destroy();
      return;
    }
    // An HTTP server's sockets are half-open, which the TLS socket inherits: a client that hangs up
    // during the handshake (refusing our certificate) would then wait out the handshake timeout.
    // Half-open applies again once the handshake is done (see `secure` below).
    socket.allowHalfOpen = false;
    const key = peerKey(socket);
    this.#handshaking.set(key, socket);
    socket.once('close', () => {
      if (this.#handshaking.get(key) === socket) this.#handshaking.delete(key);
    });
    server.emit('connection', socket);
  }

  close(): void {
    this.#stop();
  }

  #current(): Server | undefined {
    if (this.#server === undefined && this.#identity.credentials !== undefined) {
      const credentials = this.#identity.credentials;
      const server = createServer({
        ...this.#context(credentials),
        requestCert: true,
        rejectUnauthorized: true,
        handshakeTimeout: this.#options.handshakeTimeoutMs,
        ALPNProtocols: [...(this.#options.alpn ?? ['http/1.1'])],
      });
      server.on('secureConnection', (socket: TLSSocket) => {
        socket.allowHalfOpen = this.#options.allowHalfOpen ?? false;
        const key = peerKey(socket);
        const raw = this.#handshaking.get(key);
        this.#handshaking.delete(key);
        this.#options.secure(socket, raw);
      });
      server.on('tlsClientError', (error, socket) => {
        this.#options.failed(error);
        socket.destroy();
      });
      this.#server = server;
      this.#installed = credentials;
    }
    return this.#server;
  }

  #refresh(): void {
    const credentials = this.#identity.credentials;
    if (this.#server === undefined || credentials === undefined || credentials === this.#installed) return;
    this.#server.setSecureContext(this.#context(credentials));
    this.#installed = credentials;
  }

  #context(credentials: MeshCredentials) {
    const material = tlsMaterial(credentials);
    return { key: material.key, cert: material.cert, ca: [...material.ca] };
  }
}

const peerKey = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
