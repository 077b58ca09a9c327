/**
 * The CLI's HTTP client for the config service: bearer token, JSON bodies, failover across the
 * configured URLs on connection errors, and errors that carry the service's `path: reason` issues.
 */

export interface ApiOptions {
  /** Config service URLs, tried in order when one cannot be reached. */
  urls: readonly string[];
  token: string | undefined;
  /** Per-request timeout in ms. */
  timeoutMs: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: readonly string[];

  constructor(status: number, code: string, message: string, issues: readonly string[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export function api(options: ApiOptions) {
  return async function request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    let lastError: unknown;
    for (const base of options.urls) {
      let res: Response;
      try {
        res = await fetch(new URL(path, base), {
          method,
          headers: {
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        lastError = error;
        continue;
      }
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      if (!res.ok) {
        const e = (parsed as { error?: { code?: string; message?: string; issues?: string[] } })?.error;
        throw new ApiError(
          res.status,
          e?.code ?? 'http_error',
          e?.message ?? `HTTP ${res.status}`,
          e?.issues ?? [],
        );
      }
      return { status: res.status, headers: res.headers, body: parsed };
    }
    const cause = lastError as { cause?: { code?: string; message?: string }; message?: string } | undefined;
    throw new ApiError(
      0,
      'unreachable',
      `cannot reach the config service at ${options.urls.join(', ')}: ${cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? 'unknown error'}`,
    );
  };
}

export type Api = ReturnType<typeof api>;
