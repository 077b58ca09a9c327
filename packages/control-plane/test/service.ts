/** Test helpers for the config service's own tests: the service runner lives in src/testing.ts. */
export type { ServiceProcess, StartOptions } from '../src/testing.ts';
export { MAIN, NODE_ARGS, startService, tempDir } from '../src/testing.ts';

/** Calls the HTTP API; returns status and parsed body (untyped JSON: tests assert on its shape). */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON checked by assertions
type Json = any;

export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const policy = (name: string, spec: unknown) => ({ kind: 'DestinationPolicy', name, spec });
