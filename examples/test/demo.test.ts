/**
 * The shop demo, headless: `npm start -- --seconds 5 --no-tty` as a child process. Traffic must have
 * flowed through every service (the load generator → frontend, frontend → catalog over HTTP,
 * frontend → inventory over gRPC, every instance getting calls), with no failed request and no
 * process exiting on its own; every service must export its metrics on its Prometheus endpoint
 * while it runs; afterwards no process of the demo may be left running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const start = fileURLToPath(new URL('../start.ts', import.meta.url));

interface Summary {
  readySeconds: number;
  totals: Record<string, { requests: number; failures: number }>;
  calls: Record<string, Record<string, number>>;
  errors: Record<string, Record<string, number>>;
  unexpectedExits: string[];
  pids: number[];
}

const INSTANCES = {
  frontend: ['frontend'],
  catalog: ['catalog-1', 'catalog-2', 'catalog-3'],
  inventory: ['inventory-1', 'inventory-2'],
};

/** Metrics each service must export (through the OpenTelemetry SDK and its Prometheus exporter). */
const METRICS: Record<string, string[]> = {
  loadgen: ['weft_client_calls_total', 'http_client_request_duration_count'],
  frontend: ['weft_client_calls_total', 'http_server_request_duration_count', 'rpc_client_duration_count'],
  'catalog-1': ['http_server_request_duration_count'],
  'catalog-3': ['http_server_request_duration_count'],
  'inventory-1': ['rpc_server_duration_count'],
};

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fetches `/metrics` of every service listed in the demo's "where to look" lines. */
async function scrape(out: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const [, instance, port] of out.matchAll(
    /^ {2}(\S+) .*metrics http:\/\/127\.0\.0\.1:(\d+)\/metrics/gm,
  )) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    result[instance!] = res.ok ? await res.text() : '';
  }
  return result;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the demo runs headless: traffic through every service and instance, no errors, no process left', async () => {
  const child = spawn(
    process.execPath,
    [
      '--conditions=weft-source',
      '--disable-warning=ExperimentalWarning',
      start,
      '--seconds',
      '5',
      '--no-tty',
      '--rate',
      '60',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  // Once every process is up, scrape each service's Prometheus endpoint while traffic flows.
  let scraped: Promise<Record<string, string>> | undefined;
  child.stdout.on('data', (d) => {
    out += d;
    if (!scraped && /All \d+ processes up/.test(out)) scraped = delay(2500).then(() => scrape(out));
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  // Generous: eight Node processes start on a possibly busy 2-core machine.
  const killer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  try {
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, `the demo exited with ${code}\n${out}\n${err}`);
  } finally {
    clearTimeout(killer);
  }

  assert.ok(scraped, `the demo never said it was up:\n${out}`);
  const metrics = await scraped;
  for (const [instance, names] of Object.entries(METRICS)) {
    const text = metrics[instance];
    assert.ok(text, `no metrics endpoint for ${instance}`);
    for (const name of ['target_info', ...names])
      assert.match(text, new RegExp(`^${name}`, 'm'), `${instance}: no ${name} in its /metrics`);
  }

  const line = out.split('\n').find((l) => l.startsWith('summary '));
  assert.ok(line, `no summary line in the output:\n${out}\n${err}`);
  const summary = JSON.parse(line.slice('summary '.length)) as Summary;

  assert.deepEqual(summary.unexpectedExits, []);
  assert.deepEqual(summary.errors, {}, 'no call failed in any window');
  for (const destination of ['frontend', 'catalog', 'inventory']) {
    const t = summary.totals[destination];
    assert.ok(t, `no totals for ${destination}:\n${out}`);
    assert.ok(t.requests >= 50, `${destination}: only ${t.requests} requests`);
    assert.equal(t.failures, 0, `${destination}: ${t.failures} failed`);
  }
  // Every instance got calls, as the callers' Weft clients counted them.
  for (const [destination, instances] of Object.entries(INSTANCES))
    for (const instance of instances)
      assert.ok((summary.calls[destination]?.[instance] ?? 0) > 0, `${instance} got no calls: ${line}`);

  // The launcher stopped every child: none is left.
  assert.equal(summary.pids.length, 8);
  const deadline = Date.now() + 5000;
  while (summary.pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(summary.pids.filter(alive), [], 'processes of the demo still running');
});
