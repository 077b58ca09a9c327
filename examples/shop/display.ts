/**
 * The live view of the demo: per destination (as its caller sees it) requests per second, success
 * rate, p50/p99 latency and the share of calls each endpoint got — and, where answers name their
 * version, the share each version answered and the copies mirrored — the caller's effective policy
 * and route, the config service's state, a progress bar and the latest events. On a terminal it redraws in
 * place once a second with two ANSI sequences (cursor up, clear below); anywhere else (a pipe, a
 * file, CI) it prints plain lines, one per destination per second.
 *
 * Plain ANSI rather than a library: redrawing a block of lines needs only "back up N lines" and
 * "clear to the end of the screen", which every terminal emulator in use understands (ECMA-48 CPL
 * and ED), so a dependency would add nothing.
 */
import type { DestinationFigures, RouteFigures } from './stats.ts';

/** Which process reports each destination: the frontend is seen by the load generator. */
export const DESTINATIONS = [
  { destination: 'frontend', caller: 'loadgen', protocol: 'HTTP, Fastify' },
  { destination: 'catalog', caller: 'frontend', protocol: 'HTTP, Express' },
  { destination: 'inventory', caller: 'frontend', protocol: 'gRPC' },
] as const;

/** One window of figures as the board received it, with the caller's config revision then. */
export interface ReceivedWindow {
  figures: DestinationFigures;
  /** The caller's config-service revision when it sent the window (the documents it ran with). */
  revision: number;
}

/** Windows kept per destination, for the tour's measurements. */
const HISTORY = 120;

export interface Progress {
  label: string;
  done: number;
  total: number;
}

export class Board {
  readonly #figures = new Map<string, DestinationFigures>();
  /** Instance names by endpoint key (`127.0.0.1:port`). */
  readonly #names = new Map<string, string>();
  readonly #events: { at: number; text: string }[] = [];
  readonly #startedAt = Date.now();
  configUp = false;
  configClient = { state: 'connecting', revision: 0 };
  progress: Progress | undefined;
  step: string | undefined;
  /** A hint under the view (how to stop, where the logs are). */
  footer: string | undefined;

  name(endpoint: string, instance: string): void {
    this.#names.set(endpoint, instance);
  }

  /** Requests and failures per destination since the start, summed from the windows. */
  readonly seen = new Map<string, { requests: number; failures: number }>();

  readonly #history = new Map<string, ReceivedWindow[]>();

  /** Takes one window of a destination's figures, sent by a caller at config `revision`. */
  update(figures: DestinationFigures, revision = 0): void {
    this.#figures.set(figures.destination, figures);
    const history = this.#history.get(figures.destination) ?? [];
    history.push({ figures, revision });
    if (history.length > HISTORY) history.shift();
    this.#history.set(figures.destination, history);
    const versions = this.versions[figures.destination] ?? {};
    for (const [version, n] of Object.entries(figures.versions))
      versions[version] = (versions[version] ?? 0) + n;
    this.versions[figures.destination] = versions;
    const seen = this.seen.get(figures.destination) ?? { requests: 0, failures: 0 };
    seen.requests += figures.requests;
    seen.failures += figures.failures;
    this.seen.set(figures.destination, seen);
    const calls = this.calls[figures.destination] ?? {};
    for (const e of figures.endpoints) {
      const name = this.#names.get(e.endpoint) ?? e.endpoint;
      calls[name] = (calls[name] ?? 0) + e.calls;
    }
    this.calls[figures.destination] = calls;
  }

  /** Calls per destination and instance since the start, as the callers' Weft clients counted them. */
  readonly calls: Record<string, Record<string, number>> = {};

  /** Answers per destination and version since the start (primary calls; mirrored copies are not answers). */
  readonly versions: Record<string, Record<string, number>> = {};

