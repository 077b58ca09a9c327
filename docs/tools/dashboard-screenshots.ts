/**
 * Regenerates the screenshots of docs/dashboard.md (docs/dashboard/*.png) from the real thing: it
 * runs the shop demo (`examples/start.ts`), logs in to the dashboard it prints with headless
 * Chromium, moves the catalog canary slider to 10% through the page (so the history has a diff),
 * and shoots each page; last it applies a short `Rollout` of catalog through the API and shoots its
 * view once the driver has judged a few intervals. Also prints the first paint of the graph page. Run with
 * `npm run docs:dashboard`; the PNGs are committed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { launch, openPage } from '../../examples/test/dashboard/browser.ts';
import { buildUi } from '../../packages/control-plane/ui/build.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = (name: string) => `${root}docs/dashboard/${name}.png`;

async function startDemo(): Promise<{ child: ChildProcess; base: string; admin: string; viewer: string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=weft-source',
      '--disable-warning=ExperimentalWarning',
      `${root}examples/start.ts`,
      '--no-tty',
      '--seconds',
      '300',
      '--rate',
      '80',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let text = '';
  child.stdout!.on('data', (d) => {
    text += d;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const viewer = /dashboard +(http:\/\/127\.0\.0\.1:\d+)\/ui\/#token=(\S+) +\(read only\)/.exec(text);
    const admin = /as admin \(may change\): \S+#token=(\S+)\n/.exec(text);
    if (viewer && admin) return { child, base: viewer[1]!, viewer: viewer[2]!, admin: admin[1]! };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the demo did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

await buildUi({ ifStale: true });
const demo = await startDemo();
const browser = await launch();
try {
  const page = await openPage(browser);
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${demo.base}/ui/`);
  await page.waitForSelector('[data-test=login]');
  await page.screenshot({ path: out('login') });

  // Let every process send a few reports, so that the window holds traffic.
  await page.goto(`${demo.base}/ui/#token=${demo.admin}`);
  await page.waitForSelector('[data-test=edge][data-from=frontend][data-to=inventory]', { timeout: 60_000 });
  await page.waitForTimeout(12_000);
  await page.screenshot({ path: out('graph') });
  const paint = await page.evaluate(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  );
  console.log(`graph page first contentful paint: ${paint?.toFixed(0)} ms`);

  await page.goto(`${demo.base}/ui/#/service/catalog`);
  const v2 = '[data-test=rule][data-rule="1"] [data-test=slider][data-subset=v2]';
  await page.waitForSelector(v2);
  await page.fill(v2, '10');
  await page.click('[data-test=rule][data-rule="1"] [data-test=apply-split]');
  await page.waitForSelector('[data-test=route-written]');
  await page.waitForTimeout(8000);
  await page.setViewportSize({ width: 1280, height: 1400 });
  await page.screenshot({ path: out('service'), fullPage: true });

  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${demo.base}/ui/#/switch`);
  await page.click('[data-test=stop]');
  await page.waitForSelector('dialog[open]');
  await page.screenshot({ path: out('kill-switch') });
  await page.click('dialog [data-test=cancel]');

  await page.goto(`${demo.base}/ui/#/history`);
  await page.waitForSelector('[data-test=entry] [data-test=diff]');
  await page.screenshot({ path: out('history'), fullPage: true });

  const viewer = await openPage(browser);
  await viewer.setViewportSize({ width: 1280, height: 760 });
  await viewer.goto(`${demo.base}/ui/#token=${demo.viewer}`);
  await viewer.waitForSelector('[data-test=who][data-role=viewer]');
  await viewer.goto(`${demo.base}/ui/#/service/catalog`);
  await viewer.waitForSelector('[data-test=slider]');
  await viewer.locator('[data-test=route]').scrollIntoViewIfNeeded();
  await viewer.screenshot({ path: out('viewer') });

  const rollout = await fetch(`${demo.base}/v1/documents/Rollout/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${demo.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      spec: {
        stable: 'v1',
        canary: 'v2',
        steps: [{ weight: 10, pauseS: 20 }, { weight: 50, pauseS: 600 }, { weight: 100 }],
        analysis: { intervalS: 10, minRequests: 20 },
      },
    }),
  });
  if (!rollout.ok) throw new Error(`Rollout not applied: ${rollout.status} ${await rollout.text()}`);
  await page.goto(`${demo.base}/ui/#/service/catalog`);
  await page.waitForSelector('[data-test=rollout-step][data-step="1"][data-current]', { timeout: 90_000 });
  await page.waitForSelector('[data-test=rollout-interval][data-step="1"]', { timeout: 30_000 });
  await page.locator('[data-test=rollout]').screenshot({ path: out('rollout') });
} finally {
  await browser.close();
  demo.child.kill('SIGINT');
  await once(demo.child, 'exit');
}
