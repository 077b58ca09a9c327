/**
 * One port that serves a grpc-js server over mTLS and plaintext at once (the server option `mtls`).
 * Weft binds the `net.Server` itself and sorts each connection by its first byte (core's
 * `MtlsFront`); grpc-js then gets the connection through a connection injector
 * (`Server.createConnectionInjector`), so its HTTP/2 sessions, handlers, interceptors and shutdown
 * are the ones of any bound port:
 *
 * - TLS: core's `TlsTerminator` runs the handshake (client certificate required and verified
 *   against the trust bundle; the secure context follows the identity, so a renewal or a rotated
 *   bundle applies to the next handshake and no connection is dropped), and hands the decrypted
 *   socket to an injector. grpc-js sees a `TLSSocket` and puts the verified certificate in the
 *   call's auth context, where the server stack reads the peer. The terminator, rather than
 *   grpc-js's certificate-provider server credentials, does the handshake so that the front counts
 *   verified and failed handshakes and the `handshakeTimeoutMs` option applies.
 * - Plaintext (`PERMISSIVE`): its first bytes are put back and the socket goes to a second injector.
 * - Plaintext in `STRICT` mode: answered with an HTTP/2 GOAWAY (`INADEQUATE_SECURITY`, as RFC 9113
 *   §9.2.1 names a refusal on security grounds) and closed; nothing of it is parsed, no handler runs.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { ServerCredentials } from '@grpc/grpc-js';
import { type MtlsConfigSource, MtlsFront, type ServerMtlsOptions, TlsTerminator } from '@weft/core';

type Injector = ReturnType<Server['createConnectionInjector']>;

/** An empty SETTINGS frame (the server's connection preface), then GOAWAY: last stream 0, INADEQUATE_SECURITY. */
const DEBUG = Buffer.from('mTLS required (PeerAuthentication STRICT): plaintext refused');
const REFUSAL = Buffer.concat([
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
  Buffer.from([0, 0, 8 + DEBUG.length, 0x07, 0, 0, 0, 0, 0]),
  Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x0c]),
  DEBUG,
]);
/** How long a refused connection may stay open for its peer to read the GOAWAY, in ms. */
const REFUSAL_LINGER_MS = 1000;

/** Where to bind: `host:port` or `[v6]:port`. */
export function parseBindAddress(address: string): { host: string; port: number } | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = address.slice(0, colon);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return undefined;
    host = host.slice(1, -1);
  }
  const text = address.slice(colon + 1);
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65_535 || host.length === 0) return undefined;
  return { host, port };
}

export class GrpcMtlsListener {
  readonly front: MtlsFront;
  readonly #net: NetServer;
  readonly #terminator: TlsTerminator;
  readonly #plaintext: Injector;
  readonly #tls: Injector;
  #closed = false;

  constructor(
    server: Server,
    options: Required<ServerMtlsOptions>,
    service: string | undefined,
    config: MtlsConfigSource | undefined,
  ) {
    this.#plaintext = server.createConnectionInjector(ServerCredentials.createInsecure());
    this.#tls = server.createConnectionInjector(ServerCredentials.createInsecure());
    this.#terminator = new TlsTerminator(options.identity, {
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      alpn: ['h2'],
      secure: (socket, raw) => {
        this.front.accepted(raw);
        this.#tls.injectConnection(socket);
      },
      failed: () => this.front.handshakeFailed(),
    });
    this.front = new MtlsFront(options, service, config, {
      plaintext: (socket, first) => {
        // grpc-js's HTTP/2 session reads what the socket has buffered first: the bytes read to sort it.
        socket.unshift(first);
        this.#plaintext.injectConnection(socket);
      },
      tls: (socket) => this.#terminator.handshake(socket),
      refuse,
    });
    this.#net = createServer((socket) => this.#accept(socket));
  }

  /** Binds `host:port` and resolves with the port; a port that cannot be bound closes the listener. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const net = this.#net;
      const failed = (error: Error) => {
        this.close(true);
        reject(error);
      };
      net.once('error', failed);
      net.listen(port, host, () => {
        net.off('error', failed);
        // Later errors are failed accepts (out of file descriptors): the server keeps listening.
        net.on('error', ignore);
        resolve((net.address() as { port: number }).port);
      });
    });
  }

  /**
   * Stops accepting and closes what grpc-js does not own yet: connections not sorted or still in
   * their handshake. The injectors' sessions close with the grpc-js server (`tryShutdown` lets their
   * calls finish, `forceShutdown` cuts them); `force` also closes them here.
   */
  close(force: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#net.close();
    this.front.destroyPending();
    this.front.close();
    this.#terminator.close();
    if (force) {
      this.#plaintext.destroy();
      this.#tls.destroy();
    }
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.front.accept(socket);
  }
}

function ignore(): void {}

function refuse(socket: Socket): void {
  // Read and drop what the client sends, so that closing does not reset the connection before the
  // client has read the GOAWAY.
  socket.resume();
  socket.setTimeout(REFUSAL_LINGER_MS, () => socket.destroy());
  socket.end(REFUSAL);
}
