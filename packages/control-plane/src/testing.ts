/**
 * `@weft/control-plane/testing`: run a real config service as a child process for tests (yours and
 * ours): it listens on an OS-chosen port on loopback, and the helper resolves once it does, with its
 * URL and admin token. The child runs the TypeScript sources under Node's type stripping when this
 * file is itself run from source, and the built CLI otherwise.
 */
// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const fromSource = import.meta.url.endsWith('.ts');
/** The CLI entry point the child runs (`@weft/cli`, a dependency of this package). */
export const MAIN = fileURLToPath(import.meta.resolve('@weft/cli'));
/** Node flags for the child: resolve Weft packages to their sources when running from source. */
export const NODE_ARGS = fromSource
  ? ['--conditions=weft-source', '--disable-warning=ExperimentalWarning']
  : [];

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
  /**
   * Data directory. Defaults to a fresh temporary directory, removed when the service is stopped or
   * killed (so each run starts from an empty store and gets its own admin token).
   */
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
  // Without a data directory the service would use ./weft-data of the current directory, and a second
  // run would reuse the first run's store and print no admin token.
  const scratch =
    options.data === undefined && options.etcd === undefined ? tempDir('weft-test-') : undefined;
  const data = options.data ?? scratch?.path;
  if (data) args.push('--data', data);
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
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      scratch?.remove();
      resolve();
    }),
  );
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

export type { Leaf, Spec, TestCa } from './testing-mesh.ts';
export { controlPlaneApi, setPolicies, spiffe, testCa } from './testing-mesh.ts';
