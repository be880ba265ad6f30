import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Page, WebSocket as PlaywrightSocket } from 'playwright-core';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, sampleFile, type TestApp, until } from './helpers.js';

const METER = 'home/meter/power';
const EXPORT = 'home/grid/export';
const TARIFF = 'tariff/unit-rate/inc-vat';
const STANDING = 'tariff/standing-charge/inc-vat';
const INTENSITY = 'grid/carbon-intensity/actual';
const ZONE = 'Europe/London';
const H = 3_600_000;
/** The sample's first reading: 2024-06-01 00:00Z (01:00 in London). */
const FIRST = Date.parse('2024-06-01T00:00:00Z');
const DAY = { spec: 'day:2024-06-01', start: '2024-06-01T00:00:00+01:00', end: '2024-06-02T00:00:00+01:00' };
const DAY2 = { spec: 'day:2024-06-02', start: '2024-06-02T00:00:00+01:00', end: '2024-06-03T00:00:00+01:00' };
/** The cards' periods around 1 June 2024. */
const CARDS = {
  day: DAY,
  week: { start: '2024-05-27T00:00:00+01:00', end: '2024-06-03T00:00:00+01:00' },
  month: { start: '2024-06-01T00:00:00+01:00', end: '2024-07-01T00:00:00+01:00' },
  year: { start: '2024-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' },
};

