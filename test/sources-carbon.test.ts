import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/core/log.js';
import { createCarbonIntensityConnector } from '../src/modules/sources/carbon-intensity/index.js';
import { createGenerationMixConnector, FUELS } from '../src/modules/sources/generation-mix/index.js';
import { createUpstream } from '../src/modules/sources/http.js';
import { build, type TestApp } from './helpers.js';

const SLOT = 1_800_000;
const D = 86_400_000;
const CHUNK = 14 * D;
// a chunk-aligned start (both connectors fetch 14-day chunks aligned to the epoch)
const T0 = Math.ceil(Date.UTC(2024, 0, 1) / CHUNK) * CHUNK;
const ACTUAL = 'grid/carbon-intensity/actual';
/** Requests for ranges starting before this are for history, not the polls of the last day. */
const HISTORY_BEFORE = Date.now() - 60 * D;
const FORECAST = 'grid/carbon-intensity/forecast';

/** What the local API says of the half-hour starting at `ms`. */
const forecastAt = (ms: number) => 100 + ((ms / SLOT) % 300);
const actualAt = (ms: number) => forecastAt(ms) - 7 + ((ms / SLOT) % 5);
const percAt = (ms: number, fuel: number) => (((ms / SLOT) * (fuel + 3)) % 997) / 10;

/** `2024-01-01T00:00Z`, as the API writes times. */
const apiTime = (ms: number) => new Date(ms).toISOString().slice(0, 16) + 'Z';
const iso = (ms: number) => new Date(ms).toISOString();

interface Body {
  data: Record<string, unknown>[];
}

interface CarbonApi {
  url: string;
  /** Every request's path for history (before the last days, which the polls ask for), in order. */
  requests: string[];
  /** Half-hours (by start) whose actual is null, as for slots not yet settled. */
  nullActuals: Set<number>;
  /** Lets the next reply for history be changed before it is sent (to make it malformed). */
  spoilNext(change: (body: Body) => void): void;
}

/**
 * A local Carbon Intensity API with the real one's reported habits: a range answers every half-hour
 * whose end lies in [from, to], and `/generation` leaves out the new year's half-hours when from
 * and to are in different years. A range over 14 days (the documented /intensity limit) is a 400.
 */
async function carbonApi(t: TestContext): Promise<CarbonApi> {
  const requests: string[] = [];
  const nullActuals = new Set<number>();
  const spoilers: ((body: Body) => void)[] = [];
  const server = http.createServer((req, res) => {
    const m = /^\/(intensity|generation)\/([^/]+)\/([^/]+)$/.exec(req.url!);
    const fromMs = m ? Date.parse(m[2]) : NaN;
    const toMs = m ? Date.parse(m[3]) : NaN;
    const history = !(fromMs >= HISTORY_BEFORE);
    if (history) requests.push(req.url!);
    if (!m || Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs < fromMs || toMs - fromMs > 14 * D) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: '400 Bad Request', message: 'Invalid date range' } }));
      return;
    }
    const data: Record<string, unknown>[] = [];
    for (let end = Math.ceil(fromMs / SLOT) * SLOT; end <= toMs; end += SLOT) {
      const start = end - SLOT;
      const slot = { from: apiTime(start), to: apiTime(end) };
      if (m[1] === 'intensity') {
        data.push({
          ...slot,
          intensity: {
            forecast: forecastAt(start),
            actual: nullActuals.has(start) ? null : actualAt(start),
            index: 'moderate',
          },
        });
      } else if (new Date(fromMs).getUTCFullYear() === new Date(end).getUTCFullYear()) {
        data.push({ ...slot, generationmix: FUELS.map((fuel, i) => ({ fuel, perc: percAt(start, i) })) });
      }
    }
    const body = { data };
    if (history) spoilers.shift()?.(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    nullActuals,
    spoilNext: (change) => spoilers.push(change),
  };
}

