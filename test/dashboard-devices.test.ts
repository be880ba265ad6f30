import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, type TestApp, sendJson } from './helpers.js';

const T0 = Date.parse('2024-06-01T11:00:00Z');
const M = 60_000;
const DAY = { spec: 'day:2024-06-01', start: '2024-06-01T00:00:00+01:00', end: '2024-06-02T00:00:00+01:00' };
/** The whole-building meter: the first series the overview would add up (the catalog is sorted by key). */
const METER = 'building/main/power';
/** A meter that measures less than the devices: a sub-circuit picked by mistake. */
const SMALL = 'building/sub/power';

const digits = (text: string | null) => (text ?? '').replace(/[^0-9.-]/g, '');

/** Two devices in a room, a whole-building meter and a small one, an hour of readings each. */
async function seeded(t: Parameters<typeof build>[0]) {
  const w = await build(t);
  await sendJson(w, 'POST', '/api/v1/rooms', { name: 'Kitchen' });
  await sendJson(w, 'POST', '/api/v1/sensors', {
    sensor_id: 'oven',
    name: 'Oven',
    sensor_type: 'power',
    room: 'Kitchen',
  });
  await sendJson(w, 'POST', '/api/v1/sensors', { sensor_id: 'fridge', name: 'Fridge', sensor_type: 'energy' });
  await sendJson(w, 'POST', '/api/v1/sensors', { sensor_id: 'hall-temp', name: 'Hall', sensor_type: 'temperature' });
  await sendJson(w, 'PUT', `/api/v1/series/${METER}`, { unit: 'W' });
  await sendJson(w, 'PUT', `/api/v1/series/${SMALL}`, { unit: 'W' });
  const lines = [];
  for (let i = 0; i <= 6; i++) {
    const ts = T0 + i * 10 * M;
    lines.push({ series: 'sensors/oven', ts, value: 1500 + 100 * i });
    lines.push({ series: 'sensors/fridge', ts, value: 100 + 0.1 * i });
    lines.push({ series: 'sensors/hall-temp', ts, value: 20 });
    lines.push({ series: METER, ts, value: 4000 });
    lines.push({ series: SMALL, ts, value: 500 });
  }
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return w;
}

/** Each series' total over the day, as /api/v1/energy answers it. */
async function totals(w: TestApp, keys: string[]): Promise<Map<string, number>> {
  const query = new URLSearchParams({ series: keys.join(','), start: DAY.start, end: DAY.end, tz: 'Europe/London' });
  const r = await w.request(`/api/v1/energy?${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return new Map(r.body.results.map((x: { series: string; total: number }) => [x.series, x.total]));
}

test('rooms: energy per device, largest first, and the untracked remainder = meter − devices as its own bar', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const api = await totals(w, ['sensors/oven', 'sensors/fridge', METER]);
  const oven = api.get('sensors/oven') ?? 0;
  const fridge = api.get('sensors/fridge') ?? 0;
  const meter = api.get(METER) ?? 0;
  assert.ok(oven > fridge && fridge > 0 && meter > oven + fridge, JSON.stringify([...api]));

  const page = await browser.page();
  await page.goto(`${w.url}/?view=rooms&period=${DAY.spec}`);
  await drawn(page);
  const bars = page.getByTestId('device-bars').locator('li');
  // the devices (the thermometer is none), largest first, then what the meter saw beyond them
  assert.deepEqual(await bars.locator('.name').allTextContents(), ['Oven', 'Fridge', 'Untracked']);
  const values = (await bars.locator('.value').allTextContents()).map(digits);
  assert.deepEqual(values, [oven.toFixed(2), fridge.toFixed(2), (meter - oven - fridge).toFixed(2)]);
  assert.match((await page.getByTestId('untracked-note').textContent()) ?? '', new RegExp(METER));
  // the bars' lengths follow the numbers: the oven's is the longest
  const widths = await bars.locator('.bar span').evaluateAll((spans) => spans.map((s) => s.clientWidth));
  assert.ok(widths[0] > widths[1] && widths[0] > widths[2], JSON.stringify(widths));
  assert.equal(await page.locator('#meter').inputValue(), METER);
  await browser.screenshot(page, 'devices-desktop');

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=rooms&period=${DAY.spec}`);
  await drawn(phone);
  await browser.screenshot(phone, 'devices-390px');
  assert.deepEqual([...page.errors, ...phone.errors], []);
});

test('rooms: a meter that measures less than its devices says so instead of a negative untracked bar', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t);
  const api = await totals(w, ['sensors/oven', 'sensors/fridge', SMALL]);
  const devices = (api.get('sensors/oven') ?? 0) + (api.get('sensors/fridge') ?? 0);
  const small = api.get(SMALL) ?? 0;
  assert.ok(small < devices);

  const page = await browser.page();
  await page.goto(`${w.url}/?view=rooms&period=${DAY.spec}`);
  await drawn(page);
  // picking the meter by keyboard puts it in the URL and draws again
  await page.locator('#meter').focus();
  await page.locator('#meter').selectOption(SMALL);
  await page.waitForURL((url) => url.searchParams.get('meter') === SMALL);
  await drawn(page);
  const bars = page.getByTestId('device-bars').locator('li');
  assert.deepEqual(await bars.locator('.name').allTextContents(), ['Oven', 'Fridge']);
  assert.equal(digits(await page.getByTestId('devices-exceed').textContent()), (devices - small).toFixed(2));
  await browser.screenshot(page, 'devices-exceed-desktop');
  assert.deepEqual(page.errors, []);
});
