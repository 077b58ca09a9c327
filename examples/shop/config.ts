/**
 * The demo's use of the config service from the launcher: the admin token, the first policies and
 * the catalog Route, a token for the services, and the `weft` CLI for the tour's live changes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DestinationPolicy } from '@weft/core/config';
import { catalogRoute, INITIAL_WEIGHTS } from './routes.ts';
import { meshTelemetry } from './telemetry.ts';

/** A fresh admin token in the service's format (`weft_<16 hex>_<43 base64url>`). */
export function newAdminToken(): string {
  return `weft_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

/** The destination policies the demo starts with: the callers' timeouts, retries and budgets. */
export const INITIAL_POLICIES: Record<string, DestinationPolicy> = {
  frontend: { timeoutMs: 2000, retry: { maxAttempts: 2, budget: { percent: 10 } } },
  catalog: {
    // A shorter latency memory than the default 10 s, so that the demo shows recovery within seconds.
    balancer: { decayMs: 3000 },
    timeoutMs: 1000,
    perTryTimeoutMs: 300,
    retry: { maxAttempts: 3, budget: { percent: 20, minRetriesPerSecond: 10 } },
    outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 5000 },
  },
  inventory: {
    balancer: { decayMs: 3000 },
    timeoutMs: 800,
    perTryTimeoutMs: 250,
    retry: { maxAttempts: 3, budget: { percent: 20, minRetriesPerSecond: 10 } },
    outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 5000 },
  },
};

/** Calls the config service's HTTP API; throws with the service's message on an error status. */
export async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(new URL(path, url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** The demo's services; each gets its own token, scoped to it (it registers only itself). */
export const SHOP_SERVICES = ['catalog', 'inventory', 'frontend', 'loadgen'] as const;

/**
 * Writes the first policies and the catalog Route (one revision) and makes a `service` token for
 * each of the demo's services. Returns the tokens by service and the revision of the documents.
 */
export async function seed(
  url: string,
  adminToken: string,
): Promise<{ serviceTokens: Record<(typeof SHOP_SERVICES)[number], string>; revision: number }> {
  const documents = [
    ...Object.entries(INITIAL_POLICIES).map(([name, spec]) => ({ kind: 'DestinationPolicy', name, spec })),
    { kind: 'Route', name: 'catalog', spec: catalogRoute({ weights: INITIAL_WEIGHTS }) },
    // Every service's SDK follows it (`@weft/otel`): sampling, export interval, OTLP endpoints.
    { kind: 'Telemetry', name: 'mesh', spec: meshTelemetry(process.env.OTEL_EXPORTER_OTLP_ENDPOINT) },
  ];
  const applied = (await api(url, adminToken, 'POST', '/v1/apply', { documents })) as { revision: number };
  const serviceTokens = {} as Record<(typeof SHOP_SERVICES)[number], string>;
  for (const service of SHOP_SERVICES) {
    const created = (await api(url, adminToken, 'POST', '/v1/tokens', {
      name: `shop-${service}`,
      role: 'service',
      service,
    })) as { token: string };
    serviceTokens[service] = created.token;
  }
  return { serviceTokens, revision: applied.revision };
}

/** The `weft` CLI, run from its TypeScript sources on this Node. */
export function cliPath(): string {
  return fileURLToPath(import.meta.resolve('@weft/cli'));
}

/**
 * Runs `weft <args>` against the config service, as a person would from a shell; resolves with its
 * output, rejects with its error output when it exits non-zero.
 */
export function weftCli(url: string, token: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=weft-source', '--disable-warning=ExperimentalWarning', cliPath(), ...args],
      {
        env: { ...process.env, WEFT_CONTROL_PLANE: url, WEFT_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`weft ${args.join(' ')}: ${err.trim() || out.trim()}`)),
    );
  });
}

/** The revision of the last write to a document (404: an error). */
export async function documentRevision(
  url: string,
  token: string,
  kind: string,
  name: string,
): Promise<number> {
  const d = (await api(url, token, 'GET', `/v1/documents/${kind}/${name}`)) as { revision: number };
  return d.revision;
}

/** Writes a YAML file of one DestinationPolicy for `weft apply -f`. */
export function policyFile(dir: string, name: string, yaml: string): string {
  const file = join(dir, `${name}-policy.yaml`);
  writeFileSync(file, yaml);
  return file;
}
