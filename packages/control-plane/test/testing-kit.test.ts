import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startService } from '@weft/control-plane/testing';

describe('@weft/control-plane/testing', () => {
  test('startService() without data uses a fresh temporary store each time, removed on stop', async () => {
    const cwd = process.cwd();
    const scratch = mkdtempSync(join(tmpdir(), 'weft-cwd-'));
    process.chdir(scratch);
    try {
      for (let run = 0; run < 2; run++) {
        const cp = await startService();
        try {
          assert.notEqual(cp.token, '', `run ${run}: a fresh store prints its admin token`);
          const res = await fetch(`${cp.url}/v1/tokens`, {
            headers: { authorization: `Bearer ${cp.token}` },
          });
          assert.equal(res.status, 200, `run ${run}: the token works`);
          await res.text();
        } finally {
          await cp.stop();
        }
      }
      assert.equal(existsSync(join(scratch, 'weft-data')), false, 'nothing written to the current directory');
    } finally {
      process.chdir(cwd);
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
