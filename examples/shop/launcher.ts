/**
 * Starts the demo's service processes and keeps track of them. Each runs on the launcher's own Node
 * (`process.execPath`) from the TypeScript sources, with an IPC channel for reports, its output in a
 * log file, and its own process group, so that Ctrl-C in the terminal reaches only the launcher,
 * which then stops them in order. A child also exits by itself when the launcher's IPC channel
 * closes, so none outlives a launcher that was killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage, ReadyMessage } from './protocol.ts';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  ready: ReadyMessage | undefined;
  exited: boolean;
}

export interface LauncherOptions {
  /** Directory for logs and data. */
  dir: string;
  /** Environment of every child (on top of the launcher's). */
  env: Record<string, string>;
  /** Called with every report of every child. */
  onMessage: (from: ServiceProcess, message: ChildMessage) => void;
  /** Called when a child exits without being asked to. */
  onUnexpectedExit: (from: ServiceProcess, code: number | null, signal: string | null) => void;
}

export class Launcher {
  readonly #options: LauncherOptions;
  readonly processes = new Map<string, ServiceProcess>();
  readonly #stopping = new Set<string>();
  readonly #pids: number[] = [];

  constructor(options: LauncherOptions) {
    this.#options = options;
  }

  /** Starts `script` (a file under ./services) as `name`; resolves with its ready report. */
  start(
    name: string,
    script: string,
    env: Record<string, string> = {},
    timeoutMs = 60_000,
  ): Promise<ReadyMessage> {
    const log = join(this.#options.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(
      process.execPath,
      [
        '--conditions=weft-source',
        '--disable-warning=ExperimentalWarning',
        new URL(`./services/${script}`, import.meta.url).pathname,
      ],
      {
        stdio: ['ignore', fd, fd, 'ipc'],
        env: { ...process.env, ...this.#options.env, ...env, SHOP_INSTANCE: name },
        detached: true,
      },
    );
    if (child.pid !== undefined) this.#pids.push(child.pid);
    const proc: ServiceProcess = { name, child, log, ready: undefined, exited: false };
    this.processes.set(name, proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${timeoutMs} ms; see ${log}`)),
        timeoutMs,
      );
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          proc.ready = message;
          clearTimeout(timer);
          resolve(message);
        }
        this.#options.onMessage(proc, message);
      });
      child.on('exit', (code, signal) => {
        proc.exited = true;
        clearTimeout(timer);
        if (!proc.ready)
          reject(new Error(`${name} exited (${signal ?? code}) before it was ready; see ${log}`));
        else if (!this.#stopping.has(name)) this.#options.onUnexpectedExit(proc, code, signal);
      });
    });
  }

  /** Sends an instruction to a child, if it is running. */
  tell(name: string, message: ParentMessage): void {
    const proc = this.processes.get(name);
    if (proc && !proc.exited && proc.child.connected) proc.child.send(message);
  }

  /** Kills a child at once (SIGKILL): no drain, no deregistration. */
  kill(name: string): void {
    const proc = this.processes.get(name);
    if (!proc || proc.exited) return;
    this.#stopping.add(name);
    proc.child.kill('SIGKILL');
  }

  /** Asks a child to stop cleanly; kills it if it has not exited after `graceMs`. */
  async stop(name: string, graceMs = 6000): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc || proc.exited) return;
    this.#stopping.add(name);
    const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
    if (proc.child.connected) proc.child.send({ type: 'stop' } satisfies ParentMessage);
    else proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Forgets a stopped child's name so that it can be started again. */
  forget(name: string): void {
    this.#stopping.delete(name);
    this.processes.delete(name);
  }

  /** Kills every child still running (last resort, synchronous: usable in an `exit` handler). */
  killAll(): void {
    for (const proc of this.processes.values()) {
      if (!proc.exited) {
        this.#stopping.add(proc.name);
        try {
          proc.child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  /** Process ids of every child ever started, for checks that none is left. */
  get pids(): readonly number[] {
    return this.#pids;
  }
}
