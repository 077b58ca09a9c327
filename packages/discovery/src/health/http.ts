/**
 * An HTTP health check: `GET <scheme>://<endpoint><path>`; healthy when the status is expected
 * (2xx by default). The body is discarded. Redirects are not followed: a health endpoint that
 * redirects is misconfigured, and following it would check something else.
 *
 * Each check opens its own connection (`connection: close`): a probe then also proves the endpoint
 * accepts connections, and no idle connection can be closed by the server just as a check reuses it
 * (which would report a healthy endpoint as failing).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Endpoint, KeySet } from '@weft/core';
import { checkKnownKeys, invalidOption } from '@weft/core';
import type { HealthChecker } from './checker.ts';

export interface HttpHealthCheckOptions {
  /** Request path, starting with `/`. Defaults to `/healthz`. */
  readonly path?: string;
  /** `http` or `https`. Defaults to `http`. */
  readonly scheme?: 'http' | 'https';
  /** Host header to send (virtual hosting). Defaults to the endpoint's `address:port`. */
  readonly host?: string;
  /** Extra request headers. Defaults to none. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Which statuses count as healthy. Defaults to 200–299. */
  readonly expectStatus?: (status: number) => boolean;
}

export const HTTP_HEALTH_DEFAULTS = {
  path: '/healthz',
  scheme: 'http',
  expectStatus: (status: number) => status >= 200 && status < 300,
} as const;

/** Builds an HTTP {@link HealthChecker}. See {@link HttpHealthCheckOptions}. */
const HTTP_HEALTH_KEYS = {
  path: true,
  scheme: true,
  host: true,
  headers: true,
  expectStatus: true,
} as const satisfies KeySet<HttpHealthCheckOptions>;

export function httpHealthCheck(options: HttpHealthCheckOptions = {}): HealthChecker {
  checkKnownKeys('httpHealthCheck', options, HTTP_HEALTH_KEYS);
  const path = options.path ?? HTTP_HEALTH_DEFAULTS.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw invalidOption('path', `must start with "/" (got ${JSON.stringify(path)})`);
  }
  const scheme = options.scheme ?? HTTP_HEALTH_DEFAULTS.scheme;
  if (scheme !== 'http' && scheme !== 'https') {
    throw invalidOption('scheme', `must be 'http' or 'https' (got ${String(scheme)})`);
  }
  const expect = options.expectStatus ?? HTTP_HEALTH_DEFAULTS.expectStatus;
  const headers: Record<string, string> = { ...options.headers };
  if (options.host !== undefined) headers.host = options.host;
  const send = scheme === 'https' ? httpsRequest : httpRequest;
  return {
    name: 'http',
    check(endpoint: Endpoint, signal: AbortSignal): Promise<void> {
      return new Promise((resolve, reject) => {
        const req = send(
          {
            host: endpoint.address,
            port: endpoint.port,
            path,
            method: 'GET',
            headers: { ...headers, connection: 'close' },
            agent: false,
            signal,
          },
          (res) => {
            res.resume();
            const status = res.statusCode ?? 0;
            if (expect(status)) resolve();
            else reject(new Error(`HTTP ${status} from ${path}`));
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
  };
}
