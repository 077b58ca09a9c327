import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { call, type ServiceProcess, startService, tempDir } from './service.ts';

describe('durability of the SQLite store', () => {
  const dir = tempDir();
  const running: ServiceProcess[] = [];
  after(async () => {
    for (const s of running) await s.kill();
    dir.remove();
  });

  test('kill -9 during writes loses no acknowledged write', async () => {
    const first = await startService({ data: dir.path });
    running.push(first);
    const { token } = first;
    // 8 writers each update their own document with an increasing counter until the process dies.
    const acknowledged = new Map<string, { value: number; revision: number }>();
    let stop = false;
    let failures = 0;
    const writer = async (w: number) => {
      for (let value = 1; !stop; value++) {
        try {
          const r = await call(first.url, 'PUT', `/v1/documents/DestinationPolicy/w${w}`, {
            token,
            body: { spec: { timeoutMs: value } },
          });
          if (r.status === 200 || r.status === 201)
            acknowledged.set(`w${w}`, { value, revision: r.body.revision });
        } catch {
          failures++;
          return; // the process is gone: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 700));
    await first.kill(); // SIGKILL while writes are in flight
    stop = true;
    await Promise.all(writers);
    assert.ok(acknowledged.size === 8, 'every writer got some writes acknowledged');
    assert.ok(failures > 0, 'some writes were in flight at the kill');

    const second = await startService({ data: dir.path, token });
    running.push(second);
    const maxAck = Math.max(...[...acknowledged.values()].map((a) => a.revision));
    const health = await call(second.url, 'GET', '/healthz');
    assert.ok(
      health.body.revision >= maxAck,
      `revision ${health.body.revision} ≥ last acknowledged ${maxAck}`,
    );
    for (const [name, ack] of acknowledged) {
      const r = await call(second.url, 'GET', `/v1/documents/DestinationPolicy/${name}`, { token });
      assert.equal(r.status, 200);
      // The stored value is the acknowledged one, or a later write that committed but whose reply was lost.
      assert.ok(
        r.body.spec.timeoutMs >= ack.value,
        `${name}: stored ${r.body.spec.timeoutMs} ≥ acked ${ack.value}`,
      );
      assert.ok(r.body.revision >= ack.revision);
    }
    // The history is complete and dense: every revision up to the current one is there.
    const history = await call(second.url, 'GET', '/v1/history?limit=10000', { token });
    const revisions = history.body.entries
      .map((e: { revision: number }) => e.revision)
      .sort((a: number, b: number) => a - b);
    assert.deepEqual(
      revisions,
      Array.from({ length: health.body.revision }, (_, i) => i + 1),
    );
    console.log(
      `durability ${JSON.stringify({ acknowledgedWrites: maxAck, revisionAfterRestart: health.body.revision })}`,
    );
  });
});
