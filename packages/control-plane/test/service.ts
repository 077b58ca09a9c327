/**
 * Test helpers: run the real config service as a child process (Node 24, from the TypeScript
 * sources), read its JSON status lines, and call its HTTP API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
export const NODE_ARGS = ['--conditions=weft-source', '--disable-warning=ExperimentalWarning'];

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** The admin token printed at first start, or the one passed in. */
  readonly token: string;
  readonly storeId: string;
  /** Every stdout line so far. */
  readonly output: string[];
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

export function tempDir(prefix = 'weft-cp-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface StartOptions {
  data?: string;
  port?: number;
  token?: string;
  etcd?: string;
  args?: string[];
  env?: Record<string, string>;
}

/** Starts `weft control-plane` and resolves once it listens. */
export async function startService(options: StartOptions = {}): Promise<ServiceProcess> {
  const args = [...NODE_ARGS, MAIN, 'control-plane', '--port', String(options.port ?? 0)];
  if (options.data) args.push('--data', options.data);
  if (options.etcd) args.push('--etcd', options.etcd);
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(options.token ? { WEFT_ADMIN_TOKEN: options.token } : {}), ...options.env },
  });
  const output: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  let token = options.token ?? '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`config service did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`config service exited with ${code}: ${stderr}`));
    });
    lines.on('line', (line) => {
      output.push(line);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event === 'admin-token' && typeof msg.token === 'string') token = msg.token;
      if (msg.event === 'listening') {
        clearTimeout(timer);
        resolve(msg);
      }
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    child,
    port: ready.port as number,
    url: ready.url as string,
    token,
    storeId: ready.storeId as string,
    output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

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
