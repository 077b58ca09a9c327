/**
 * An HTTP health check: `GET <scheme>://<endpoint><path>`; healthy when the status is expected
 * (2xx by default). The body is discarded. Redirects are not followed: a health endpoint that
 * redirects is misconfigured, and following it would check something else.
 */
import type { Endpoint } from '@weft/core';
import { endpointKey, invalidOption } from '@weft/core';
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
export function httpHealthCheck(options: HttpHealthCheckOptions = {}): HealthChecker {
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
  return {
    name: 'http',
    async check(endpoint: Endpoint, signal: AbortSignal): Promise<void> {
      const res = await fetch(`${scheme}://${endpointKey(endpoint)}${path}`, {
        headers,
        signal,
        redirect: 'manual',
      });
      await res.body?.cancel();
      if (!expect(res.status)) throw new Error(`HTTP ${res.status} from ${path}`);
    },
  };
}
