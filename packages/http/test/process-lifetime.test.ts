/**
 * A pending call keeps the process alive. Scripts run with top-level `await` in a child process: if
 * an awaited timer (retry backoff, deadline, the config client's start timeout) were unref'd, Node
 * would exit with code 13 ("unsettled top-level await") before the promise settled.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function script(source: string): Promise<{ code: number; stdout: string; ms: number }> {
  const started = performance.now();
  try {
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=weft-source',
        '--disable-warning=ExperimentalWarning',
        '--input-type=module',
        '-e',
        source,
      ],
      { timeout: 60_000 },
    );
    return { code: 0, stdout, ms: performance.now() - started };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', ms: performance.now() - started };
  }
}

describe('process lifetime', () => {
  test('a call to a refusing endpoint rejects instead of the process exiting mid-call', async () => {
    const r = await script(`
      import { createClient } from '@weft/http';
      const client = createClient({ service: 'nowhere', endpoints: ['127.0.0.1:1'] });
      try { await client.fetch('/'); console.log('resolved'); }
      catch (e) { console.log(e.code); }
      await client.close();
    `);
    assert.equal(r.code, 0, `exit code ${r.code} (13 = the process exited with the call unsettled)`);
    assert.equal(r.stdout.trim(), 'WEFT_CONNECT_FAILED');
  });

  test('await config.ready() with the service down rejects after its start timeout', async () => {
    const r = await script(`
      import { createConfigClient } from '@weft/core/config';
      const config = createConfigClient({ urls: 'http://127.0.0.1:1', startTimeoutMs: 2000 });
      try { await config.ready(); console.log('ready'); }
      catch (e) { console.log(e.code); }
      await config.close();
    `);
    assert.equal(r.code, 0, `exit code ${r.code} (13 = the process exited with ready() unsettled)`);
    assert.equal(r.stdout.trim(), 'WEFT_RESOLUTION_FAILED');
    assert.ok(r.ms >= 1900, `rejected after the start timeout, not before (${Math.round(r.ms)} ms)`);
  });

  test('background work alone does not hold the process open', async () => {
    const r = await script(`
      import { createConfigClient } from '@weft/core/config';
      createConfigClient({ urls: 'http://127.0.0.1:1', startTimeoutMs: 30000 });
      console.log('done');
    `);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), 'done');
    assert.ok(r.ms < 20_000, `exited without waiting for the start timeout (${Math.round(r.ms)} ms)`);
  });
});
