/**
 * Headless Chromium for the dashboard's browser tests and screenshots, driven by playwright-core:
 * Debian's build (the test setup installs the `chromium` package when it is missing), on loopback,
 * every wait bounded.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium binary (the `chromium` command is a shell wrapper around it). */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Longest wait of any one browser step, in ms. */
export const STEP_MS = 15_000;

export async function launch(): Promise<Browser> {
  const executablePath = process.env.WEFT_CHROMIUM ?? CANDIDATES.find((p) => existsSync(p));
  if (!executablePath) throw new Error('no Chromium found: install the `chromium` package');
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 30_000,
    // Root in a container has no user namespaces for Chromium's sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server'],
  });
}

/** A fresh page (own storage) with bounded waits, that fails the test on any page error. */
export async function openPage(browser: Browser, errors: string[] = []): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  return page;
}

/** Logs in through the form with `token`. */
export async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.fill('[data-test=token]', token);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=who]');
}
