import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, sampleFile, type TestApp, until } from './helpers.js';

const SERIES = 'home/meter/power';

async function describeAsWatts(w: TestApp) {
  const described = await w.request(`/api/v1/series/${SERIES}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ unit: 'W', kind: 'gauge' }),
  });
  assert.ok(described.status === 200 || described.status === 201, JSON.stringify(described.body));
}

/** The points the API returns for the window and range the page says it drew. */
async function apiPoints(w: TestApp, page: Page): Promise<number> {
  const chart = page.getByTestId('power-chart');
  const query = new URLSearchParams({
    series: SERIES,
    start: (await chart.getAttribute('data-start')) ?? '',
    end: (await chart.getAttribute('data-end')) ?? '',
    window: (await chart.getAttribute('data-window')) ?? '',
    agg: 'avg',
    tz: 'Europe/London',
  });
  const r = await w.request(`/api/v1/query?${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points.length;
}

const legend = (page: Page) => page.locator(`li[data-series="${SERIES}"]`);

test('power: a W gauge drawn with the points the API returns; a reading for now shows up live', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t, { timezone: 'Europe/London' });
  await describeAsWatts(w);
  // readings over the last half hour of today (the page's "today"), one a minute
  const now = Date.now();
  const midnight = new Date(new Date(now).toLocaleString('en-US', { timeZone: 'Europe/London' }));
  const sinceMidnight = midnight.getHours() * 3_600_000 + midnight.getMinutes() * 60_000;
  const readings = [];
  for (let i = 30; i >= 1; i--)
    if (i * 60_000 < sinceMidnight) readings.push({ series: SERIES, value: 1000 + i, ts: now - i * 60_000 });
  assert.equal((await w.ingest(readings)).status, 200);
  await until(
    async () => (await w.request(`/api/v1/series/${SERIES}`)).body.count === readings.length,
    10_000,
    'readings stored',
  );

  const page = await browser.page();
  await page.goto(`${w.url}/?view=power&period=today`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  assert.equal(await page.getByTestId('power-chart').getAttribute('data-window'), '1m', 'a day is drawn per minute');
  const expected = await apiPoints(w, page);
  assert.ok(expected >= 1, `points today (${expected})`);
  assert.equal(await legend(page).getAttribute('data-points'), String(expected));
  assert.equal(await page.locator('.chart canvas').count(), 1);
  await page.getByTestId('live').waitFor();

  // a reading for now is appended without reloading
  assert.equal((await w.ingest([{ series: SERIES, value: 4321, ts: Date.now() }])).status, 200);
  await legend(page).getByText('4,321 W').waitFor({ timeout: 10_000 });
  assert.equal(await legend(page).getAttribute('data-points'), String(expected + 1));
  await browser.screenshot(page, 'power-today-desktop');
  assert.deepEqual(page.errors, []);

  // "last 24 h" ends when the page drew it: a reading after that still arrives, the period slides on
  await page.goto(`${w.url}/?view=power&period=last-24h`);
  await drawn(page);
  await page.getByTestId('live').waitFor();
  const before = Number(await legend(page).getAttribute('data-points'));
  assert.equal((await w.ingest([{ series: SERIES, value: 5678, ts: Date.now() + 2000 }])).status, 200);
  await legend(page).getByText('5,678 W').waitFor({ timeout: 10_000 });
  assert.equal(await legend(page).getAttribute('data-points'), String(before + 1));
  assert.deepEqual(page.errors, []);
});

test('power: a week of the sample in 15-minute buckets with its min/max band, on a phone too', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t, { timezone: 'Europe/London' });
  await describeAsWatts(w);
  assert.equal((await w.ingest(fs.readFileSync(sampleFile('readings.ndjson'), 'utf8'))).status, 200);
  // a second reading 5 minutes into each quarter-hour, 300 W higher: each 15-minute bucket spans 300 W
  const sample = fs
    .readFileSync(sampleFile('readings.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.series === SERIES);
  const later = sample.map((r) => ({ ...r, ts: r.ts + 300_000, value: r.value + 300 }));
  assert.equal((await w.ingest(later)).status, 200);
  await until(
    async () => (await w.request(`/api/v1/series/${SERIES}`)).body.count === 192,
    10_000,
    'the readings stored',
  );

  for (const [viewport, name] of [
    [undefined, 'power-week-desktop'],
    [PHONE, 'power-week-390px'],
  ] as const) {
    const page = await browser.page(viewport);
    await page.goto(`${w.url}/?view=power&period=week:2024-05-27&series=${SERIES}`);
    await drawn(page);
    assert.equal(await page.getByTestId('power-chart').getAttribute('data-window'), '15m');
    const expected = await apiPoints(w, page);
    assert.equal(expected, 96, 'the sample is one reading per 15 minutes');
    assert.equal(await legend(page).getAttribute('data-points'), String(expected));
    assert.match((await page.locator('.panel .note').first().textContent()) ?? '', /minimum and maximum/);
    assert.equal(await page.getByTestId('power-chart').getAttribute('data-band'), 'min-max');
    assert.equal(await page.getByTestId('live').count(), 0, 'a past week is not live');
    await browser.screenshot(page, name);
    assert.deepEqual(page.errors, []);
  }
});

test('power: more lines than colours get averages only, without a min/max band each', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t, { timezone: 'Europe/London' });
  const keys = Array.from({ length: 7 }, (_, i) => `home/plug${i}/power`);
  const start = Date.parse('2024-05-27T00:00:00+01:00');
  // a reading and one 300 W higher five minutes later in each quarter-hour: a band would span 300 W
  const lines = keys.flatMap((series, i) =>
    Array.from({ length: 2 * 96 }, (_, j) => ({
      series,
      ts: start + Math.floor(j / 2) * 900_000 + (j % 2) * 300_000,
      value: 100 * i + (j % 2) * 300,
      unit: 'W',
    })),
  );
  assert.equal((await w.ingest(lines)).status, 200);
  const page = await browser.page();
  await page.goto(`${w.url}/?view=power&period=month:2024-05&series=${keys.join(',')}`);
  await drawn(page);
  assert.equal(await page.getByTestId('power-chart').getAttribute('data-window'), '30m', 'a coarse window');
  assert.equal(await page.getByTestId('power-chart').getAttribute('data-band'), null);
  assert.doesNotMatch((await page.locator('.panel .note').first().textContent()) ?? '', /minimum and maximum/);
  assert.equal(await page.locator('li[data-series]').count(), 7, 'every line in the legend');
  assert.deepEqual(page.errors, []);
});
