/**
 * `weft stat` and `weft top` against a real config service that received traffic reports: the
 * tables show each service's success rate, rps and latency quantiles, a service's endpoints with
 * their share and health, and `top --once` the busiest edges.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { bucketOf, HISTOGRAM_SCHEMA, type TrafficReport } from '@weft/core';
import { ms } from '../src/stat.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const NODE_ARGS = ['--conditions=weft-source', '--disable-warning=ExperimentalWarning'];

function weft(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let svc: ServiceProcess;
let env: Record<string, string>;

function row(
  destination: string,
  endpoint: string,
  requests: number,
  failures: number,
  latencyMs: number,
): TrafficReport['rows'][number] {
  return {
    destination,
    subset: '',
    endpoint,
    requests,
    failures: failures ? { failure: failures } : ({} as Record<string, number>),
    latency: { i: [bucketOf(latencyMs)], c: [requests] },
    state: { healthy: failures === 0, ejected: failures > 0, latencyEstimateMs: latencyMs },
  };
}

before(async () => {
  svc = await startService({});
  env = { WEFT_CONTROL_PLANE: svc.url, WEFT_TOKEN: svc.token };
  const report = (service: string, rows: TrafficReport['rows']): TrafficReport => ({
    reporter: { id: `${service}-1`, service },
    histogram: HISTOGRAM_SCHEMA,
    intervalMs: 5000,
    dropped: { rows: 0, reports: 0 },
    rows,
  });
  for (const body of [
    report('web', [row('users', '10.0.0.1:80', 300, 0, 12), row('users', '10.0.0.2:80', 100, 10, 250)]),
    report('users', [row('db', '10.0.1.1:5432', 50, 0, 2)]),
  ]) {
    const res = await fetch(`${svc.url}/v1/traffic/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 202);
  }
});
after(() => svc.stop());

describe('weft stat / top', () => {
  test('weft stat: one row per service with its success rate, rps and quantiles', async () => {
    const r = await weft(['stat'], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^SERVICE\s+SUCCESS\s+RPS\s+P50\s+P95\s+P99/);
    const users = lines.find((l) => l.startsWith('users'))!;
    assert.match(users, /^users\s+97\.50%\s/, 'users served 400 calls, 10 failed');
    assert.match(users, /\s12ms\s+2[45][0-9]ms\s+2[45][0-9]ms\s/);
    assert.match(r.stdout, /^web\s+-\s/m, 'web served nothing: no success rate');
    assert.match(r.stdout, /2 reporting process\(es\), last 60s/);
  });

  test('weft stat <service>: its destinations and endpoints with share and health; JSON on request', async () => {
    const r = await weft(['stat', 'web', '--window', '300'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /calls from web:\nTO\s+SUCCESS/);
    assert.match(r.stdout, /^users\s+97\.50%/m);
    assert.match(r.stdout, /^users\s+-\s+10\.0\.0\.1:80\s+75%\s+healthy\s+12ms\s+100\.00%/m);
    assert.match(r.stdout, /^users\s+-\s+10\.0\.0\.2:80\s+25%\s+ejected\s+250ms\s+90\.00%/m);
    const j = await weft(['-o', 'json', 'stat', 'users'], env);
    const body = JSON.parse(j.stdout) as { inbound: { from: string; requests: number }[] };
    assert.deepEqual(
      body.inbound.map((e) => [e.from, e.requests]),
      [['web', 400]],
    );
    const bad = await weft(['stat', '--window', '5'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--window/);
  });

  test('weft top --once: the busiest edges first, then the busiest endpoints', async () => {
    const r = await weft(['top', '--once', '--limit', '5'], env);
    assert.equal(r.code, 0, r.stderr);
    const edges = r.stdout
      .split('busiest endpoints:')[0]!
      .split('\n')
      .filter((l) => /^(web|users)\s+(users|db)\s/.test(l));
    assert.deepEqual(
      edges.map((l) => l.split(/\s+/).slice(0, 2).join('>')),
      ['web>users', 'users>db'],
    );
    assert.match(r.stdout, /busiest endpoints:\nFROM\s+DESTINATION\s+ENDPOINT\s+HEALTH/);
    assert.match(r.stdout, /^web\s+users\s+10\.0\.0\.1:80\s+healthy/m);
  });

  test('weft control-plane --traffic-source prometheus needs --prometheus-url', async () => {
    const r = await weft(['control-plane', '--port', '0', '--traffic-source', 'prometheus'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--prometheus-url/);
  });

  test('latencies print in ms below a second and in s above', () => {
    assert.equal(ms(null), '-');
    assert.equal(ms(2.345), '2.3ms');
    assert.equal(ms(250.4), '250ms');
    assert.equal(ms(1500), '1.50s');
  });
});
