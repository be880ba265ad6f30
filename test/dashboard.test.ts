import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, sampleFile, type TestApp, until } from './helpers.js';

const METER = 'home/meter/power';
/** The sample's readings are 2024-06-01 00:00Z to 23:45Z: 01:00 on 1 June to 00:45 on 2 June in London (BST). */
const DAY = { spec: 'day:2024-06-01', start: '2024-06-01T00:00:00+01:00', end: '2024-06-02T00:00:00+01:00' };
const WEEK = { spec: 'week:2024-05-27', start: '2024-05-27T00:00:00+01:00', end: '2024-06-03T00:00:00+01:00' };

/** The sample ingested, its meter described as a power gauge in W (the sample's lines carry no unit). */
async function seeded(t: Parameters<typeof build>[0], overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const w = await build(t, overrides);
  const described = await w.request(`/api/v1/series/${METER}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ unit: 'W', kind: 'gauge' }),
  });
  assert.ok(described.status === 200 || described.status === 201, JSON.stringify(described.body));
  const sent = await w.ingest(fs.readFileSync(sampleFile('readings.ndjson'), 'utf8'));
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await until(async () => (await w.request(`/api/v1/series/${METER}`)).body.count === 96, 10_000, 'the sample stored');
  return w;
}

/** What the API says for the meter over a period: its total as the page shows it, and its measured buckets. */
async function apiEnergy(w: TestApp, period: { start: string; end: string }, window?: string) {
  const query = new URLSearchParams({ series: METER, start: period.start, end: period.end, tz: 'Europe/London' });
  if (window) query.set('window', window);
  const r = await w.request(`/api/v1/energy?${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const result = r.body.results[0];
  return {
    total: result.total.toFixed(2),
    buckets: result.points.filter((p: { value: number | null }) => p.value !== null).length,
  };
}

const shown = async (page: Page, testId: string) =>
  (await page.getByTestId(testId).textContent())?.replace(/[^0-9.-]/g, '');

test('overview: the period total and bars match the API; the period selection changes them', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();

  await page.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  assert.equal(await page.getByTestId('period-label').textContent(), 'Sat 1 Jun 2024');
  const day = await apiEnergy(w, DAY, '30m');
  assert.equal(await shown(page, 'period-total'), day.total);
  assert.equal(await shown(page, 'total-day'), day.total);
  assert.equal(await page.getByTestId('energy-bars').getAttribute('data-buckets'), String(day.buckets));
  assert.ok(day.buckets >= 40, `half-hourly bars for the day (${day.buckets})`);
  assert.equal(await page.locator('.chart canvas').count(), 1);
  // the year's total is the whole sample
  const year = await apiEnergy(w, { start: '2024-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' });
  assert.equal(await shown(page, 'total-year'), year.total);
  await browser.screenshot(page, 'overview-day-desktop');

  // the week's card opens the week: daily bars, the week's total, in the URL
  await page.getByRole('link', { name: /Week of 27 May 2024/ }).click();
  await drawn(page);
  assert.match(page.url(), /period=week:2024-05-27/);
  assert.equal(await page.getByTestId('period-label').textContent(), 'Week of 27 May 2024');
  const week = await apiEnergy(w, WEEK, '1d');
  assert.equal(await shown(page, 'period-total'), week.total);
  assert.equal(await page.getByTestId('energy-bars').getAttribute('data-buckets'), String(week.buckets));
  assert.equal(week.buckets, 2, 'the sample covers 1 and 2 June');

  // previous: a week without readings says so, and links to the meter's last reading
  await page.getByRole('link', { name: 'Previous period' }).click();
  await drawn(page);
  assert.equal(await page.getByTestId('period-label').textContent(), 'Week of 20 May 2024');
  assert.equal(await page.getByTestId('energy-bars').count(), 0);
  await page.getByTestId('no-readings').waitFor();
  await page.goBack();
  await drawn(page);
  assert.equal(await page.getByTestId('period-label').textContent(), 'Week of 27 May 2024');

  // a link opens the same view: today (no readings), then the last reading's day from its link
  const fresh = await browser.page(PHONE);
  await fresh.goto(`${w.url}/?period=today`);
  await drawn(fresh);
  await fresh.getByTestId('no-readings').waitFor();
  await fresh.getByTestId('no-readings').getByRole('link').click();
  await drawn(fresh);
  assert.match(fresh.url(), /period=day:2024-06-02/);
  const lastDay = await apiEnergy(w, { start: '2024-06-02T00:00:00+01:00', end: '2024-06-03T00:00:00+01:00' }, '30m');
  assert.equal(await shown(fresh, 'period-total'), lastDay.total);
  assert.notEqual(lastDay.total, day.total);

  await fresh.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(fresh);
  assert.equal(await shown(fresh, 'period-total'), day.total);
  await browser.screenshot(fresh, 'overview-day-390px');
  assert.deepEqual([...page.errors, ...fresh.errors], []);
});

test('overview: an empty store shows what to do; an API error is shown in the page', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  const page = await browser.page();
  await page.goto(w.url + '/');
  await drawn(page);
  const empty = page.getByTestId('empty-state');
  assert.match((await empty.textContent()) ?? '', /No data yet/);
  const curl = (await empty.locator('pre').textContent()) ?? '';
  assert.ok(curl.includes(`--data-binary '@${sampleFile('readings.ndjson')}'`), curl);
  assert.ok(curl.includes(`${w.url}/ingest`), curl);
  await browser.screenshot(page, 'overview-empty-desktop');
  const phone = await browser.page(PHONE);
  await phone.goto(w.url + '/');
  await drawn(phone);
  await phone.getByTestId('empty-state').waitFor();
  await browser.screenshot(phone, 'overview-empty-390px');

  // a series the energy functions cannot add up (no unit): the API's 400 is shown, not a blank panel
  assert.equal((await w.ingest([{ series: 'home/solar/power', value: 1, ts: 1717200000000 }])).status, 200);
  await until(async () => (await w.request('/api/v1/series')).body.series.length === 1, 10_000, 'the reading stored');
  await page.goto(`${w.url}/?meter=home/solar/power&period=${DAY.spec}`);
  await drawn(page);
  const alerts = await page.getByRole('alert').allTextContents();
  assert.ok(alerts.length >= 1, 'errors shown');
  assert.ok(
    alerts.every((a) => /GET \/api\/v1\/energy: 400 .*home\/solar\/power/.test(a)),
    alerts.join('\n'),
  );
  assert.deepEqual(page.errors, []);
});

test('when reads need a key, the page asks for it once and keeps it in the browser', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t, { requireReadKey: true });
  const page = await browser.page();
  await page.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(page);
  assert.equal(await page.getByTestId('period-total').count(), 0);
  await page.getByLabel('API key').fill(w.key);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await drawn(page);
  assert.equal(await shown(page, 'period-total'), (await apiEnergy(w, DAY, '30m')).total);
  // kept: a new tab of the same browser reads without asking
  const again = await browser.page();
  await again.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(again);
  assert.equal(await shown(again, 'period-total'), (await apiEnergy(w, DAY, '30m')).total);
  assert.deepEqual([...page.errors, ...again.errors], []);
});