function app(t: TestContext, api: CarbonApi) {
  return build(t, {
    'carbon.url': api.url,
    'carbon.bootstrapDays': 0, // no history fetch at start: the tests ask for it
    'sources.retries': 2,
    'sources.retryBaseMs': 5,
    'sources.minIntervalMs': 0,
  });
}

const bootstrap = (w: TestApp, source: string, from: number, to: number) =>
  w.request(`/api/v1/sources/${source}/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: iso(from), to: iso(to) }),
  });

/** The raw points of `series` in [from, to) as [time, value]. */
async function points(w: TestApp, series: string, from: number, to: number): Promise<[string, number][]> {
  const r = await w.request(`/api/v1/query?series=${series}&start=${from}&end=${to - 1}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0].points.map((p: { time: string; value: number }) => [p.time, p.value]);
}

/** The half-hour starts in [from, to). */
const slots = (from: number, to: number) => Array.from({ length: (to - from) / SLOT }, (_, i) => from + i * SLOT);

test('a bootstrap stores actual and forecast intensity at each half-hour, as the API sent them', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  const r = await bootstrap(w, 'carbon-intensity', T0, T0 + CHUNK);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { chunks: 1, skipped: 0, readings: 2 * 14 * 48 });
  // asked by half-hour ends: the first half-hour ends at T0 + 30 min, the last at the chunk's end
  assert.deepEqual(api.requests, [`/intensity/${apiTime(T0 + SLOT)}/${apiTime(T0 + CHUNK)}`]);

  const day = slots(T0 + D, T0 + 2 * D);
  assert.deepEqual(
    await points(w, FORECAST, T0 + D, T0 + 2 * D),
    day.map((ms) => [iso(ms), forecastAt(ms)]),
  );
  assert.deepEqual(
    await points(w, ACTUAL, T0 + D, T0 + 2 * D),
    day.map((ms) => [iso(ms), actualAt(ms)]),
  );
  assert.equal((await points(w, FORECAST, T0, T0 + CHUNK)).length, 14 * 48);
  assert.deepEqual(await points(w, FORECAST, T0 - D, T0), [], 'nothing before the range');

  const catalog = await w.request('/api/v1/series');
  const entry = catalog.body.series.find((s: { key: string }) => s.key === ACTUAL);
  assert.deepEqual([entry.unit, entry.kind, entry.interval_s], ['gCO2/kWh', 'gauge', 1800]);
  assert.match(entry.description, /carbon intensity/i);
});

test('a half-hour whose actual is null gets its forecast but no actual reading, never a zero', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  // the last two hours of the range are not settled yet
  const unsettled = slots(T0 + CHUNK - 4 * SLOT, T0 + CHUNK);
  for (const ms of unsettled) api.nullActuals.add(ms);
  const r = await bootstrap(w, 'carbon-intensity', T0, T0 + CHUNK);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.readings, 2 * 14 * 48 - 4);

  const lastHours = T0 + CHUNK - 6 * SLOT;
  assert.deepEqual(
    await points(w, ACTUAL, lastHours, T0 + CHUNK),
    slots(lastHours, lastHours + 2 * SLOT).map((ms) => [iso(ms), actualAt(ms)]),
  );
  assert.deepEqual(
    await points(w, FORECAST, lastHours, T0 + CHUNK),
    slots(lastHours, T0 + CHUNK).map((ms) => [iso(ms), forecastAt(ms)]),
  );
  const filled = await w.request(
    `/api/v1/query?series=${ACTUAL}&start=${lastHours}&end=${T0 + CHUNK - 1}&window=30m&fill=null`,
  );
  assert.deepEqual(
    filled.body.results[0].points.map((p: { value: number | null }) => p.value),
    [actualAt(lastHours), actualAt(lastHours + SLOT), null, null, null, null],
  );
});