  /** The windows of `destination` its caller sent once it had applied config revision `revision`, oldest first. */
  windowsSince(destination: string, revision: number): ReceivedWindow[] {
    return (this.#history.get(destination) ?? []).filter((w) => w.revision >= revision);
  }

  /** The instance name of an endpoint key, or the key. */
  instance(endpoint: string): string {
    return this.#names.get(endpoint) ?? endpoint;
  }

  /** Requests and failures over every destination since the start. */
  sum(): { requests: number; failures: number } {
    let requests = 0;
    let failures = 0;
    for (const s of this.seen.values()) {
      requests += s.requests;
      failures += s.failures;
    }
    return { requests, failures };
  }

  figures(destination: string): DestinationFigures | undefined {
    return this.#figures.get(destination);
  }

  event(text: string): void {
    this.#events.push({ at: Date.now(), text });
    if (this.#events.length > 200) this.#events.shift();
  }

  get events(): readonly { at: number; text: string }[] {
    return this.#events;
  }

  elapsed(at = Date.now()): string {
    return `${((at - this.#startedAt) / 1000).toFixed(0).padStart(3)}s`;
  }

  /** The full view, for a terminal. */
  render(width = 100): string[] {
    const lines: string[] = [];
    lines.push(
      `${bold('weft shop demo')}  t=${this.elapsed().trim()}  config service ${
        this.configUp ? green('up') : red('DOWN')
      }  frontend's config client: ${this.configClient.state}, revision ${this.configClient.revision}`,
    );
    if (this.progress) lines.push(bar(this.progress, Math.min(40, width - 30)));
    if (this.step) lines.push(`${cyan('tour')} ${this.step}`);
    lines.push('');
    lines.push(dim('destination  (caller)      req/s  success      p50      p99  endpoints: share of calls'));
    for (const d of DESTINATIONS) {
      const f = this.#figures.get(d.destination);
      if (!f) {
        lines.push(`${d.destination.padEnd(12)} (${d.caller})`.padEnd(26) + dim('waiting for figures…'));
        continue;
      }
      lines.push(`${this.#row(d.destination, d.caller, f)}  ${this.#shares(f)}`);
      const versions = versionLine(f);
      if (versions) lines.push(`${' '.repeat(24)}${versions}`);
    }
    lines.push('');
    for (const d of DESTINATIONS) {
      const f = this.#figures.get(d.destination);
      if (f) {
        lines.push(
          dim(`${d.caller} → ${d.destination} policy: ${policyLine(f.policy)}; resolver ${f.resolver}`),
        );
        if (f.route) lines.push(dim(`${d.caller} → ${d.destination} route: ${routeLine(f.route)}`));
      }
    }
    lines.push('');
    for (const e of this.#events.slice(-6)) lines.push(`${dim(this.elapsed(e.at))}  ${e.text}`);
    if (this.footer) lines.push('', dim(this.footer));
    return lines.map((l) => truncate(l, width));
  }

  /** One plain line per destination, for logs and pipes. */
  plain(): string[] {
    return DESTINATIONS.flatMap((d) => {
      const f = this.#figures.get(d.destination);
      if (!f) return [];
      const versions = versionLine(f);
      return [
        `t=${this.elapsed().trim()} ${this.#row(d.destination, d.caller, f)}  ${this.#shares(f, false)}${versions ? `  ${versions}` : ''}`,
      ];
    });
  }

  #row(destination: string, caller: string, f: DestinationFigures): string {
    const rps = f.windowMs > 0 ? (f.requests * 1000) / f.windowMs : 0;
    const success = f.requests === 0 ? 100 : (100 * (f.requests - f.failures)) / f.requests;
    const successText = `${success.toFixed(1)}%`.padStart(7);
    return [
      `${destination.padEnd(12)} (${caller})`.padEnd(24),
      rps.toFixed(0).padStart(7),
      f.failures > 0 ? red(successText) : successText,
      `${f.p50Ms.toFixed(1)}ms`.padStart(8),
      `${f.p99Ms.toFixed(1)}ms`.padStart(8),
    ].join(' ');
  }

  #shares(f: DestinationFigures, color = true): string {
    const total = f.endpoints.reduce((sum, e) => sum + e.calls, 0) || 1;
    return f.endpoints
      .map((e) => {
        const name = this.#names.get(e.endpoint) ?? e.endpoint;
        const version = e.version ? `(${e.version})` : '';
        const share = `${Math.round((100 * e.calls) / total)}%`;
        const health = e.health === 'healthy' ? '' : ` ${e.health}`;
        const text = `${name}${version} ${share}${health}`;
        return color && health ? yellow(text) : text;
      })
      .join('  ');
  }
}

/**
 * The share of answers each version gave in the window and the copies mirrored in it, for
 * destinations whose answers name their version (catalog); empty otherwise.
 */
export function versionLine(f: DestinationFigures): string {
  const entries = Object.entries(f.versions).sort(([a], [b]) => (a < b ? -1 : 1));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const mirroring = (f.route?.mirrored ?? 0) > 0;
  if (total === 0 && !mirroring) return '';
  const shares = entries.map(([v, n]) => `${v} ${Math.round((100 * n) / total)}%`).join('  ');
  const mirrored = mirroring
    ? `  mirrored ${f.route!.mirrored} in the last second (${f.route!.mirroredTotal} in all)`
    : '';
  return `versions answering: ${shares || '—'}${mirrored}`;
}

/** A route's rules and their weights, in a line (`canary-header → v2; default → v1 90, v2 10`). */
export function routeLine(route: RouteFigures): string {
  return route.rules
    .map((r) => {
      const backends = r.backends?.map((b) =>
        r.backends!.length > 1 ? `${b.subset} ${b.weight}` : b.subset,
      );
      return `${r.rule} → ${backends?.join(', ') ?? 'every endpoint'}`;
    })
    .join('; ');
}

/** The parts of a destination policy the tour changes, in a line. */
export function policyLine(policy: Record<string, unknown>): string {
  const p = policy as {
    timeoutMs?: number;
    perTryTimeoutMs?: number;
    retry?: { maxAttempts?: number; budget?: { percent?: number; minRetriesPerSecond?: number } };
  };
  const budget = p.retry?.budget;
  return [
    `timeout ${p.timeoutMs ?? 0} ms`,
    `per try ${p.perTryTimeoutMs ?? 0} ms`,
    `retry budget ${budget?.percent ?? 20}% + ${budget?.minRetriesPerSecond ?? 10}/s`,
    `max attempts ${p.retry?.maxAttempts ?? 3}`,
  ].join(', ');
}

function bar(p: Progress, width: number): string {
  const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${p.label}`;
}

const color = (code: number) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
const bold = color(1);
const dim = color(2);
const red = color(31);
const green = color(32);
const yellow = color(33);
const cyan = color(36);

/** Cuts a line to `width` visible characters, keeping its escape sequences. */
function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width) continue;
    out += line[i];
    visible++;
  }
  return out;
}

/** Redraws a block of lines in place on a terminal. */
export class Screen {
  #height = 0;
  readonly #out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  draw(lines: readonly string[]): void {
    const up = this.#height > 0 ? `\x1b[${this.#height}F` : '';
    this.#out.write(`${up}\x1b[0J${lines.join('\n')}\n`);
    this.#height = lines.length;
  }

  /** Leaves the last frame on screen; later output goes below it. */
  release(): void {
    this.#height = 0;
  }
}
