/**
 * HAProxy as a sidecar pair on loopback: a client-side proxy (what the caller's sidecar does:
 * round robin over the server pods' sidecars, retries, redispatch) and a server-side proxy (what each
 * server pod's sidecar does: forward to its local app). Both keep connections alive on both legs and
 * reuse them (`http-reuse always`), one thread each, as a small sidecar would run. The server-side
 * process holds one frontend per backend endpoint — several sidecars folded into one process, which
 * if anything favours the proxies (fewer processes competing for the cores).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killChild, startPlain } from './proc.ts';

/** Finds haproxy; when missing and running as root, installs Debian's package (saying so). */
export function ensureHaproxy(log: (m: string) => void): string | undefined {
  const found = which('haproxy');
  if (found) return found;
  if (process.getuid?.() !== 0) {
    log('haproxy is not installed and the bench is not root: install it with `apt-get install -y haproxy`');
    return undefined;
  }
  log('haproxy is not installed: running apt-get update && apt-get install -y haproxy (as root)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 180_000 });
  if (update.status !== 0) log('apt-get update failed; trying the install anyway');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'haproxy'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
    timeout: 300_000,
  });
  if (install.status !== 0) {
    log('apt-get install haproxy failed');
    return undefined;
  }
  return which('haproxy');
}

function which(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const r = spawnSync('test', ['-x', join(dir, name)]);
    if (r.status === 0) return join(dir, name);
  }
  return undefined;
}

export function haproxyVersion(bin: string): string {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return r.stdout.split('\n')[0]?.trim() ?? 'unknown';
}

/** A free loopback port (HAProxy cannot report one it picked itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const DEFAULTS = `defaults
  mode http
  option http-keep-alive
  http-reuse always
  retries 3
  option redispatch
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  timeout queue 10s
`;

const GLOBAL = `global
  nbthread 1
  maxconn 4000
`;

export interface SidecarPair {
  /** Where the client sends: the client-side proxy. */
  readonly port: number;
  /** Process ids of both proxies. */
  readonly pids: number[];
  close(): Promise<void>;
}

/** Certificates for a pair doing mutual TLS between its two proxies (PEM). */
export interface PairTls {
  readonly ca: string;
  /** The client-side proxy's certificate and key. */
  readonly client: { cert: string; key: string };
  /** The server-side proxy's certificate and key. */
  readonly server: { cert: string; key: string };
}

/**
 * Starts the pair; with `tls`, the leg between the proxies is mutual TLS (each side presents its
 * certificate and verifies the other's against the CA), as a sidecar mesh's mTLS is.
 */
export async function startSidecarPair(
  bin: string,
  backendPorts: readonly number[],
  tls?: PairTls,
): Promise<SidecarPair> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-haproxy-'));
  if (tls) {
    await writeFile(join(dir, 'ca.pem'), tls.ca);
    await writeFile(join(dir, 'client.pem'), `${tls.client.cert.trim()}\n${tls.client.key.trim()}\n`);
    await writeFile(join(dir, 'server.pem'), `${tls.server.cert.trim()}\n${tls.server.key.trim()}\n`);
  }
  const bindTls = tls
    ? ` ssl crt ${join(dir, 'server.pem')} ca-file ${join(dir, 'ca.pem')} verify required`
    : '';
  const serverTls = tls
    ? ` ssl crt ${join(dir, 'client.pem')} ca-file ${join(dir, 'ca.pem')} verify required verifyhost localhost`
    : '';
  const serverSide = await Promise.all(backendPorts.map(() => freePort()));
  const clientPort = await freePort();
  const serverCfg = [
    GLOBAL,
    DEFAULTS,
    ...backendPorts.map(
      (p, i) => `frontend pod${i}
  bind 127.0.0.1:${serverSide[i]}${bindTls}
  default_backend app${i}
backend app${i}
  balance roundrobin
  server app 127.0.0.1:${p} maxconn 1000
`,
    ),
  ].join('\n');
  const clientCfg = [
    GLOBAL,
    DEFAULTS,
    `frontend egress
  bind 127.0.0.1:${clientPort}
  default_backend pods
backend pods
  balance roundrobin
${serverSide.map((p, i) => `  server pod${i} 127.0.0.1:${p} maxconn 1000${serverTls}`).join('\n')}
`,
  ].join('\n');
  await writeFile(join(dir, 'server.cfg'), serverCfg);
  await writeFile(join(dir, 'client.cfg'), clientCfg);
  for (const cfg of ['server.cfg', 'client.cfg']) {
    const check = spawnSync(bin, ['-c', '-q', '-f', join(dir, cfg)], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy rejected ${cfg}: ${check.stderr || check.stdout}`);
  }
  const server = startPlain(bin, ['-db', '-f', join(dir, 'server.cfg')]);
  const client = startPlain(bin, ['-db', '-f', join(dir, 'client.cfg')]);
  try {
    await Promise.all([...serverSide, clientPort].map((p) => waitForPort(p, 10_000)));
  } catch (error) {
    await Promise.all([killChild(server), killChild(client)]);
    throw error;
  }
  return {
    port: clientPort,
    pids: [client.pid!, server.pid!],
    async close() {
      await Promise.all([killChild(client), killChild(server)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
}