test('the generation mix is stored as one series per fuel with its percentage', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  const r = await bootstrap(w, 'generation-mix', T0, T0 + CHUNK);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { chunks: 1, skipped: 0, readings: 9 * 14 * 48 });
  assert.deepEqual(api.requests, [`/generation/${apiTime(T0 + SLOT)}/${apiTime(T0 + CHUNK)}`]);

  const day = slots(T0 + 3 * D, T0 + 4 * D);
  for (const [i, fuel] of FUELS.entries()) {
    assert.deepEqual(
      await points(w, `grid/generation/${fuel}`, T0 + 3 * D, T0 + 4 * D),
      day.map((ms) => [iso(ms), percAt(ms, i)]),
      fuel,
    );
  }
  const catalog = await w.request('/api/v1/series');
  const wind = catalog.body.series.find((s: { key: string }) => s.key === 'grid/generation/wind');
  assert.deepEqual([wind.unit, wind.kind, wind.interval_s], ['%', 'gauge', 1800]);
  assert.match(wind.description, /wind/i);
});

test('a generation range across 1 January is asked in two requests, so the new year is not lost', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  const chunk = Math.floor(Date.UTC(2024, 0, 1) / CHUNK) * CHUNK;
  const r = await bootstrap(w, 'generation-mix', chunk, chunk + CHUNK);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(api.requests, [
    `/generation/${apiTime(chunk + SLOT)}/2023-12-31T23:30Z`,
    `/generation/2024-01-01T00:00Z/${apiTime(chunk + CHUNK)}`,
  ]);
  assert.equal((await points(w, 'grid/generation/wind', chunk, chunk + CHUNK)).length, 14 * 48);
  assert.deepEqual(
    await points(w, 'grid/generation/gas', Date.UTC(2023, 11, 31, 23), Date.UTC(2024, 0, 1, 1)),
    slots(Date.UTC(2023, 11, 31, 23), Date.UTC(2024, 0, 1, 1)).map((ms) => [iso(ms), percAt(ms, FUELS.indexOf('gas'))]),
  );
});

test('a malformed reply is a 502 naming the field, and nothing of that chunk is stored', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  api.spoilNext((body) => ((body.data[5].intensity as { actual: unknown }).actual = '263'));
  const bad = await bootstrap(w, 'carbon-intensity', T0, T0 + CHUNK);
  assert.equal(bad.status, 502);
  assert.match(bad.body.error, /data\.5\.intensity\.actual/);
  assert.deepEqual(await points(w, ACTUAL, T0, T0 + CHUNK), []);
  assert.deepEqual(await points(w, FORECAST, T0, T0 + CHUNK), []);

  api.spoilNext((body) => delete body.data[3].generationmix);
  const missing = await bootstrap(w, 'generation-mix', T0, T0 + CHUNK);
  assert.equal(missing.status, 502);
  assert.match(missing.body.error, /data\.3\.generationmix/);
  assert.deepEqual(await points(w, 'grid/generation/gas', T0, T0 + CHUNK), []);

  // the chunk was not checkpointed: asking again fetches it
  const again = await bootstrap(w, 'carbon-intensity', T0, T0 + CHUNK);
  assert.deepEqual(again.body, { chunks: 1, skipped: 0, readings: 2 * 14 * 48 });
});

