/**
 * A Kubernetes API server stand-in on 127.0.0.1 (real HTTP, port 0) that serves recorded
 * EndpointSlice responses: LIST answers come from a queue of list bodies (the last one repeats), and
 * each WATCH is held open while the test releases recorded events onto it one line at a time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly url: URL;
  readonly authorization: string | undefined;
}

export class RecordedApiServer {
  readonly requests: SeenRequest[] = [];
  readonly #lists: unknown[];
  readonly #events: string[];
  #watch: ServerResponse | undefined;
  #watchWaiters: (() => void)[] = [];
  #server: Server;
  url = '';

  /** With `tls`, the server speaks HTTPS, as a real API server does. */
  constructor(lists: unknown[], events: string[], tls?: { key: string; cert: string }) {
    this.#lists = [...lists];
    this.#events = [...events];
    const handler = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res);
    this.#server = tls ? createTlsServer(tls, handler) : createServer(handler);
    this.scheme = tls ? 'https' : 'http';
  }

  readonly scheme: 'http' | 'https';

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.url = `${this.scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests of one kind (`list` or `watch`). */
  seen(kind: 'list' | 'watch'): SeenRequest[] {
    return this.requests.filter((r) => (r.url.searchParams.get('watch') === 'true') === (kind === 'watch'));
  }

  /** Waits for an open watch, then writes the next `count` recorded events to it. An ERROR event ends the watch, as the API server does. */
  async release(count = 1): Promise<void> {
    for (let i = 0; i < count; i++) {
      const res = await this.#openWatch();
      const line = this.#events.shift();
      if (line === undefined) throw new Error('no recorded events left');
      res.write(`${line}\n`);
      if (JSON.parse(line).type === 'ERROR') {
        this.#watch = undefined;
        res.end();
      }
    }
  }

  /** Writes a watch event built by the test. */
  async send(event: unknown): Promise<void> {
    (await this.#openWatch()).write(`${JSON.stringify(event)}\n`);
  }

  /** Ends the current watch (like the server's watch timeout). */
  async endWatch(): Promise<void> {
    const res = await this.#openWatch();
    this.#watch = undefined;
    res.end();
  }

  async close(): Promise<void> {
    this.#watch?.end();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #openWatch(): Promise<ServerResponse> {
    const res = this.#watch;
    if (res) return Promise.resolve(res);
    return new Promise((resolve) => this.#watchWaiters.push(() => resolve(this.#watch!)));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requests.push({ url, authorization: req.headers.authorization });
    if (url.pathname !== '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 404, message: `no route ${url.pathname}` }));
      return;
    }
    if (url.searchParams.get('labelSelector') !== 'kubernetes.io/service-name=web') {
      res.writeHead(400).end();
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.#watch = res;
      const waiters = this.#watchWaiters;
      this.#watchWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const body = this.#lists.length > 1 ? this.#lists.shift() : this.#lists[0];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
