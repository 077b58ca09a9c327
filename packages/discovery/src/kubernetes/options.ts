/** Options of the Kubernetes resolver, their defaults and their checks. */
import type { Clock, KeySet } from '@weft/core';
import { checkKnownKeys, invalidOption } from '@weft/core';

export const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesResolverOptions {
  /** The Service name. Required. */
  readonly service: string;
  /** The namespace. Defaults to the pod's own namespace (from the service account), else `default`. */
  readonly namespace?: string;
  /** The port, by name (`http`) or number (`8080`). Defaults to the slice's only port. */
  readonly port?: string | number;
  /** API server URL. Defaults to `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
  readonly server?: string;
  /** Bearer token. Defaults to the contents of `tokenFile`. */
  readonly token?: string;
  /** File holding the bearer token, read on every (re)connect so rotated tokens are used. Defaults to the service account token. */
  readonly tokenFile?: string;
  /** PEM CA bundle for the API server. Defaults to the contents of `caFile`. */
  readonly ca?: string;
  /** File holding the CA bundle. Defaults to the service account's `ca.crt`. */
  readonly caFile?: string;
  /** When no endpoint is ready, use the terminating ones that still serve. Defaults to true. */
  readonly useTerminatingWhenNoneReady?: boolean;
  /** Ask the server to end each watch after this many seconds (then it is resumed), 1–3600. Defaults to 300. */
  readonly watchTimeoutSeconds?: number;
  /** First retry delay after an error, in ms (> 0); doubles per error in a row. Defaults to 1000. */
  readonly retryMs?: number;
  /** Largest retry delay, in ms (≥ retryMs). Defaults to 30000. */
  readonly maxRetryMs?: number;
  /** Time source for retry delays. Defaults to the system clock. */
  readonly clock?: Clock;
}

export const KUBERNETES_DEFAULTS = {
  useTerminatingWhenNoneReady: true,
  watchTimeoutSeconds: 300,
  retryMs: 1000,
  maxRetryMs: 30_000,
  tokenFile: `${SERVICE_ACCOUNT}/token`,
  caFile: `${SERVICE_ACCOUNT}/ca.crt`,
} as const;

const KUBERNETES_KEYS = {
  service: true,
  namespace: true,
  port: true,
  server: true,
  token: true,
  tokenFile: true,
  ca: true,
  caFile: true,
  useTerminatingWhenNoneReady: true,
  watchTimeoutSeconds: true,
  retryMs: true,
  maxRetryMs: true,
  clock: true,
} as const satisfies KeySet<KubernetesResolverOptions>;

export function checkOptions(o: KubernetesResolverOptions): void {
  checkKnownKeys('kubernetesResolver', o, KUBERNETES_KEYS);
  if (typeof o?.service !== 'string' || o.service === '')
    throw invalidOption('service', 'must be a Service name');
  if (o.namespace !== undefined && (typeof o.namespace !== 'string' || o.namespace === '')) {
    throw invalidOption('namespace', 'must be a non-empty namespace name');
  }
  const { port } = o;
  if (
    port !== undefined &&
    typeof port !== 'string' &&
    !(Number.isInteger(port) && port > 0 && port < 65536)
  ) {
    throw invalidOption('port', `must be a port name or an integer in 1..65535 (got ${String(port)})`);
  }
  const w = o.watchTimeoutSeconds ?? KUBERNETES_DEFAULTS.watchTimeoutSeconds;
  if (!Number.isInteger(w) || w < 1 || w > 3600)
    throw invalidOption('watchTimeoutSeconds', `must be an integer in 1..3600 (got ${w})`);
  const retry = o.retryMs ?? KUBERNETES_DEFAULTS.retryMs;
  if (!(retry > 0)) throw invalidOption('retryMs', `must be a number > 0 (got ${retry})`);
  const max = o.maxRetryMs ?? KUBERNETES_DEFAULTS.maxRetryMs;
  if (!(max >= retry)) throw invalidOption('maxRetryMs', `must be a number ≥ retryMs (got ${max})`);
  if (o.server === undefined && !process.env.KUBERNETES_SERVICE_HOST) {
    throw invalidOption('server', 'is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)');
  }
  if (o.server !== undefined && !URL.canParse(o.server))
    throw invalidOption('server', `must be a URL (got ${o.server})`);
}
