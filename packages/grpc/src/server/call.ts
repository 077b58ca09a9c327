/**
 * One inbound gRPC call as the server stack sees it (its metadata, the deadline grpc-js carries),
 * the gRPC terminal (the bottom of the stack: hand the metadata on to the handler), and how a call's
 * final status maps to the stack's outcomes.
 */
import { type Metadata, type ServerInterceptingCallInterface, status as Status } from '@grpc/grpc-js';
import { type PeerIdentity, peerFromCertificate, ServerCall, type ServerOutcome } from '@weft/core';

export class GrpcServerCall extends ServerCall {
  readonly metadata: Metadata;
  /** The next call in grpc-js's chain: refusals are sent on it, below Weft's own interceptor. */
  readonly inner: ServerInterceptingCallInterface;
  /** `pkg.Service`, from the method path. */
  readonly service: string;
  /** `Method`, from the method path. */
  readonly rpcMethod: string;
  readonly #nextMetadata: (metadata: Metadata) => void;

  constructor(
    path: string,
    metadata: Metadata,
    inner: ServerInterceptingCallInterface,
    nextMetadata: (metadata: Metadata) => void,
    start: number,
  ) {
    super(path, path, start);
    this.metadata = metadata;
    this.inner = inner;
    this.#nextMetadata = nextMetadata;
    const slash = path.lastIndexOf('/');
    this.service = path.slice(1, slash);
    this.rpcMethod = path.slice(slash + 1);
  }

  header(name: string): string | string[] | undefined {
    const values = this.metadata.get(name);
    if (values.length === 0) return undefined;
    return values.length === 1 ? String(values[0]) : values.map(String);
  }

  headerNames(): string[] {
    return Object.keys(this.metadata.getMap());
  }

  /**
   * The verified client certificate's SPIFFE ID, from grpc-js's auth context (set only when the
   * TLS handshake verified the certificate); never from metadata.
   */
  protected override readPeer(): PeerIdentity | undefined {
    const auth = this.inner.getAuthContext?.();
    if (auth?.transportSecurityType !== 'ssl') return undefined;
    const cert = auth.sslPeerCertificate;
    if (cert === undefined) return undefined;
    return peerOfCertificate(cert);
  }

  /** gRPC's own deadline (`grpc-timeout`), as grpc-js read it. */
  override transportRemainingMs(): number {
    const native = this.inner.getDeadline();
    const at = native instanceof Date ? native.getTime() : native;
    return Number.isFinite(at) ? at - Date.now() : Number.POSITIVE_INFINITY;
  }

  /** Hands the metadata on: the handler starts. */
  proceed(): void {
    this.started = true;
    this.#nextMetadata(this.metadata);
  }
}

// grpc-js makes a new certificate object per call: the last identity is kept by fingerprint, so a
// connection's calls parse its certificate once.
let lastFingerprint: string | undefined;
let lastPeer: PeerIdentity | undefined;

function peerOfCertificate(cert: {
  fingerprint256?: string;
  subjectaltname?: string;
}): PeerIdentity | undefined {
  const fingerprint = cert.fingerprint256;
  if (fingerprint !== undefined && fingerprint === lastFingerprint) return lastPeer;
  const peer = peerFromCertificate(cert);
  lastFingerprint = fingerprint;
  lastPeer = peer;
  return peer;
}

/** The bottom of the gRPC server stack. */
export function grpcTerminal(call: ServerCall): void {
  (call as GrpcServerCall).proceed();
}

/**
 * The codes that blame the server (the semantic conventions' error codes of a gRPC server span);
 * the others (NOT_FOUND, INVALID_ARGUMENT, …) blame the caller, like an HTTP 4xx.
 */
const SERVER_FAULTS: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** gRPC's outcomes: DEADLINE_EXCEEDED → expired; a server fault → failure; else success. */
export function outcomeOf(code: number): ServerOutcome {
  if (code === Status.DEADLINE_EXCEEDED) return 'expired';
  return SERVER_FAULTS.has(code) ? 'failure' : 'success';
}

/** True when a status is an error on the server span (`error.type` set). */
export function isServerError(code: number): boolean {
  return code === Status.DEADLINE_EXCEEDED || SERVER_FAULTS.has(code);
}
