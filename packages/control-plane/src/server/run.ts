/**
 * Starts a config service process: opens the store, makes the first admin token, listens, and
 * reports on stdout as JSON lines (`{"event":"listening","port":…}`), so that scripts and tests can
 * read the bound port when started on port 0.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidOption } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { CA_DEFAULTS, CertificateAuthority } from '../ca/authority.ts';
import { trustDomainIssue } from '../ca/keys.ts';
import { sqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';
import { prometheusSource } from '../traffic/prometheus.ts';
import { type AppOptions, buildApp } from './app.ts';
import { issueToken, recordForToken } from './tokens.ts';

export interface ControlPlaneOptions extends Omit<AppOptions, 'store'> {
  /** TCP port; 0 picks a free one. Defaults to 7700. */
  port?: number;
  /** Interface to listen on. Defaults to `127.0.0.1`. */
  host?: string;
  /** Directory of the SQLite file (`weft.db`), created 0700 (the file 0600). Defaults to `./weft-data`. */
  data?: string;
  /** etcd endpoints; when set, etcd is the store instead of SQLite. Defaults to none. */
  etcd?: readonly string[];
  /** Registry-only log entries kept for resuming watchers (document changes are always kept). Defaults to 10000. */
  watchHistory?: number;
  /** Key prefix in etcd. Defaults to `/weft/`. */
  etcdPrefix?: string;
  /**
   * An admin token chosen by the operator (`weft_<16 hex>_<43 base64url>`), stored hashed at start.
   * Defaults to none: the first start generates one and prints it once.
   */
  adminToken?: string;
  /** Write the generated admin token to this file (mode 0600) instead of printing it. */
  adminTokenFile?: string;
  /**
   * The SPIFFE trust domain of the mesh's identities; a store's trust domain cannot be changed.
   * Defaults to the store's CA's (`weft.local` at first start).
   */
  trustDomain?: string;
  /**
   * PEM file of an intermediate CA the operator gives (the certificate, then those above it up to
   * the root), with {@link caKeyFile}. Defaults to none: the first start generates a root.
   */
  caCertFile?: string;
  /** PKCS#8 PEM file of the intermediate's ECDSA P-256 private key. */
  caKeyFile?: string;
  /**
   * Listen on HTTPS with this PEM certificate file (the server's certificate, then its chain), with
   * {@link tlsKeyFile}. Defaults to none: plain HTTP. Clients trust its CA as Node does for any
   * `fetch` (`NODE_EXTRA_CA_CERTS`, or a public CA).
   */
  tlsCertFile?: string;
  /** The PEM private key of {@link tlsCertFile}. */
  tlsKeyFile?: string;
  /**
   * Read `GET /v1/traffic…` from this Prometheus server (its HTTP API) instead of the embedded
   * window. Defaults to none: the embedded window.
   */
  prometheusUrl?: string;
  /** Where JSON status lines go. Defaults to stdout. */
  print?: (line: Record<string, unknown>) => void;
}

export const CONTROL_PLANE_DEFAULTS = {
  port: 7700,
  host: '127.0.0.1',
  data: './weft-data',
  etcdPrefix: '/weft/',
} as const;

export interface RunningControlPlane {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const port = options.port ?? CONTROL_PLANE_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalidOption('port', 'must be an integer from 0 to 65535');
  const host = options.host ?? CONTROL_PLANE_DEFAULTS.host;
  const print = options.print ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
  if (options.trustDomain !== undefined) {
    const issue = trustDomainIssue(options.trustDomain);
    if (issue) throw invalidOption('trustDomain', issue);
  }
  if ((options.caCertFile === undefined) !== (options.caKeyFile === undefined))
    throw invalidOption('caCertFile', 'give both caCertFile and caKeyFile, or neither');
  if ((options.tlsCertFile === undefined) !== (options.tlsKeyFile === undefined))
    throw invalidOption('tlsCertFile', 'give both tlsCertFile and tlsKeyFile, or neither');
  const https = options.tlsCertFile
    ? { cert: readFileSync(options.tlsCertFile, 'utf8'), key: readFileSync(options.tlsKeyFile!, 'utf8') }
    : undefined;
  const caFiles = options.caCertFile
    ? {
        certificate: readFileSync(options.caCertFile, 'utf8'),
        privateKey: readFileSync(options.caKeyFile!, 'utf8'),
      }
    : {};
  const store = options.etcd?.length
    ? await (await import('../store/etcd.ts')).etcdStore({
        endpoints: options.etcd,
        prefix: options.etcdPrefix ?? CONTROL_PLANE_DEFAULTS.etcdPrefix,
        watchHistory: options.watchHistory,
      })
    : sqliteStore({
        file: join(options.data ?? CONTROL_PLANE_DEFAULTS.data, 'weft.db'),
        watchHistory: options.watchHistory,
      });
  try {
    if (options.adminToken) {
      const record = recordForToken(options.adminToken, 'admin', 'admin');
      if (!record)
        throw invalidOption('adminToken', 'expected weft_<16 hex digits>_<43 base64url characters>');
      await store.putToken(record);
    } else {
      const issued = issueToken('admin', 'admin');
      if (await store.createFirstAdminToken(issued.record)) {
        if (options.adminTokenFile) {
          writeFileSync(options.adminTokenFile, `${issued.token}\n`, { mode: 0o600 });
          chmodSync(options.adminTokenFile, 0o600);
          print({
            event: 'admin-token',
            file: options.adminTokenFile,
            message: 'admin token written to file',
          });
        } else {
          print({
            event: 'admin-token',
            token: issued.token,
            message: 'first start: this admin token is shown once and stored only hashed; keep it safe',
          });
        }
      }
    }
    const {
      port: _p,
      host: _h,
      data: _d,
      etcd: _e,
      etcdPrefix: _x,
      watchHistory: _w,
      adminToken: _a,
      adminTokenFile: _f,
      print: _pr,
      trustDomain: _t,
      caCertFile: _c,
      caKeyFile: _k,
      tlsCertFile: _tc,
      tlsKeyFile: _tk,
      prometheusUrl,
      ...appOptions
    } = options;
    if (prometheusUrl !== undefined) {
      if (!URL.canParse(prometheusUrl) || !/^https?:$/.test(new URL(prometheusUrl).protocol))
        throw invalidOption('prometheusUrl', `"${prometheusUrl}" is not an http(s) URL`);
      appOptions.trafficSource ??= () => prometheusSource({ url: prometheusUrl });
    }
    const ca = await new CertificateAuthority(store, {
      certificateLifetimeMs: appOptions.certificateLifetimeMs ?? CA_DEFAULTS.certificateLifetimeMs,
      now: appOptions.now ?? Date.now,
    }).ensure({ trustDomain: options.trustDomain, ...caFiles });
    const app = buildApp({ ...appOptions, store, ...(https ? { https } : {}) });
    await app.listen({ port, host });
    const address = app.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    print({
      event: 'listening',
      port: bound,
      url,
      storeId: store.id,
      revision: await store.revision(),
      trustDomain: ca.trustDomain,
    });
    return {
      app,
      store,
      port: bound,
      url,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
