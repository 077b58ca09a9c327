/**
 * SIGTERM drains a real server process: readiness turns false, the request in flight finishes, the
 * listener closes and the process ends by the signal, as it would have without Weft.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { delay, KINDS } from './server-apps.ts';

const child = fileURLToPath(new URL('./server-signal-child.ts', import.meta.url));

describe('drain on SIGTERM and on Ctrl-C (SIGINT), by default', () => {
  for (const [kind, sig] of KINDS.flatMap(
    (k) =>
      [
        [k, 'SIGTERM'],
        [k, 'SIGINT'],
      ] as const,
  )) {
    test(`${kind}, ${sig}: in-flight request finishes, readiness false, process exits by the signal`, async () => {
      const proc = spawn(
        process.execPath,
        ['--conditions=weft-source', '--disable-warning=ExperimentalWarning', child, kind],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        const [line] = (await once(proc.stdout, 'data')) as [Buffer];
        const url = `http://127.0.0.1:${Number(line.toString().trim())}`;
        const started = once(proc.stdout, 'data');
        let settled = false;
        const slow = request(`${url}/slow`).then(async (r) => {
          const result = { status: r.statusCode, text: await r.body.text() };
          settled = true;
          return result;
        });
        // The signal goes once the request is in flight (the child says so), not after a guess.
        assert.match(String((await started)[0]), /slow/);
        const exited = once(proc, 'exit');
        proc.kill(sig);
        // Readiness turns false as soon as the child handles the signal, while /slow still runs.
        let readiness = 200;
        while (readiness !== 503 && !settled) {
          const ready = await request(`${url}/readyz`, { reset: true });
          await ready.body.text();
          readiness = ready.statusCode;
          if (readiness !== 503) await delay(10);
        }
        assert.equal(readiness, 503, 'not ready while draining');
        assert.equal(settled, false, 'readiness turned false while the request was in flight');
        assert.deepEqual(await slow, { status: 200, text: 'finished' });
        const [code, signal] = (await exited) as [number | null, string | null];
        assert.equal(signal, sig, `exit code ${code}`);
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
    });
  }
});
