/**
 * Child processes of the bench: every backend, proxy and watcher runs in its own process, started
 * with this Node (TypeScript sources through the `weft-source` condition). A child reports readiness
 * as one JSON line on stdout; every child is killed when the bench ends, fails or is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const live = new Set<ChildProcess>();

export const CHILD_FLAGS = ['--conditions=weft-source', '--disable-warning=ExperimentalWarning'];

/** Path of a file under bench/src/children. */
export function childScript(name: string): string {
  return fileURLToPath(new URL(`../children/${name}`, import.meta.url));
}

export interface Child<T> {
  readonly process: ChildProcess;
  /** The child's first JSON line (its ports or other readiness report). */
  readonly ready: T;
  /** Later JSON lines, in order. */
  next(timeoutMs?: number): Promise<unknown>;
  /** Sends one JSON line to the child's stdin. */
  send(message: unknown): void;
  kill(): Promise<void>;
}

export interface SpawnOptions {
  args?: readonly string[];
  execArgv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first line. Defaults to 20000. */
  readyTimeoutMs?: number;
  /** A command other than this Node. */
  command?: string;
  /** Node flags in place of the default (TypeScript sources through `weft-source`). */
  flags?: readonly string[];
}

/** Starts a TypeScript child (or `command`) and waits for its first JSON line on stdout. */
export async function startChild<T>(script: string, options: SpawnOptions = {}): Promise<Child<T>> {
  const command = options.command ?? process.execPath;
  const argv = options.command
    ? [...(options.args ?? [])]
    : [...(options.flags ?? CHILD_FLAGS), ...(options.execArgv ?? []), script, ...(options.args ?? [])];
  const child = spawn(command, argv, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines: unknown[] = [];
  const waiters: ((v: unknown) => void)[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return; // not ours (a library printing); ignore
    }
    const w = waiters.shift();
    if (w) w(value);
    else lines.push(value);
  });
  const next = (timeoutMs = 20_000): Promise<unknown> => {
    if (lines.length) return Promise.resolve(lines.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`${script}: no report within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code}) before reporting`));
      };
      const done = (v: unknown) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(v);
      };
      child.once('exit', onExit);
      waiters.push(done);
    });
  };
  let ready: T;
  try {
    ready = (await next(options.readyTimeoutMs ?? 20_000)) as T;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    process: child,
    ready,
    next,
    send(message) {
      child.stdin!.write(`${JSON.stringify(message)}\n`);
    },
    kill: () => killChild(child),
  };
}

/** Starts a process that reports nothing (e.g. a proxy); `ready` is the caller's job. */
export function startPlain(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

/** Kills every child still running (end of run, error, signal). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => killChild(c)));
}

/** Synchronous last resort for process exit. */
export function killAllNow(): void {
  for (const c of live) c.kill('SIGKILL');
}

let installed = false;
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping children\n`);
      killAllNow();
      process.exit(130);
    });
  }
}
