import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page, WebSocket } from 'playwright-core';
import { chosenView, viewsOn } from '../web/modules.js';
import { launchBrowser, drawn } from './browser.js';
import { build, type TestApp, until } from './helpers.js';

const SERIES = 'home/meter/power';

/** The config the server embeds in the dashboard's page (`<script id="wattline-config">`). */
async function pageConfig(w: TestApp): Promise<{ modules: string[] }> {
  const r = await fetch(`${w.url}/`, { headers: { accept: 'text/html' } });
  assert.equal(r.status, 200);
  const html = await r.text();
  const json = html.match(/<script type="application\/json" id="wattline-config">(.*?)<\/script>/s)?.[1];
  assert.ok(json, 'the page embeds wattline-config');
  return JSON.parse(json);
}

const navTitles = (page: Page) => page.locator('#views a').allTextContents();

test('modules: only views of modules that are on are offered, and ?view= of one that is off opens the first', () => {
  const views = [
    { id: 'overview', title: 'Overview' },
    { id: 'rooms', title: 'Rooms', module: 'buildings' },
    { id: 'fleet', title: 'Fleet', module: 'lada' },
  ];
  assert.deepEqual(
    viewsOn(views, ['readings', 'buildings']).map((v) => v.id),
    ['overview', 'rooms'],
  );
  assert.deepEqual(
    viewsOn(views, []).map((v) => v.id),
    ['overview'],
  );
  const shown = viewsOn(views, ['buildings']);
  assert.equal(chosenView(shown, 'rooms').id, 'rooms');
  assert.equal(chosenView(shown, 'fleet').id, 'overview', 'a view whose module is off falls back to the first');
  assert.equal(chosenView(shown, null).id, 'overview');
});

test('modules: the page lists the modules the server says are running, and offers their views', async (t) => {
  const w = await build(t);
  const config = await pageConfig(w);
  const overview = await w.request('/api/v1/overview');
  assert.equal(overview.status, 200, JSON.stringify(overview.body));
  const running = overview.body.modules
    .filter((m: { state: string }) => m.state === 'running')
    .map((m: { name: string }) => m.name);
  assert.deepEqual([...config.modules].sort(), [...running].sort());
  assert.ok(config.modules.includes('buildings'), 'the buildings module is on by default');
  assert.ok(config.modules.includes('flex'), 'the flex module is on by default: its Demand response view is offered');

  const browser = await launchBrowser(t);
  if (!browser) return;
  const page = await browser.page();
  await page.goto(`${w.url}/?view=rooms`);
  await drawn(page);
  assert.ok((await navTitles(page)).includes('Rooms'));
  assert.ok((await navTitles(page)).includes('Demand response'));
  assert.equal(await page.locator('.view').getAttribute('data-view'), 'rooms');

  // the same page told that buildings is off (no module can be switched off at run time yet):
  // the config is rewritten on its way to the browser, the server stays as it is
  const off = await browser.page();
  await off.route(`${w.url}/?view=rooms`, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace('"buildings",', '').replace(',"buildings"', '');
    await route.fulfill({ response, body });
  });
  await off.goto(`${w.url}/?view=rooms`);
  await drawn(off);
  const titles = await navTitles(off);
  assert.ok(titles.length >= 2 && !titles.includes('Rooms'), `navigation without Rooms: ${titles}`);
  assert.equal(await off.locator('.view').getAttribute('data-view'), 'overview', '?view=rooms opens the first view');
  assert.equal(await off.locator('#views a[aria-current="page"]').textContent(), titles[0]);
  assert.deepEqual(off.errors, []);
});

test('lifecycle: the Power view’s live WebSocket is closed once another view is shown', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  const described = await w.request(`/api/v1/series/${SERIES}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ unit: 'W', kind: 'gauge' }),
  });
  assert.ok(described.status === 200 || described.status === 201, JSON.stringify(described.body));

  const page = await browser.page();
  const sockets: WebSocket[] = [];
  page.on('websocket', (ws) => sockets.push(ws));
  // today includes now: the view follows the described gauge's new readings live
  await page.goto(`${w.url}/?view=power&period=today`);
  await drawn(page);
  await page.getByTestId('live').waitFor();
  await until(async () => sockets.length === 1, 10_000, 'the live feed opened');
  assert.equal(sockets[0].isClosed(), false);

  await page.locator('#views a', { hasText: 'Overview' }).click();
  await drawn(page);
  assert.equal(await page.locator('.view').getAttribute('data-view'), 'overview');
  await until(async () => sockets[0].isClosed(), 10_000, 'the Power view’s WebSocket closed');
  // the Overview follows the power now with its own feed: one socket open, never two
  assert.ok(sockets.filter((s) => !s.isClosed()).length <= 1, 'one live feed open at most');
  assert.deepEqual(page.errors, []);
});
