/**
 * The dashboard's rollout view in a real browser against a real mesh (mesh.ts: catalog v1 and v2
 * under steady load). A Rollout of catalog, applied through the API with one-second intervals, is
 * shown on catalog's page with its steps and judged intervals; an admin pauses and resumes it (and
 * sees the reason of an action that does not apply); a viewer sees the buttons disabled and the API
 * refuses the action.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, login, openPage } from './browser.ts';
import { startMesh, type TestMesh } from './mesh.ts';

let mesh: TestMesh;
let browser: Browser;
const pageErrors: string[] = [];

/** The Rollout under test: a first step that holds for ten minutes, so the test decides what happens. */
const ROLLOUT = {
  stable: 'v1',
  canary: 'v2',
  steps: [{ weight: 20, pauseS: 600 }, { weight: 100 }],
  analysis: { intervalS: 1, minRequests: 3, successRate: { minPercent: 90 } },
};

async function phase(): Promise<string | undefined> {
  const view = (await (await mesh.api('GET', '/v1/rollouts/catalog')).json()) as {
    status: { phase: string } | null;
  };
  return view.status?.phase;
}

async function adminPage(hash: string): Promise<Page> {
  const page = await openPage(browser, pageErrors);
  await login(page, mesh.cp.url, mesh.cp.token);
  await page.goto(`${mesh.cp.url}/ui/${hash}`);
  return page;
}

before(async () => {
  [mesh, browser] = await Promise.all([startMesh(), launch()]);
  const put = await mesh.api('PUT', '/v1/documents/Rollout/catalog', { spec: ROLLOUT });
  assert.equal(put.status, 201, await put.text());
});
after(async () => {
  await browser?.close();
  await mesh?.close();
  assert.deepEqual(pageErrors, [], 'no script error on any page');
});

describe('the rollout view in a browser, on a real mesh', () => {
  test('a service without a Rollout shows no rollout view', async () => {
    const page = await adminPage('#/service/frontend');
    await page.waitForSelector('[data-test=endpoint]');
    assert.equal(await page.locator('[data-test=rollout]').count(), 1);
    assert.equal(await page.locator('[data-test=rollout]').isVisible(), false);
    await page.context().close();
  });

  test('an admin sees the steps and the judged intervals, pauses and resumes', async () => {
    const page = await adminPage('#/service/catalog');
    const view = page.locator('[data-test=rollout]');
    await view.waitFor();
    const steps = view.locator('[data-test=rollout-step]');
    await page.waitForSelector('[data-test=rollout-phase][data-phase=progressing]');
    assert.equal(await steps.count(), 2);
    assert.match((await steps.nth(0).textContent()) ?? '', /20% to v2.*600 s/);
    assert.equal(await steps.nth(0).getAttribute('data-current'), 'true');
    assert.equal(await steps.nth(1).getAttribute('data-current'), null);
    assert.match((await page.textContent('[data-test=rollout-phase]')) ?? '', /v2 at 20%, v1 at 80%/);
    // Live: the page shows intervals as the driver judges them (one a second), without a reload.
    const passed = view.locator('[data-test=rollout-interval][data-result=passed]');
    await passed.first().waitFor({ timeout: 20_000 });
    assert.match((await passed.first().textContent()) ?? '', /100\.00%/, 'the canary’s success rate');

    // Resume does not apply while progressing: the config service's reason is shown.
    await page.click('[data-test=rollout-resume]');
    await page.waitForSelector('[data-test=rollout-error]:has-text("is not paused")');
    assert.equal(await phase(), 'progressing');

    await page.click('[data-test=rollout-pause]');
    await page.waitForSelector('[data-test=rollout-phase][data-phase=paused]');
    assert.equal(await phase(), 'paused');
    assert.match((await page.textContent('[data-test=rollout-reason]')) ?? '', /paused by/);
    assert.equal(await page.locator('[data-test=rollout-error]').count(), 0, 'the old error is gone');

    await page.click('[data-test=rollout-resume]');
    await page.waitForSelector('[data-test=rollout-phase][data-phase=progressing]');
    assert.equal(await phase(), 'progressing');
    await page.context().close();
  });

  test('a viewer sees the rollout with every button disabled, and the API refuses the action (403)', async () => {
    const created = await (await mesh.api('POST', '/v1/tokens', { name: 'watcher', role: 'viewer' })).json();
    const page = await openPage(browser, pageErrors);
    await login(page, mesh.cp.url, created.token);
    await page.waitForSelector('[data-test=who][data-role=viewer]');
    await page.goto(`${mesh.cp.url}/ui/#/service/catalog`);
    await page.waitForSelector('[data-test=rollout-phase][data-phase=progressing]');
    await page.waitForSelector('[data-test=rollout-interval]');
    const buttons = page.locator('[data-test=rollout] .actions button');
    assert.equal(await buttons.count(), 4);
    for (let i = 0; i < 4; i++) assert.ok(await buttons.nth(i).isDisabled(), `button #${i}`);
    // The same write the page would send, with the page's own token: the API says no.
    const status = await page.evaluate(async () => {
      const token = sessionStorage.getItem('weft.token');
      return (
        await fetch('/v1/rollouts/catalog/pause', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).status;
    });
    assert.equal(status, 403);
    assert.equal(await phase(), 'progressing');
    await page.context().close();
  });
});
