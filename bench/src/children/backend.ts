/**
 * A backend process: one plain node:http server per endpoint spec, each on 127.0.0.1 port 0.
 * argv[2] is JSON `{ endpoints: [{ delayMs?, status?, name? }] }`. Prints `{ ports }` when listening.
 * `GET /__stats` on any port answers `{ requests: [per endpoint] }` (not counted itself). An endpoint
 * with a `name` says it in an `x-backend` response header, so a client can tell who answered.
 * With `mtls: { key, cert, ca }` (PEM) each server also serves mTLS on its port through Weft
 * (`serveMtls`, PERMISSIVE: plaintext too), with that fixed certificate.
 */
import { createServer, type Server } from 'node:http';
import { serveMtls } from '@weft/http';

interface Spec {
  delayMs?: number;
  status?: number;
  name?: string;
}

interface Mtls {
  key: string;
  cert: string;
  ca: string;
}

const config = JSON.parse(process.argv[2] ?? '{"endpoints":[{}]}') as { endpoints: Spec[]; mtls?: Mtls };
const identity = config.mtls && {
  credentials: {
    key: config.mtls.key,
    certificate: config.mtls.cert,
    chain: [],
    spiffeId: 'spiffe://weft.local/service/bench',
    notAfter: new Date(Date.now() + 86_400_000),
    trustBundle: { trustDomain: 'weft.local', certificates: [config.mtls.ca], generation: 1 },
  },
  onChange: () => () => {},
};
const counts = config.endpoints.map(() => 0);
const BODY = Buffer.from('ok');
const servers: Server[] = [];

function listen(spec: Spec, index: number): Promise<number> {
  const delay = spec.delayMs ?? 0;
  const status = spec.status ?? 200;
  const headers: Record<string, string> = {
    'content-type': 'text/plain',
    'content-length': String(BODY.length),
  };
  if (spec.name !== undefined) headers['x-backend'] = spec.name;
  const server = createServer((req, res) => {
    if (req.url === '/__stats') {
      res.end(JSON.stringify({ requests: counts }));
      return;
    }
    counts[index]!++;
    req.resume();
    if (delay > 0)
      setTimeout(() => {
        res.writeHead(status, headers);
        res.end(BODY);
      }, delay);
    else {
      res.writeHead(status, headers);
      res.end(BODY);
    }
  });
  if (identity) serveMtls(server, { identity });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

const ports = await Promise.all(config.endpoints.map((s, i) => listen(s, i)));
process.stdout.write(`${JSON.stringify({ ports })}\n`);
// The parent closing our stdin (or dying) ends us.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => {
  for (const s of servers) s.closeAllConnections();
  process.exit(0);
});