async function describe(w: TestApp, key: string, entry: object) {
  const r = await w.request(`/api/v1/series/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(entry),
  });
  assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
}

const sampleMeter = () =>
  fs
    .readFileSync(sampleFile('readings.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.series === METER);

/**
 * The sample's meter (a W gauge) on 1 June and, 1.5 times higher, on 2 June; prices and carbon
 * intensity as the sources write them (p/kWh, p/day, gCO2/kWh, with units on the lines); with
 * `exported`, 800 W sent to the grid from 10:00 to 16:00 UTC on 1 June.
 */
async function seeded(t: Parameters<typeof build>[0], exported = false): Promise<TestApp> {
  const w = await build(t, { timezone: ZONE });
  await describe(w, METER, { unit: 'W', kind: 'gauge' });
  const meter = sampleMeter();
  const lines: object[] = [...meter, ...meter.map((r) => ({ ...r, ts: r.ts + 24 * H, value: r.value * 1.5 }))];
  // night and day prices, changing at 07:00 and 23:00 UTC, from a month before the sample
  for (let ts = FIRST - 31 * 24 * H; ts < FIRST + 3 * 24 * H; ts += 30 * 60_000) {
    const hour = new Date(ts).getUTCHours();
    lines.push({ series: TARIFF, ts, value: hour >= 7 && hour < 23 ? 28.5 : 9.5, unit: 'p/kWh' });
  }
  lines.push({ series: STANDING, ts: Date.parse('2024-01-01T00:00:00Z'), value: 53.2, unit: 'p/day' });
  for (let ts = FIRST - 31 * 24 * H; ts < FIRST + 3 * 24 * H; ts += 30 * 60_000)
    lines.push({ series: INTENSITY, ts, value: 120 + ((ts / 1_800_000) % 7) * 20, unit: 'gCO2/kWh' });
  if (exported) {
    await describe(w, EXPORT, { unit: 'W', kind: 'gauge', description: 'Solar export to the grid' });
    for (let ts = FIRST + 10 * H; ts <= FIRST + 16 * H; ts += 15 * 60_000)
      lines.push({ series: EXPORT, ts, value: 800 });
  }
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await until(async () => (await w.request(`/api/v1/series/${METER}`)).body.count === 192, 10_000, 'the seed stored');
  return w;
}

async function api(w: TestApp, path: string, params: Record<string, string>) {
  const r = await w.request(`${path}?${new URLSearchParams({ tz: ZONE, ...params })}`);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).textContent()) ?? '';
/** The first number in a text, as shown (thousands separators dropped). */
const number = (shown: string) => Number(/-?[\d,]+(\.\d+)?/.exec(shown)?.[0].replaceAll(',', ''));
/** Pence from the API as the page shows them: pounds with 2 decimals. */
const pounds = (pence: number) => Number((pence / 100).toFixed(2));
/** Grams from the API as the page shows them: whole grams, or kilograms with 2 decimals. */
const carbonShown = (grams: number) =>
  grams < 1000 ? `${Math.round(grams)} g CO2` : `${(grams / 1000).toFixed(2)} kg CO2`;

test('overview: cost with and without standing charge and carbon match the API; the toggle turns the bars to cost', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();
  await page.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(page);
  assert.deepEqual(page.errors, []);
  // the first suitable series are picked: the meter, prices with VAT, the actual intensity
  assert.equal(await page.locator('#tariff').inputValue(), TARIFF);
  assert.equal(await page.locator('#intensity').inputValue(), INTENSITY);

  for (const [name, period] of Object.entries(CARDS)) {
    const range = { start: period.start, end: period.end };
    const cost = (await api(w, '/api/v1/energy/cost', { energy: METER, tariff: TARIFF, standing: STANDING, ...range }))
      .totals;
    const carbon = (await api(w, '/api/v1/energy/carbon', { energy: METER, intensity: INTENSITY, ...range })).totals;
    assert.ok(cost.cost > 0 && cost.standing_charge > 0 && carbon.carbon_g > 0, name);
    assert.equal(number(await text(page, `cost-${name}`)), pounds(cost.cost), `${name} cost`);
    assert.equal(number(await text(page, `cost-standing-${name}`)), pounds(cost.total), `${name} with standing`);
    assert.match(await text(page, `cost-standing-${name}`), /with standing charge/);
    assert.equal(await text(page, `carbon-${name}`), carbonShown(carbon.carbon_g), `${name} carbon`);
    assert.equal(number(await text(page, `total-${name}`)), Number(cost.energy_kwh.toFixed(2)), `${name} energy`);
  }
  assert.equal(await page.getByTestId('energy-bars').getAttribute('data-show'), 'energy');
  const energy = (await api(w, '/api/v1/energy', { series: METER, ...DAY, window: '30m' })).results[0];
  assert.equal(number(await text(page, 'period-total')), Number(energy.total.toFixed(2)));
  await browser.screenshot(page, 'overview-cost-desktop');

  // the switch: the bars and the period total become cost (with the standing charge), kept in the URL
  await page.getByTestId('show-cost').click();
  await drawn(page);
  assert.match(page.url(), /show=cost/);
  assert.equal(await page.getByTestId('show-cost').getAttribute('aria-checked'), 'true');
  assert.equal(await page.getByTestId('energy-bars').getAttribute('data-show'), 'cost');
  assert.match((await page.locator('h2').last().textContent()) ?? '', /^Cost, Sat 1 Jun 2024/);
  const priced = await api(w, '/api/v1/energy/cost', {
    energy: METER,
    tariff: TARIFF,
    standing: STANDING,
    ...DAY,
    window: '30m',
  });
  assert.equal(number(await text(page, 'period-total')), pounds(priced.totals.total));
  const bars = page.locator('li[data-series="import"]');
  assert.equal(await bars.getAttribute('data-points'), String(priced.buckets.length));
  assert.ok(priced.buckets.length <= 2000);
  // the cards now put cost first
  assert.equal(await page.locator('.total.show-cost').count(), 4);
  await browser.screenshot(page, 'overview-cost-bars-desktop');
  const phone = await browser.page(PHONE);
  await phone.goto(page.url());
  await drawn(phone);
  assert.equal(number(await text(phone, 'period-total')), pounds(priced.totals.total));
  await browser.screenshot(phone, 'overview-cost-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('overview: without a tariff or intensity the cards say so and how to get them', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t, { timezone: ZONE });
  await describe(w, METER, { unit: 'W', kind: 'gauge' });
  assert.equal((await w.ingest(sampleMeter())).status, 200);
  await until(async () => (await w.request(`/api/v1/series/${METER}`)).body.count === 96, 10_000, 'the sample stored');
  const page = await browser.page();
  await page.goto(`${w.url}/?period=${DAY.spec}&show=cost`);
  await drawn(page);
  assert.equal(await text(page, 'cost-day'), 'cost unknown: no tariff');
  assert.equal(await text(page, 'carbon-year'), 'carbon unknown: no intensity');
  const how = await text(page, 'missing-prices');
  assert.match(how, /WATTLINE_OCTOPUS_PRODUCT/);
  assert.ok(how.includes(`${w.url}/api/v1/series/${TARIFF}`), how);
  assert.ok(how.includes(`${w.url}/api/v1/series/${INTENSITY}`), how);
  await page.getByTestId('no-cost').waitFor();
  await browser.screenshot(page, 'overview-no-prices-desktop');
  assert.deepEqual(page.errors, []);
});

test('overview: power now moves when a reading is ingested; without a power meter, the building’s power sensors add up', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const page = await browser.page();
  const sockets: PlaywrightSocket[] = [];
  page.on('websocket', (socket) => sockets.push(socket));
  await page.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(page);
  const latest = (await w.request(`/api/v1/series/${METER}/latest`)).body;
  assert.equal(number(await text(page, 'power-now')), Math.round(latest.value));
  assert.equal((await w.ingest([{ series: METER, value: 4321, ts: Date.now() }])).status, 200);
  await page.getByTestId('power-now').getByText('4,321 W').waitFor({ timeout: 10_000 });
  // another period draws the page again: the old feed is closed, the new one open
  await page.getByRole('link', { name: 'Next period' }).click();
  await drawn(page);
  await until(() => sockets.length === 2 && sockets[0].isClosed(), 10_000, 'the first feed closed');
  assert.equal(sockets[1].isClosed(), false);
  assert.deepEqual(page.errors, []);

  // an interval meter (not a power gauge): the panel sums the power sensors, live
  const other = await build(t, { timezone: ZONE });
  for (const [id, series] of [
    ['p1', 'sensors/p1'],
    ['p2', 'sensors/p2'],
  ]) {
    const r = await other.request('/api/v1/sensors', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sensor_id: id, name: `Power ${id}`, sensor_type: 'power', series }),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  await describe(other, 'meter/1/consumption', { unit: 'kWh', kind: 'interval', interval_s: 1800 });
  const now = Date.now();
  const sent = await other.ingest([
    { series: 'meter/1/consumption', value: 0.4, ts: now - H },
    { series: 'sensors/p1', value: 1200, ts: now - 60_000 },
    { series: 'sensors/p2', value: 300, ts: now - 60_000 },
  ]);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await until(
    async () =>
      (await other.request('/api/v1/sensors/get?sensor_type=power')).body.sensors.every(
        (s: { last_value: number | null }) => s.last_value !== null,
      ),
    10_000,
    'the sensors read',
  );
  const phone = await browser.page(PHONE);
  await phone.goto(`${other.url}/?period=today`);
  await drawn(phone);
  assert.equal(await phone.locator('#meter').inputValue(), 'meter/1/consumption');
  assert.equal(await text(phone, 'power-now'), '1,500 W');
  assert.equal((await other.ingest([{ series: 'sensors/p2', value: 700, ts: Date.now() }])).status, 200);
  await phone.getByTestId('power-now').getByText('1,900 W').waitFor({ timeout: 10_000 });
  await browser.screenshot(phone, 'overview-power-now-390px');
  assert.deepEqual(phone.errors, []);
});

test('overview: compare shows the previous period’s total and change; export is drawn below import', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t, true);
  const energyOf = async (series: string, period: { start: string; end: string }) =>
    (await api(w, '/api/v1/energy', { series, start: period.start, end: period.end, window: '30m' })).results[0];

  const page = await browser.page();
  await page.goto(`${w.url}/?period=${DAY2.spec}&compare=1`);
  await drawn(page);
  const now = await energyOf(METER, DAY2);
  const before = await energyOf(METER, DAY);
  assert.equal(number(await text(page, 'period-total')), Number(now.total.toFixed(2)));
  assert.equal(number(await text(page, 'previous-total')), Number(before.total.toFixed(2)));
  const change = Math.round(((now.total - before.total) / before.total) * 100);
  assert.equal(await text(page, 'change'), ` (${change >= 0 ? '+' : '−'}${Math.abs(change)} %)`);
  // the previous day's half-hours beside this day's, one series each, both within the 2,000-point limit
  const previous = page.locator('li[data-series="previous"]');
  assert.equal(await previous.getAttribute('data-points'), String(before.points.length));
  assert.equal(
    number((await previous.getByTestId('legend-previous').textContent()) ?? ''),
    Number(before.total.toFixed(2)),
  );
  for (const li of await page.locator('.legend li').all())
    assert.ok(Number(await li.getAttribute('data-points')) <= 2000);
  await browser.screenshot(page, 'overview-compare-desktop');

  // 1 June: import up, export (a series whose description says export) down, bucket by bucket
  await page.goto(`${w.url}/?period=${DAY.spec}`);
  await drawn(page);
  const exported = await energyOf(EXPORT, DAY);
  assert.ok(exported.total > 0);
  const legend = page.locator('li[data-series="export"]');
  assert.match((await legend.textContent()) ?? '', new RegExp(`Export \\(${EXPORT}\\)`));
  assert.equal(
    number((await legend.getByTestId('legend-export').textContent()) ?? ''),
    Number(exported.total.toFixed(2)),
  );
  assert.equal(await legend.getAttribute('data-points'), String(exported.points.length));
  const lowest = Math.min(...exported.points.map((p: { value: number | null }) => -(p.value ?? 0)));
  assert.equal(Number(await page.getByTestId('energy-bars').getAttribute('data-lowest')), lowest);
  assert.ok(lowest < 0, 'export drawn below the axis');
  // the meter stays the import meter: the export series is not picked as the meter
  assert.equal(await page.locator('#meter').inputValue(), METER);
  await browser.screenshot(page, 'overview-export-desktop');
  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?period=${DAY.spec}&compare=1`);
  await drawn(phone);
  await phone.locator('li[data-series="export"]').waitFor();
  await phone.locator('li[data-series="previous"]').waitFor();
  // 31 May has no readings: said, not shown as zero
  assert.equal(await text(phone, 'previous-total'), 'no readings');
  await browser.screenshot(phone, 'overview-export-compare-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});
