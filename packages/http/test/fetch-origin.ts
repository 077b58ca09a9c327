/**
 * The origin server of the fetch conformance cases: one route per behaviour, on 127.0.0.1 (HTTP/1.1)
 * and, for the HTTP/2 case, a cleartext HTTP/2 server.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export const TEXT = 'héllo wörld, '.repeat(50);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {
  '/text': (_req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(TEXT);
  },
  '/status': (_req, res) => {
    res.writeHead(418, 'I Am A Teapot', { 'x-reason': 'teapot' });
    res.end('short and stout');
  },
  '/cookies': (_req, res) => {
    res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
    res.setHeader('x-multi', ['one', 'two']);
    // Latin-1 bytes, and UTF-8 bytes: fetch reads header bytes as Latin-1 (a "byte string").
    res.setHeader('x-latin1', 'caf\u00e9');
    res.setHeader('x-utf8', Buffer.from('grüße', 'utf8').toString('latin1'));
    res.end('cookies');
  },
  '/gzip': (_req, res) => {
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync(TEXT));
  },
  '/br': (_req, res) => {
    res.setHeader('content-encoding', 'br');
    res.end(brotliCompressSync(TEXT));
  },
  '/deflate': (_req, res) => {
    res.setHeader('content-encoding', 'deflate');
    res.end(deflateSync(TEXT));
  },
  '/gzip-deflate': (_req, res) => {
    res.setHeader('content-encoding', 'deflate, gzip');
    res.end(gzipSync(deflateSync(TEXT)));
  },
  '/bad-gzip': (_req, res) => {
    res.setHeader('content-encoding', 'gzip');
    res.end('this is not gzip at all');
  },
  '/unknown-coding': (_req, res) => {
    res.setHeader('content-encoding', 'x-weft');
    res.end('left as sent');
  },
  '/early-hints': (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    setTimeout(() => {
      res.setHeader('x-final', 'yes');
      res.end('after hints');
    }, 20);
  },
  '/processing': (_req, res) => {
    res.writeProcessing();
    setTimeout(() => res.end('after 102'), 20);
  },
  '/no-content': (_req, res) => {
    res.statusCode = 204;
    res.setHeader('x-empty', '1');
    res.end();
  },
  '/etag': (req, res) => {
    res.setHeader('etag', '"v1"');
    if (req.headers['if-none-match'] === '"v1"') {
      res.statusCode = 304;
      res.end();
    } else res.end('fresh');
  },
  '/head': (_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('content-length', '11');
    res.end(_req.method === 'HEAD' ? undefined : 'hello there');
  },
  '/trailers': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('part one, ');
    res.write('part two');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end();
  },
  '/truncated': (req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('only twenty bytes...');
    setTimeout(() => req.socket.destroy(), 20);
  },
  '/reset': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk');
    setTimeout(() => (req.socket as Socket).resetAndDestroy(), 20);
  },
  '/slow': (_req, res) => {
    res.writeHead(200);
    res.write('first');
    const timer = setTimeout(() => res.end('never'), 10_000);
    res.on('close', () => clearTimeout(timer));
  },
  '/hang': (_req, res) => {
    const timer = setTimeout(() => res.end('late'), 10_000);
    res.on('close', () => clearTimeout(timer));
  },
  '/echo': async (req, res) => {
    const body = await readBody(req);
    const type = req.headers['content-type'] ?? '-';
    const boundary = /boundary=(.+)$/.exec(type)?.[1];
    const text = boundary ? body.toString('latin1').replaceAll(boundary, 'B') : body.toString('latin1');
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        type: boundary ? type.replace(boundary, 'B') : type,
        length: req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? 'chunked' : 'none'),
        body: text,
      }),
    );
  },
  '/echo-headers': (req, res) => {
    const sent: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (/^(x-|host$|accept|sec-fetch-mode$)/i.test(name)) sent.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    res.end(sent.join('\n'));
  },
};

function redirect(req: IncomingMessage, res: ServerResponse): boolean {
  const m = /^\/redirect\/(\d{3})(?:\/(\d+))?$/.exec(req.url ?? '');
  if (!m) return false;
  const status = Number(m[1]);
  const hops = Number(m[2] ?? 1);
  res.statusCode = status;
  res.setHeader('location', hops > 1 ? `/redirect/${status}/${hops - 1}` : '/echo');
  // Drain the request body first, so the connection stays usable.
  req.resume();
  req.on('end', () => res.end('moved'));
  return true;
}

export interface Origin {
  readonly port: number;
  readonly h2Port: number;
  close(): Promise<void>;
}

export async function startOrigin(): Promise<Origin> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (redirect(req, res)) return;
    const route = routes[path];
    if (!route) {
      res.statusCode = 404;
      res.end('no route');
      return;
    }
    Promise.resolve(route(req, res)).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const h2: Http2Server = createH2Server((req, res) => {
    res.setHeader('x-protocol', req.httpVersion);
    res.setHeader('set-cookie', ['h=1', 'h=2']);
    res.end(`h2 says ${req.url}`);
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    h2Port: (h2.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => h2.close(r))]);
    },
  };
}
