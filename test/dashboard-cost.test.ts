import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, type TestApp, until } from './helpers.js';

const METER = 'home/meter/consumption';
const SOLAR = 'home/solar/power';
const TARIFF = 'tariff/unit-rate/inc-vat';
const STANDING = 'tariff/standing-charge/inc-vat';
const INTENSITY = 'grid/carbon-intensity/actual';
const WIND = 'grid/generation/wind';
const GAS = 'grid/generation/gas';
const HALF_HOUR = 1_800_000;
/** Two London days (BST): 1 June 2024 starts at 23:00Z on 31 May. */
const DAY1 = { spec: 'day:2024-06-01', start: '2024-06-01T00:00:00+01:00', end: '2024-06-02T00:00:00+01:00' };
const DAY2 = { spec: 'day:2024-06-02', start: '2024-06-02T00:00:00+01:00', end: '2024-06-03T00:00:00+01:00' };
const START = Date.parse(DAY1.start);
const SLOTS = 96;
/** The tariff has no price for these half-hours of day 1 (10:00–11:30), the intensity none for 14:00. */
const TARIFF_GAP = new Set([22, 23, 24]);
const INTENSITY_GAP = new Set([28]);

async function put(w: TestApp, key: string, body: object) {
  const r = await w.request(`/api/v1/series/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(r.status === 200 || r.status === 201, `${key}: ${r.status} ${JSON.stringify(r.body)}`);
}

async function send(w: TestApp, lines: object[]) {
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function stored(w: TestApp, key: string, count: number) {
  await until(async () => (await w.request(`/api/v1/series/${key}`)).body.count === count, 10_000, `${key} stored`);
}

/** A half-hourly meter and a solar gauge over two days, each day's use different. */
async function seedMeters(w: TestApp) {
  await put(w, METER, { kind: 'interval', unit: 'kWh', interval_s: 1800 });
  const slots = Array.from({ length: SLOTS }, (_, i) => i);
  await send(
    w,
    slots.map((i) => ({ series: METER, ts: START + i * HALF_HOUR, value: 0.2 + (i % 7) * 0.05 + (i >= 48 ? 0.3 : 0) })),
  );
  await send(
    w,
    slots.map((i) => ({ series: SOLAR, ts: START + i * HALF_HOUR, value: 400 + i * 10, unit: 'W' })),
  );
  await stored(w, METER, SLOTS);
  await stored(w, SOLAR, SLOTS);
}

/** A half-hourly tariff with a gap, a standing charge, an intensity with a gap and two fuels of the mix. */
async function seedPrices(w: TestApp) {
  for (const key of [TARIFF, INTENSITY, WIND, GAS]) await put(w, key, { interval_s: 1800 });
  const slots = Array.from({ length: SLOTS }, (_, i) => i);
  const at = (i: number) => START + i * HALF_HOUR;
  await send(w, [
    ...slots
      .filter((i) => !TARIFF_GAP.has(i))
      .map((i) => ({ series: TARIFF, ts: at(i), value: i % 48 < 14 ? 9.5 : 27.25, unit: 'p/kWh' })),
    { series: STANDING, ts: START - 86_400_000, value: 53.4, unit: 'p/day' },
    ...slots
      .filter((i) => !INTENSITY_GAP.has(i))
      .map((i) => ({ series: INTENSITY, ts: at(i), value: 120 + (i % 11) * 9, unit: 'gCO2/kWh' })),
    ...slots.map((i) => ({ series: WIND, ts: at(i), value: 20 + (i % 5) * 8, unit: '%' })),
    ...slots.map((i) => ({ series: GAS, ts: at(i), value: 80 - (i % 5) * 8, unit: '%' })),
  ]);
  await stored(w, TARIFF, SLOTS - TARIFF_GAP.size);
  await stored(w, INTENSITY, SLOTS - INTENSITY_GAP.size);
  await stored(w, GAS, SLOTS);
}

const two = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const kwh = (v: number) => `${two.format(v)} kWh`;
const pounds = (pence: number) => `£${two.format(pence / 100)}`;
const grams = (g: number) => (Math.abs(g) >= 1000 ? `${two.format(g / 1000)} kg` : `${whole.format(g)} g`);

async function api(w: TestApp, path: string, params: Record<string, string>) {
  const r = await w.request(`${path}?${new URLSearchParams({ tz: 'Europe/London', ...params })}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const costTotals = async (w: TestApp, meter: string, day: typeof DAY1) =>
  (
    await api(w, '/api/v1/energy/cost', {
      energy: meter,
      tariff: TARIFF,
      standing: STANDING,
      start: day.start,
      end: day.end,
    })
  ).totals;

const carbon = (w: TestApp, intensity: string, day: typeof DAY1, window?: string) =>
  api(w, '/api/v1/energy/carbon', {
    energy: METER,
    intensity,
    start: day.start,
    end: day.end,
    ...(window ? { window } : {}),
  });

/** A row of the table as the user reads it, field by field. */
async function row(locator: Locator) {
  const fields: Record<string, string> = {};
  for (const cell of await locator.locator('td[data-field]').all())
    fields[(await cell.getAttribute('data-field'))!] = ((await cell.textContent()) ?? '').trim();
  return fields;
}

/** The table's cells for the API's totals, formatted as the page shows them. */
function expected(t: {
  energy_kwh: number;
  cost: number;
  standing_charge: number;
  total: number;
  effective_price_per_kwh: number | null;
  missing_slots: number;
  unpriced_kwh: number;
}) {
  return {
    energy_kwh: kwh(t.energy_kwh),
    cost: pounds(t.cost),
    effective_price_per_kwh:
      t.effective_price_per_kwh === null ? '—' : `${two.format(t.effective_price_per_kwh)} p/kWh`,
    standing_charge: pounds(t.standing_charge),
    total: pounds(t.total),
    missing_slots: String(t.missing_slots),
    unpriced_kwh: kwh(t.unpriced_kwh),
  };
}

/** Checks the table and the carbon figures against the API for a day. */
async function checkDay(w: TestApp, page: Page, day: typeof DAY1) {
  const meter = await costTotals(w, METER, day);
  const solar = await costTotals(w, SOLAR, day);
  assert.deepEqual(await row(page.locator(`tr[data-source="${METER}"]`)), expected(meter));
  assert.deepEqual(await row(page.locator(`tr[data-source="${SOLAR}"]`)), expected(solar));
  // the totals row: the sources added up, the standing charge (per supply) once
  const cost = meter.cost + solar.cost;
  const priced = meter.energy_kwh + solar.energy_kwh - meter.unpriced_kwh - solar.unpriced_kwh;
  assert.deepEqual(
    await row(page.getByTestId('cost-totals')),
    expected({
      energy_kwh: meter.energy_kwh + solar.energy_kwh,
      cost,
      standing_charge: meter.standing_charge,
      total: cost + meter.standing_charge,
      effective_price_per_kwh: cost / priced,
      missing_slots: meter.missing_slots + solar.missing_slots,
      unpriced_kwh: meter.unpriced_kwh + solar.unpriced_kwh,
    }),
  );

  const c = (await carbon(w, INTENSITY, day)).totals;
  const text = async (id: string) => ((await page.getByTestId(id).textContent()) ?? '').trim();
  assert.equal(await text('carbon-total'), grams(c.carbon_g));
  assert.equal(await text('carbon-average'), `${whole.format(c.average_g_per_kwh)} g/kWh`);
  assert.equal(await text('carbon-energy'), kwh(c.energy_kwh));
  assert.equal(await text('carbon-missing'), String(c.missing_slots));
  assert.equal(await text('carbon-unknown'), kwh(c.unknown_kwh));
  // low-carbon share: wind over wind + gas, each weighted by the meter's use
  const wind = (await carbon(w, WIND, day)).totals.average_g_per_kwh;
  const gas = (await carbon(w, GAS, day)).totals.average_g_per_kwh;
  assert.equal(await text('low-carbon-share'), `${two.format((100 * wind) / (wind + gas))} %`);
  // the chart: half-hours, the buckets with missing intensity marked as the API counts them
  const buckets = (await carbon(w, INTENSITY, day, '30m')).buckets as { missing_slots: number }[];
  const chart = page.getByTestId('carbon-chart');
  assert.equal(await chart.getAttribute('data-window'), '30m');
  const missing = buckets.filter((b) => b.missing_slots > 0).length;
  assert.equal(await chart.getAttribute('data-missing'), String(missing));
  assert.equal(
    await text('carbon-missing-buckets'),
    `${missing} ${missing === 1 ? 'bucket' : 'buckets'} with missing intensity`,
  );
  assert.equal(await chart.locator('canvas').count(), 1);
  return { meter, carbon: c, missing };
}

test('cost & carbon: the table and carbon figures are the API’s, missing slots shown; the period changes them; compare shows the previous', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  await seedMeters(w);
  await seedPrices(w);

  const page = await browser.page();
  await page.goto(`${w.url}/?view=cost&period=${DAY1.spec}`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  assert.equal(await page.locator('nav a[aria-current="page"]').textContent(), 'Cost & carbon');
  // the tariff and intensity found by unit; the standing charge of the same tariff
  assert.equal(await page.locator('select#tariff').inputValue(), TARIFF);
  assert.equal(await page.locator('select#intensity').inputValue(), INTENSITY);
  const day1 = await checkDay(w, page, DAY1);
  // the gaps are there and shown: 90 minutes unpriced, one half-hour without intensity
  // (the API counts a stretch without a price as one missing slot, however many half-hours it spans)
  assert.equal(day1.meter.missing_slots, 1, JSON.stringify(day1.meter));
  assert.ok(day1.meter.unpriced_kwh > 0);
  assert.equal(day1.carbon.missing_slots, 1);
  assert.equal(day1.missing, 1);
  assert.equal(await page.locator(`tr[data-source="${METER}"] td.gap`).count(), 2, 'missing slots highlighted');
  await browser.screenshot(page, 'cost-day-desktop');

  // the next day: other numbers, still the API's (day 2 has no gaps)
  await page.getByRole('link', { name: 'Next period' }).click();
  await drawn(page);
  assert.match(page.url(), /period=day:2024-06-02/);
  const day2 = await checkDay(w, page, DAY2);
  assert.notEqual(kwh(day2.meter.energy_kwh), kwh(day1.meter.energy_kwh));
  assert.notEqual(pounds(day2.meter.total), pounds(day1.meter.total));
  assert.equal(day2.meter.missing_slots, 0);
  assert.equal(await page.locator(`tr[data-source="${METER}"] td.gap`).count(), 0);

  // compare: the previous day's totals beside
  await page.getByTestId('compare').click();
  await drawn(page);
  const previous = await row(page.getByTestId('cost-previous'));
  const solar1 = await costTotals(w, SOLAR, DAY1);
  assert.equal(previous.energy_kwh, kwh(day1.meter.energy_kwh + solar1.energy_kwh));
  assert.equal(previous.total, pounds(day1.meter.cost + solar1.cost + day1.meter.standing_charge));
  assert.equal(previous.missing_slots, String(day1.meter.missing_slots + solar1.missing_slots));
  assert.equal(
    await page.getByTestId('carbon-total-previous').textContent(),
    `previous: ${grams(day1.carbon.carbon_g)}`,
  );
  assert.equal(await page.getByTestId('carbon-missing-previous').textContent(), 'previous: 1');
  await browser.screenshot(page, 'cost-compare-desktop');
  // the dark scheme: the same page in the page's dark colours (the chart reads them when drawn)
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.reload();
  await drawn(page);
  await browser.screenshot(page, 'cost-compare-dark-desktop');
  await page.emulateMedia({ colorScheme: 'light' });

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=cost&period=${DAY1.spec}`);
  await drawn(phone);
  await checkDay(w, phone, DAY1);
  await browser.screenshot(phone, 'cost-day-390px');

  // a year: coarser buckets, at most ~2,000
  await page.goto(`${w.url}/?view=cost&period=year:2024`);
  await drawn(page);
  assert.equal(await page.getByTestId('carbon-chart').getAttribute('data-window'), '1d');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('cost & carbon: with no tariff or intensity the page says what to set or send; with only a tariff the carbon panel does', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  await seedMeters(w);
  const page = await browser.page();
  await page.goto(`${w.url}/?view=cost&period=${DAY1.spec}`);
  await drawn(page);
  const empty = page.getByTestId('empty-state');
  assert.match((await empty.textContent()) ?? '', /No tariff or carbon intensity yet/);
  const curls = await empty.locator('pre').allTextContents();
  assert.ok(
    curls.some((c) => c.includes('"unit":"p/kWh"') && c.includes(`${w.url}/ingest`)),
    curls.join('\n'),
  );
  assert.ok(
    curls.some((c) => c.includes('"unit":"gCO2/kWh"')),
    curls.join('\n'),
  );
  assert.match((await empty.textContent()) ?? '', /WATTLINE_OCTOPUS_TARIFF/);
  await browser.screenshot(page, 'cost-empty-desktop');
  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=cost&period=${DAY1.spec}`);
  await drawn(phone);
  await phone.getByTestId('empty-state').waitFor();
  await browser.screenshot(phone, 'cost-empty-390px');

  // the reading the tariff's curl sends (from the start of the period shown): the table appears,
  // the carbon panel still says what to send
  const tariffCurl = curls.find((c) => c.includes('"unit":"p/kWh"')) ?? '';
  const line = JSON.parse(tariffCurl.slice(tariffCurl.indexOf("'{") + 1, tariffCurl.lastIndexOf("}'") + 1));
  assert.equal(Date.parse(line.ts), START, tariffCurl);
  await send(w, [line]);
  await stored(w, TARIFF, 1);
  await page.reload();
  await drawn(page);
  const meter = await api(w, '/api/v1/energy/cost', {
    energy: METER,
    tariff: TARIFF,
    start: DAY1.start,
    end: DAY1.end,
  });
  assert.equal((await row(page.locator(`tr[data-source="${METER}"]`))).cost, pounds(meter.totals.cost));
  assert.match((await page.getByTestId('no-intensity').textContent()) ?? '', /No carbon intensity/);
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('cost & carbon: an API error is shown in its panel', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  await seedMeters(w);
  await seedPrices(w);
  const page = await browser.page();
  // a tariff that is not a series key: the API's 400 in the table's panel, the carbon panel drawn
  await page.goto(`${w.url}/?view=cost&period=${DAY1.spec}&tariff=bad%20key`);
  await drawn(page);
  const alerts = await page.getByRole('alert').allTextContents();
  assert.ok(alerts.length >= 1 && alerts.every((a) => /energy\/cost: 400 .*tariff/.test(a)), alerts.join('\n'));
  await page.getByTestId('carbon-chart').waitFor();
  assert.deepEqual(page.errors, []);
});
