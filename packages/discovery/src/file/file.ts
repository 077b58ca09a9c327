/**
 * A resolver over a JSON or YAML file that is watched for changes.
 *
 * Why the directory is watched, not the file: the safe way to replace a file is to write a
 * temporary file and `rename` it over the old one, which swaps the inode; a watch on the old inode
 * would go quiet. Watching the directory sees the rename. Some filesystems (network mounts,
 * containers' bind mounts) deliver no events at all, so a slow poll of `stat` backs the watch up.
 *
 * A file that cannot be read, parsed or validated — a torn write caught half way, a typo — leaves
 * the last good set in place: the state becomes `failed` with a reason naming the file and the
 * field, and the next good version binds again.
 */
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Clock, Resolver, ResolverListener, ResolverState, TimerHandle } from '@weft/core';
import { checkKnownKeys, ErrorCode, invalidOption, type KeySet, systemClock, WeftError } from '@weft/core';
import { EndpointSource } from '../source/endpoint-source.ts';
import { type FileFormat, formatOf, parseEndpointFile } from './parse.ts';

export interface FileResolverOptions {
  /** The file to read. Required. */
  readonly path: string;
  /**
   * Selects `services.<service>.endpoints` in a file shared by several services (a file without
   * `services` is read from its top-level `endpoints`), and names the service in metrics.
   * Defaults to undefined: the top-level `endpoints`, and the file name in metrics.
   */
  readonly service?: string;
  /** `json`, `yaml`, or `auto` (by extension: `.json` is JSON, anything else YAML). Defaults to `auto`. */
  readonly format?: 'json' | 'yaml' | 'auto';
  /** Watch the directory with `fs.watch`. Defaults to true. */
  readonly watch?: boolean;
  /** How often to `stat` the file in case no watch event arrives, in ms (≥ 10). Defaults to 2000. */
  readonly pollIntervalMs?: number;
  /** Wait this long after a watch event before reading, so bursts of events cost one read, in ms (0–1000). Defaults to 20. */
  readonly debounceMs?: number;
  /** Time source for the poll and debounce timers. Defaults to the system clock. */
  readonly clock?: Clock;
}

export const FILE_DEFAULTS = {
  format: 'auto',
  watch: true,
  pollIntervalMs: 2000,
  debounceMs: 20,
} as const;

const FILE_KEYS = {
  path: true,
  service: true,
  format: true,
  watch: true,
  pollIntervalMs: true,
  debounceMs: true,
  clock: true,
} as const satisfies KeySet<FileResolverOptions>;

function check(options: FileResolverOptions): void {
  checkKnownKeys('fileResolver', options, FILE_KEYS);
  if (typeof options?.path !== 'string' || options.path === '') {
    throw invalidOption('path', 'must be a non-empty file path');
  }
  const { pollIntervalMs = FILE_DEFAULTS.pollIntervalMs, debounceMs = FILE_DEFAULTS.debounceMs } = options;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 10) {
    throw invalidOption('pollIntervalMs', `must be a number ≥ 10 (got ${pollIntervalMs})`);
  }
  if (!Number.isFinite(debounceMs) || debounceMs < 0 || debounceMs > 1000) {
    throw invalidOption('debounceMs', `must be a number in 0..1000 (got ${debounceMs})`);
  }
  const format = options.format ?? FILE_DEFAULTS.format;
  if (format !== 'json' && format !== 'yaml' && format !== 'auto') {
    throw invalidOption('format', `must be 'json', 'yaml' or 'auto' (got ${String(format)})`);
  }
}

/** A resolver over a watched endpoint file. */
export class FileResolver implements Resolver {
  readonly path: string;
  readonly #source: EndpointSource;
  readonly #service: string | undefined;
  readonly #format: FileFormat;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;
  readonly #debounceMs: number;
  readonly #watchEnabled: boolean;
  #watcher: FSWatcher | undefined;
  #debounce: TimerHandle | undefined;
  #poll: TimerHandle | undefined;
  #loading = false;
  #dirty = false;
  #signature = '';
  #text: string | undefined;

