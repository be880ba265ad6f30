import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { launchBrowser, PHONE, drawn } from './browser.js';
import { build, type TestApp, until } from './helpers.js';

const M = 60_000;
/** 1 June 2024 in London: 23:00 UTC the day before to 23:00 UTC. */
const DAY = { spec: 'day:2024-06-01', startMs: Date.parse('2024-05-31T23:00:00Z') };
const METER = 'site/meter/power';
/** The meter sends nothing from 11:00 to 12:00 London time. */
const HOLE = { start: Date.parse('2024-06-01T10:00:00Z'), end: Date.parse('2024-06-01T11:00:00Z') };

/** A Carbon Intensity API stand-in that is down. */
async function failingUpstream(t: TestContext): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(503).end('down'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A meter reading every minute of the day but for the hole, and a thermometer sensor reading every minute. */
async function seeded(t: TestContext, overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const w = await build(t, overrides);
  const sensor = await w.request('/api/v1/sensors', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sensor_id: 'hall', name: 'Hall thermometer', sensor_type: 'temperature' }),
  });
  assert.equal(sensor.status, 201, JSON.stringify(sensor.body));
  const described = await w.request(`/api/v1/series/${METER}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ unit: 'W' }),
  });
  assert.ok(described.status === 201 || described.status === 200, JSON.stringify(described.body));
  const lines = [];
  for (let ts = DAY.startMs; ts < DAY.startMs + 1440 * M; ts += M) {
    if (ts < HOLE.start || ts >= HOLE.end) lines.push({ series: METER, ts, value: 1000 + (ts % 7) });
    lines.push({ series: 'sensors/hall', ts, value: 21.5 });
  }
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return w;
}

test('data health: a series with a gap shows it with its start and end, each series its last reading, a failing source its last error', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await seeded(t, {
    'carbon.url': await failingUpstream(t),
    'carbon.bootstrapDays': 0,
    'sources.retries': 0,
  });
  // the failing poll at start is recorded before the page asks
  let sources: { name: string; last_error: { message: string } | null }[] = [];
  await until(
    async () => {
      sources = (await w.request('/api/v1/sources')).body.sources;
      return Boolean(sources.find((s) => s.name === 'carbon-intensity')?.last_error);
    },
    10_000,
    'the carbon source to record its failure',
  );

  const page = await browser.page();
  await page.goto(`${w.url}/?view=health&period=${DAY.spec}`);
  await drawn(page);
  assert.deepEqual(page.errors, []);

  // the API's counts: readings in the buckets either side of the hole, none in it
  const query = new URLSearchParams({
    series: METER,
    start: new Date(DAY.startMs).toISOString(),
    end: new Date(DAY.startMs + 1440 * M - 1).toISOString(),
    window: '5m',
    agg: 'count',
  });
  const counts: { time: string; value: number }[] = (await w.request(`/api/v1/query?${query}`)).body.results[0].points;
  const times = counts.map((p) => Date.parse(p.time));
  assert.ok(times.includes(HOLE.start - 5 * M) && times.includes(HOLE.end));
  assert.ok(!times.some((x) => x >= HOLE.start && x < HOLE.end));

  const meter = page.locator(`tr[data-series="${METER}"]`);
  const gaps = meter.getByTestId('gaps').locator('li');
  assert.equal(await gaps.count(), 1);
  assert.equal(await gaps.first().getAttribute('data-start'), new Date(HOLE.start).toISOString());
  assert.equal(await gaps.first().getAttribute('data-end'), new Date(HOLE.end).toISOString());
  assert.equal(await gaps.first().textContent(), '11:00 – 12:00 (1 h)');

  // last reading: the API's time (London) and value
  const latest = (await w.request(`/api/v1/series/${METER}/latest`)).body;
  assert.equal(await meter.getByTestId('last-time').textContent(), '1 Jun 2024 23:59:00');
  assert.equal(Date.parse(latest.time), DAY.startMs + 1439 * M);
  assert.equal(await meter.getByTestId('last-value').textContent(), `${latest.value} W`);

  // the sensor's series: its name, and no gap
  const hall = page.locator('tr[data-series="sensors/hall"]');
  assert.match((await hall.textContent()) ?? '', /sensor Hall thermometer/);
  assert.match((await hall.locator('td').last().textContent()) ?? '', /none/);

  // the pull sources: the failing one's last error as the API says it, an off one why
  const carbon = page.locator('[data-testid="source-row"][data-source="carbon-intensity"]');
  const message = sources.find((s) => s.name === 'carbon-intensity')?.last_error?.message ?? '';
  assert.match(message, /carbon-intensity answered 503/);
  assert.ok(((await carbon.getByTestId('last-error').textContent()) ?? '').includes(message));
  assert.match((await page.locator('[data-source="octopus-tariff"]').textContent()) ?? '', /off/);
  await browser.screenshot(page, 'health-desktop');

  const phone = await browser.page(PHONE);
  await phone.goto(`${w.url}/?view=health&period=${DAY.spec}`);
  await drawn(phone);
  await browser.screenshot(phone, 'health-390px');
  assert.deepEqual(phone.errors, []);
});

test('data health: a page of 50 series at a time, the next page a link away', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const w = await build(t);
  const keys = Array.from({ length: 60 }, (_, i) => `fleet/${String(i).padStart(2, '0')}/power`);
  const sent = await w.ingest(keys.map((series) => ({ series, ts: DAY.startMs + M, value: 1 })));
  assert.equal(sent.status, 200);
  const page = await browser.page();
  await page.goto(`${w.url}/?view=health&period=${DAY.spec}`);
  await drawn(page);
  const rows = page.locator('table[data-testid="series-health"] tbody tr');
  assert.equal(await rows.count(), 50);
  await page.getByTestId('next-page').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.searchParams.has('cursor'));
  await drawn(page);
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-series'))), keys.slice(50));
  assert.deepEqual(page.errors, []);
});