test('a clock-change day in Europe/London comes back complete in 30-minute windows (46 and 50 half-hours)', async (t) => {
  const api = await carbonApi(t);
  const w = await app(t, api);
  const days = [
    {
      start: '2024-03-31T00:00:00+00:00',
      end: '2024-04-01T00:00:00+01:00',
      halfHours: 46,
      third: '2024-03-31T02:00:00.000+01:00',
    },
    {
      start: '2024-10-27T00:00:00+01:00',
      end: '2024-10-28T00:00:00+00:00',
      halfHours: 50,
      third: '2024-10-27T01:00:00.000+01:00',
    },
  ];
  for (const day of days) {
    const from = Date.parse(day.start);
    const to = Date.parse(day.end);
    for (const source of ['carbon-intensity', 'generation-mix'])
      assert.equal((await bootstrap(w, source, from, to)).status, 200);
    const q = new URLSearchParams({
      series: `${ACTUAL},${FORECAST},grid/generation/wind`,
      start: day.start,
      end: String(to - 1),
      window: '30m',
      tz: 'Europe/London',
      fill: 'null',
    });
    const r = await w.request(`/api/v1/query?${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const expected = slots(from, to);
    assert.equal(expected.length, day.halfHours);
    const [actual, forecast, wind] = r.body.results as { points: { time: string; value: number | null }[] }[];
    assert.deepEqual(
      actual.points.map((p) => p.value),
      expected.map(actualAt),
    );
    assert.deepEqual(
      forecast.points.map((p) => p.value),
      expected.map(forecastAt),
    );
    assert.deepEqual(
      wind.points.map((p) => p.value),
      expected.map((ms) => percAt(ms, FUELS.indexOf('wind'))),
    );
    // local times: 01:00–02:00 is skipped in spring, 01:00–02:00 comes twice in autumn
    assert.equal(actual.points[2].time, day.third);
    assert.equal(actual.points[0].time, day.start.replace(':00+', ':00.000+'));
  }
});

test('with WATTLINE_CARBON_URL empty both connectors are off, saying why', async (t) => {
  assert.equal(loadConfig({ env: {} }).carbon.url, 'https://api.carbonintensity.org.uk');
  assert.equal(loadConfig({ env: { WATTLINE_CARBON_URL: '' } }).carbon.url, '');
  assert.throws(
    () => loadConfig({ env: { WATTLINE_CARBON_URL: 'api.carbonintensity.org.uk' } }),
    (err: Error) => err instanceof ConfigError && /WATTLINE_CARBON_URL/.test(err.message),
  );

  const w = await build(t); // the test default: carbon.url ''
  for (const source of ['carbon-intensity', 'generation-mix']) {
    const off = await w.request(`/api/v1/sources/${source}/bootstrap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"from":"2024-01-01"}',
    });
    assert.equal(off.status, 400);
    assert.match(off.body.error, /WATTLINE_CARBON_URL is empty/);
  }
});

/**
 * `<connector>/testcases/<scenario>/`: the range in settings.json, the replies in
 * responses/*.json (answered in order), the requests expected in settings.json and the readings
 * in expected.ndjson.
 */
for (const [name, create] of [
  ['carbon-intensity', createCarbonIntensityConnector],
  ['generation-mix', createGenerationMixConnector],
] as const) {
  const dir = path.join(import.meta.dirname, '..', 'src', 'modules', 'sources', name, 'testcases');
  for (const scenario of fs.readdirSync(dir)) {
    test(`${name} testcase ${scenario}`, async (t) => {
      const folder = path.join(dir, scenario);
      const settings = JSON.parse(fs.readFileSync(path.join(folder, 'settings.json'), 'utf8')) as {
        from: string;
        to: string;
        requests: string[];
      };
      const responses = fs
        .readdirSync(path.join(folder, 'responses'))
        .sort()
        .map((f) => fs.readFileSync(path.join(folder, 'responses', f), 'utf8'));
      const expected = fs
        .readFileSync(path.join(folder, 'expected.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const requests: string[] = [];
      const server = http.createServer((req, res) => {
        requests.push(req.url!);
        res.writeHead(200, { 'content-type': 'application/json' }).end(responses[requests.length - 1] ?? '{"data":[]}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const config = loadConfig({
        overrides: { 'carbon.url': `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      });
      const connector = create(config.carbon);
      const upstream = createUpstream({
        name: connector.name,
        timeoutMs: 5000,
        retries: 0,
        retryBaseMs: 1,
        minIntervalMs: 0,
        log: createLogger('silent'),
      });
      const readings = await connector.fetch(
        { fromMs: Date.parse(settings.from), toMs: Date.parse(settings.to) },
        upstream,
      );
      assert.deepEqual(requests, settings.requests);
      assert.deepEqual(
        readings.map((r) => ({ series: r.series, ts: iso(r.ts), value: r.value })),
        expected,
      );
    });
  }
}
