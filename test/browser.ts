import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { tempDir } from './helpers.js';

/** Debian's chromium (`.ci/run` installs it); `npx playwright install` cannot download here. */
export const CHROMIUM = '/usr/bin/chromium';
/** Headless, no sandbox (root in CI), nothing fetched in the background (the bench uses them too). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
/** Where screenshots go for review (git-ignored). */
export const RESULTS = path.join(import.meta.dirname, '..', 'test-results');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab of the given size (default: desktop), whose page errors fail the test's assertions via `errors`. */
  page(viewport?: { width: number; height: number }): Promise<Page & { errors: string[] }>;
  /** Writes `test-results/<name>.png` (the whole page) for review. */
  screenshot(page: Page, name: string): Promise<string>;
}

/**
 * A headless Chromium on a fresh profile, closed when the test ends; undefined (the test skipped
 * with the reason) when Chromium is not installed — or, with REQUIRE_SERVICES=1, a failure.
 */
export async function launchBrowser(t: TestContext): Promise<TestBrowser | undefined> {
  if (!fs.existsSync(CHROMIUM)) {
    const reason = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
    t.skip(reason);
    return undefined;
  }
  const profile = tempDir('wattline-chromium-');
  // a persistent context is how Playwright gives Chromium a user-data-dir of our choosing
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: DESKTOP,
  });
  t.after(async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return {
    context,
    async page(viewport = DESKTOP) {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (err) => page.errors.push(err.message));
      await page.setViewportSize(viewport);
      return page;
    },
    async screenshot(page, name) {
      fs.mkdirSync(RESULTS, { recursive: true });
      const file = path.join(RESULTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** Waits until the dashboard's view has drawn (every panel answered or showed its error). */
export async function drawn(page: Page) {
  await page.locator('.view[aria-busy="false"]').waitFor();
}
