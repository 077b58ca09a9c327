/**
 * One inbound HTTP request as the server stack sees it, on Node's own request and response objects
 * (so Express and Fastify behave the same), and the HTTP terminal: the bottom of the stack, which
 * starts tracking the response and hands the request to the framework's next middleware or hook.
 *
 * When the response head is written, a 5xx of a handler whose downstream calls gave up on retries
 * gets `weft-no-retry: 1`, so the caller does not retry (no retry amplification across hops); while
 * draining, HTTP/1.1 responses get `connection: close`. When the response closes, the call ends:
 * every module's finisher runs (the permit returns, the span ends, the duration is recorded).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Clock,
  type DrainState,
  Header,
  type PeerIdentity,
  peerOfSocket,
  ServerCall,
  type ServerOutcome,
} from '@weft/core';
import { type Reply, replyHeaders } from './replies.ts';

/** What a call needs of its server runtime. */
export interface HttpServerHost {
  readonly options: { readonly clock: Clock };
  readonly drainState: DrainState;
}

const kCall = Symbol('weft.server.call');

type TrackedResponse = ServerResponse & { [kCall]?: HttpServerCall | undefined };

export abstract class HttpServerCall extends ServerCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly host: HttpServerHost;
  /** The framework's continuation: Express's `next`, Fastify's hook `done`. */
  readonly next: () => void;
  /** The response's own `writeHead`, while Weft tracks the response. */
  writeHead: ServerResponse['writeHead'] | undefined;

  constructor(host: HttpServerHost, req: IncomingMessage, res: ServerResponse, next: () => void) {
    super(req.method ?? 'GET', req.url ?? '/', host.options.clock.now());
    this.host = host;
    this.req = req;
    this.res = res;
    this.next = next;
  }

  header(name: string): string | string[] | undefined {
    return this.req.headers[name];
  }

  headerNames(): string[] {
    return Object.keys(this.req.headers);
  }

  /** The verified client certificate's SPIFFE ID (read once per TLS connection); never a header. */
  protected override readPeer(): PeerIdentity | undefined {
    // HTTP/2: each stream's `socket` is a proxy of its own, the session's is one per connection.
    const session = (this.req as { stream?: { session?: { socket?: object } } }).stream?.session;
    return peerOfSocket(session?.socket ?? this.req.socket);
  }

  /** Writes a reply Weft made itself (a refusal), through the framework when it has its own API. */
  abstract send(reply: Reply): void;
}

/** The call a tracked response belongs to (Express's route limits are checked after the terminal). */
export function callOf(res: ServerResponse): HttpServerCall | undefined {
  return (res as TrackedResponse)[kCall];
}

/** The bottom of the HTTP server stack: track the response, then run the framework's next step. */
export function httpTerminal(c: ServerCall): void {
  const call = c as HttpServerCall;
  const res = call.res as TrackedResponse;
  res[kCall] = call;
  call.writeHead = res.writeHead;
  res.writeHead = writeHeadWithMarkers as ServerResponse['writeHead'];
  res.once('close', onResponseClose);
  call.started = true;
  call.next();
}

/** Writes `reply` on the raw response (Express, and any `node:http` handler). */
export function sendRaw(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, replyHeaders(reply, res.req?.httpVersionMajor));
  res.end(res.req?.method === 'HEAD' ? undefined : reply.body);
}

/** `res.writeHead` while Weft tracks the response: adds the markers, then writes as before. */
function writeHeadWithMarkers(this: TrackedResponse, statusCode: number, ...rest: unknown[]): ServerResponse {
  const call = this[kCall];
  if (call && !this.headersSent) {
    if (statusCode >= 500 && call.ctx?.downstreamExhausted) this.setHeader(Header.noRetry, '1');
    // HTTP/1.1 only: HTTP/2 forbids the header (the session's GOAWAY at close does its work there).
    if (!call.host.drainState.ready && this.req?.httpVersionMajor !== 2)
      this.setHeader('connection', 'close');
  }
  const write = call?.writeHead ?? Object.getPrototypeOf(this).writeHead;
  return write.call(this, statusCode, ...rest);
}

/** The response is done or abandoned: the call ends, with its outcome. */
function onResponseClose(this: TrackedResponse): void {
  const call = this[kCall];
  if (!call) return;
  this[kCall] = undefined;
  const finished = this.writableFinished;
  if (!finished) call.ctx?.cancel('the client closed the connection before the response was done');
  const status = this.statusCode;
  call.finish(outcomeOf(finished, status), status, call.host.options.clock.now());
}

/** HTTP's outcomes: cut off → cancelled; 504 → expired; other 5xx → failure; else success. */
function outcomeOf(finished: boolean, status: number): ServerOutcome {
  if (!finished) return 'cancelled';
  if (status === 504) return 'expired';
  return status >= 500 ? 'failure' : 'success';
}
