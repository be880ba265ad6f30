import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, sampleFile, type TestApp, until } from './helpers.js';

const METER = 'home/meter/power';
const DAY = 'day:2024-06-01';

/** The sample as a W gauge, and a room with it as its power sensor: every view has something to draw. */
async function seeded(t: Parameters<typeof build>[0]): Promise<TestApp> {
  const w = await build(t, { timezone: 'Europe/London' });
  const send = async (path: string, method: string, body: object) => {
    const r = await w.request(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(r.status === 200 || r.status === 201, `${path}: ${JSON.stringify(r.body)}`);
  };
  await send(`/api/v1/series/${METER}`, 'PUT', { unit: 'W', kind: 'gauge' });
  await send('/api/v1/rooms', 'POST', { name: 'Meeting Room 2', floor: 1 });
  await send('/api/v1/sensors', 'POST', {
    sensor_id: 'meter',
    name: 'Main meter',
    sensor_type: 'power',
    room: 'Meeting Room 2',
    series: METER,
  });
  assert.equal((await w.ingest(fs.readFileSync(sampleFile('readings.ndjson'), 'utf8'))).status, 200);
  await until(async () => (await w.request(`/api/v1/series/${METER}`)).body.count === 96, 10_000, 'the sample stored');
  return w;
}

/**
 * The focused element: what it is, and whether its focus shows (an outline or a ring drawn as a
 * shadow: the `:focus-visible` styles, as focus moved by keyboard).
 */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return undefined;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 1;
    return {
      name: el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '',
      tag: el.tagName.toLowerCase(),
      inNav: !!el.closest('#views'),
      href: el.getAttribute('href'),
      visible: outline || style.boxShadow !== 'none',
    };
  });
}

test('keyboard: Tab from the top reaches the views, periods, ‹ ›, compare and the custom range, each with a visible focus; Enter opens a period', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();
  await page.goto(`${w.url}/?period=${DAY}`);
  await drawn(page);

  const reached = new Map<string, boolean>();
  let thisWeekAt = -1;
  for (let i = 0; i < 40 && !reached.has('Show'); i++) {
    await page.keyboard.press('Tab');
    const el = await focused(page);
    if (!el) continue;
    const name = el.inNav ? `nav:${el.name}` : el.name;
    reached.set(name, (reached.get(name) ?? true) && el.visible);
    if (el.name === 'This week' && thisWeekAt < 0) thisWeekAt = i;
  }
  for (const name of [
    'nav:Overview',
    'nav:Power',
    'nav:Rooms',
    'Today',
    'This week',
    'Last 24 h',
    'Previous period',
    'Next period',
    'Compare with the previous period',
    'From',
    'To (inclusive)',
    'Show',
  ]) {
    assert.ok(reached.has(name), `Tab reaches "${name}" (reached: ${[...reached.keys()].join(', ')})`);
    assert.equal(reached.get(name), true, `"${name}" shows its focus`);
  }
  await browser.screenshot(page, 'a11y-focus-desktop');

  // back to "This week" by keyboard alone, and Enter on it
  await page.goto(`${w.url}/?period=${DAY}`);
  await drawn(page);
  for (let i = 0; i <= thisWeekAt; i++) await page.keyboard.press('Tab');
  assert.equal((await focused(page))?.name, 'This week');
  await page.keyboard.press('Enter');
  await page.waitForURL(/period=this-week/);
  await drawn(page);
  assert.match((await page.getByTestId('period-label').textContent()) ?? '', /^Week of /);
  assert.equal(await page.locator('#period .presets a[aria-current]').textContent(), 'This week');
  assert.deepEqual(page.errors, []);
});

test('no request leaves the server: every view loads from its own origin only', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  await page.goto(`${w.url}/?period=today`);
  await drawn(page);
  const views = await page.locator('#views a').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
  for (const href of views) {
    await page.goto(href);
    await drawn(page);
  }
  const origin = new URL(w.url);
  const outside = requests.filter((url) => new URL(url).host !== origin.host);
  assert.ok(requests.length > views.length, `requests recorded: ${requests.length}`);
  assert.deepEqual(outside, []);
});

test('dark mode: prefers-color-scheme dark gives a dark background, light a light one', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();
  const background = () =>
    page.evaluate(() => {
      const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.map(Number);
      return { r, g, b, luminance: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 };
    });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(`${w.url}/?period=${DAY}`);
  await drawn(page);
  const light = await background();
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await background();
  assert.notDeepEqual(dark, light);
  assert.ok(light.luminance > 0.8, `light background ${JSON.stringify(light)}`);
  assert.ok(dark.luminance < 0.2, `dark background ${JSON.stringify(dark)}`);
  await browser.screenshot(page, 'a11y-dark-desktop');
  const phone = await browser.page(PHONE);
  await phone.emulateMedia({ colorScheme: 'dark' });
  await phone.goto(`${w.url}/?view=power&period=${DAY}`);
  await drawn(phone);
  await browser.screenshot(phone, 'a11y-dark-power-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('390 px: no view scrolls sideways', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page(PHONE);
  await page.goto(`${w.url}/?period=${DAY}`);
  await drawn(page);
  const views = await page
    .locator('#views a')
    .evaluateAll((links) => links.map((a) => ({ title: a.textContent ?? '', href: (a as HTMLAnchorElement).href })));
  assert.ok(views.length >= 3, `views in the navigation: ${views.map((v) => v.title)}`);
  for (const view of views) {
    await page.goto(view.href);
    await drawn(page);
    const width = await page.evaluate(() => document.scrollingElement!.scrollWidth);
    await browser.screenshot(page, `a11y-${view.title.toLowerCase()}-390px`);
    assert.ok(width <= PHONE.width, `${view.title} is ${width} px wide at ${PHONE.width} px`);
  }
  assert.deepEqual(page.errors, []);
});