  constructor(options: FileResolverOptions) {
    check(options);
    this.path = resolve(options.path);
    this.#service = options.service;
    const format = options.format ?? FILE_DEFAULTS.format;
    this.#format = format === 'auto' ? formatOf(this.path) : format;
    this.#clock = options.clock ?? systemClock;
    this.#pollIntervalMs = options.pollIntervalMs ?? FILE_DEFAULTS.pollIntervalMs;
    this.#debounceMs = options.debounceMs ?? FILE_DEFAULTS.debounceMs;
    this.#watchEnabled = options.watch ?? FILE_DEFAULTS.watch;
    this.#source = new EndpointSource('file', options.service ?? basename(this.path));
    this.#startWatch();
    this.#schedulePoll();
    void this.#load();
  }

  get state(): ResolverState {
    return this.#source.state;
  }

  subscribe(listener: ResolverListener): () => void {
    return this.#source.subscribe(listener);
  }

  close(): void {
    this.#source.close();
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#debounce !== undefined) this.#clock.clearTimeout(this.#debounce);
    if (this.#poll !== undefined) this.#clock.clearTimeout(this.#poll);
  }

  #startWatch(): void {
    if (!this.#watchEnabled || this.#watcher !== undefined || this.#source.closed) return;
    const name = basename(this.path);
    try {
      this.#watcher = fsWatch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.#changed();
      });
      this.#watcher.on('error', () => {
        // The directory went away or the watch broke: fall back to the poll, which retries the watch.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined;
    }
  }

  #changed(): void {
    if (this.#debounce !== undefined || this.#source.closed) return;
    this.#debounce = this.#clock.setTimeout(
      () => {
        this.#debounce = undefined;
        void this.#load();
      },
      this.#debounceMs,
      true,
    );
  }

  #schedulePoll(): void {
    if (this.#source.closed) return;
    this.#poll = this.#clock.setTimeout(
      () => {
        this.#poll = undefined;
        this.#startWatch();
        void this.#pollOnce().finally(() => this.#schedulePoll());
      },
      this.#pollIntervalMs,
      true,
    );
  }

  async #pollOnce(): Promise<void> {
    let signature: string;
    try {
      signature = signatureOf(await stat(this.path));
    } catch {
      signature = 'missing';
    }
    if (signature !== this.#signature) await this.#load();
  }

  async #load(): Promise<void> {
    if (this.#loading) {
      this.#dirty = true;
      return;
    }
    this.#loading = true;
    try {
      do {
        this.#dirty = false;
        await this.#readOnce();
      } while (this.#dirty && !this.#source.closed);
    } finally {
      this.#loading = false;
    }
  }

  async #readOnce(): Promise<void> {
    let text: string;
    try {
      this.#signature = signatureOf(await stat(this.path));
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      this.#signature = 'missing';
      this.#text = undefined;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      this.#fail(`cannot read the file (${code})`, err);
      return;
    }
    if (text === this.#text && this.#source.state.kind !== 'pending') return;
    this.#text = text;
    try {
      const content = parseEndpointFile(text, this.#format, this.#service);
      if (content.kind === 'negative') this.#source.negative();
      else this.#source.bind(content.endpoints);
    } catch (err) {
      this.#fail((err as Error).message, err);
    }
  }

  #fail(problem: string, cause: unknown): void {
    this.#source.fail(
      new WeftError(ErrorCode.ResolutionFailed, `${this.path}: ${problem}`, { retryable: true, cause }),
    );
  }
}

function signatureOf(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/** Builds a resolver over a watched JSON or YAML endpoint file. See {@link FileResolverOptions}. */
export function fileResolver(options: FileResolverOptions): FileResolver {
  return new FileResolver(options);
}
