/**
 * mTLS for an HTTP server (Express or Fastify) on its own port: the server's `connection` listeners
 * are moved behind Weft's front, which sorts each connection by its first byte. TLS connections are
 * terminated here (client certificate required and verified, secure context following the
 * identity) and handed to the HTTP server decrypted, as an `https` server would; plaintext ones go
 * to it as they came in `PERMISSIVE` mode and get a 403 in `STRICT` mode, before any parsing.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  checkKnownKeys,
  checkServerMtls,
  ErrorCode,
  invalidOption,
  type MtlsConfigSource,
  MtlsFront,
  SERVER_MTLS_KEYS,
  type ServerMtlsOptions,
  TlsTerminator,
  WeftError,
} from '@weft/core';

const REFUSAL_BODY = 'this server accepts only mTLS (mode STRICT): plaintext refused\n';
const REFUSAL = [
  'HTTP/1.1 403 Forbidden',
  'content-type: text/plain; charset=utf-8',
  `content-length: ${Buffer.byteLength(REFUSAL_BODY)}`,
  'weft-no-retry: 1',
  'connection: close',
  '',
  REFUSAL_BODY,
].join('\r\n');

type ConnectionListener = (this: Server, socket: Socket) => void;

/** The front installed on an HTTP server, for `describe()` and close. */
export interface HttpMtls {
  readonly front: MtlsFront;
  close(): void;
}

/** The options of {@link serveMtls}: the servers' `mtls` option, and what the middleware would know. */
export interface ServeMtlsOptions extends ServerMtlsOptions {
  /** The service the server is: whose `PeerAuthentication` sets its mode. Defaults to none (the mesh's). */
  service?: string;
  /** The config service (a `ConfigClient`), followed live for the mode. Defaults to none (the floor `mode`). */
  config?: MtlsConfigSource;
}

/**
 * Serves mTLS beside plaintext on a plain `node:http` server that Weft's middleware does not wrap
 * (Express and Fastify servers get it from the `mtls` option). Call it before the server accepts
 * connections (right after `listen()`). The caller's certificate is on `req.socket`
 * (`getPeerCertificate()`, verified when `authorized`).
 */
export function serveMtls(server: Server, options: ServeMtlsOptions): HttpMtls {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('serveMtls', 'options must be { identity, mode?, service?, config? }');
  const { service, config, ...mtls } = options;
  checkKnownKeys('serveMtls', options, { ...SERVER_MTLS_KEYS, service: true, config: true });
  if (config !== undefined && typeof config.peerAuthentication !== 'function')
    throw invalidOption('config', 'must be a ConfigClient (createConfigClient)');
  return installMtls(server, checkServerMtls('serveMtls', mtls), service, config);
}

/** Puts the server's connections behind an mTLS front. */
export function installMtls(
  server: Server,
  mtls: Required<ServerMtlsOptions>,
  service: string | undefined,
  source: MtlsConfigSource | undefined,
): HttpMtls {
  if ((server as { encrypted?: unknown }).encrypted !== undefined || 'setSecureContext' in server)
    throw new WeftError(
      ErrorCode.InvalidOption,
      'mtls: the server is already an https server; give Weft a plain http server and it serves TLS itself',
    );
  const listeners = server.listeners('connection') as ConnectionListener[];
  if (listeners.length === 0)
    throw new WeftError(
      ErrorCode.InvalidOption,
      'mtls: the server has no connection listener (not a node:http server?)',
    );
  const handOver = (socket: Socket) => {
    for (const listener of listeners) listener.call(server, socket);
  };
  const terminator = new TlsTerminator(mtls.identity, {
    handshakeTimeoutMs: mtls.handshakeTimeoutMs,
    allowHalfOpen: true,
    secure: (socket: TLSSocket, raw) => {
      front.accepted(raw);
      handOver(socket);
    },
    failed: () => front.handshakeFailed(),
  });
  const front: MtlsFront = new MtlsFront(mtls, service, source, {
    plaintext(socket, first) {
      handOver(socket);
      // The HTTP parser reads what follows from the socket; the bytes read to sort it come first.
      socket.emit('data', first);
      socket.resume();
    },
    tls: (socket) => terminator.handshake(socket),
    refuse(socket) {
      socket.end(REFUSAL);
      socket.resume(); // drains what the client still sends, so that the answer is read
    },
  });
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => front.accept(socket));
  // Closing the server (which closes idle connections first) also closes the connections still
  // being sorted or in their handshake: they are idle, and `close` would otherwise wait for them.
  const closeIdle = server.closeIdleConnections;
  server.closeIdleConnections = function closeIdleConnections(this: Server) {
    front.destroyPending();
    closeIdle.call(this);
  };
  server.once('close', () => {
    front.close();
    terminator.close();
  });
  return {
    front,
    close() {
      front.close();
      terminator.close();
    },
  };
}
