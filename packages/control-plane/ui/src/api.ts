/**
 * The dashboard's only way to the config service: `fetch` on this origin with the bearer token the
 * user logged in with. The token lives in this tab's sessionStorage (gone when the tab closes) and
 * in memory; nothing else is stored.
 */

const KEY = 'weft.token';

/** An API refusal with the service's error code (`conflict`, `forbidden`, …) and status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface Whoami {
  readonly id: string;
  readonly name: string;
  readonly role: 'admin' | 'service' | 'viewer';
  readonly service?: string;
}

let token: string | undefined = sessionStorage.getItem(KEY) ?? undefined;

export const session = {
  get token() {
    return token;
  },
  set(value: string) {
    token = value;
    sessionStorage.setItem(KEY, value);
  },
  clear() {
    token = undefined;
    sessionStorage.removeItem(KEY);
  },
};

/** Calls the API; resolves with the JSON body and its ETag, throws {@link ApiError} on 4xx/5xx. */
export async function api<T = unknown>(
  method: string,
  path: string,
  options: { body?: unknown; ifMatch?: number; tokenOverride?: string } = {},
): Promise<{ body: T; etag: string | null }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const bearer = options.tokenOverride ?? token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
  const res = await fetch(path, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'http', e?.message ?? `${res.status} ${res.statusText}`);
  }
  return { body: body as T, etag: res.headers.get('etag') };
}

export const get = async <T>(path: string): Promise<T> => (await api<T>('GET', path)).body;

/** GET that answers undefined for 404 (a document or an API that is not there). */
export async function getOptional<T>(path: string): Promise<T | undefined> {
  try {
    return await get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}
