/**
 * The shop demo, headless: `npm start -- --seconds 5 --no-tty` as a child process. Traffic must have
 * flowed through every service (the load generator → frontend, frontend → catalog over HTTP,
 * frontend → inventory over gRPC, every instance getting calls), with no failed request and no
 * process exiting on its own; afterwards no process of the demo may be left running.
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
  child.stdout.on('data', (d) => {
    out += d;
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
