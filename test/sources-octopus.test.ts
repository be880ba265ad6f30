import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { build } from './helpers.js';

const D = 86_400_000;
const WEEK = 7 * D;
const T0 = Math.ceil(Date.UTC(2024, 0, 1) / WEEK) * WEEK; // week-aligned, so the 2-day range is one chunk
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A local Octopus API: two pages of unit rates, one standing charge, two pages of consumption. */
async function octopusUpstream(t: TestContext) {
  const seen: { path: string; auth?: string }[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    seen.push({ path: url.pathname, auth: req.headers.authorization });
    const reply = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const base = `http://${req.headers.host}`;
    if (url.pathname.endsWith('/standard-unit-rates/')) {
      if (url.searchParams.get('page') === '2') {
        // open-ended: runs to the end of the asked range
        return reply({
          count: 2,
          next: null,
          previous: null,
          results: [{ value_exc_vat: 20, value_inc_vat: 21, valid_from: iso(T0 + D), valid_to: null }],
        });
      }
      // one rate spanning the whole first day
      return reply({
        count: 2,
        next: `${base}${url.pathname}?page=2`,
        previous: null,
        results: [{ value_exc_vat: 10, value_inc_vat: 10.5, valid_from: iso(T0), valid_to: iso(T0 + D) }],
      });
    }
    if (url.pathname.endsWith('/standing-charges/')) {
      return reply({
        count: 1,
        next: null,
        previous: null,
        results: [{ value_exc_vat: 40, value_inc_vat: 42, valid_from: iso(T0 - 30 * D), valid_to: null }],
      });
    }
    if (url.pathname.endsWith('/consumption/')) {
      if (req.headers.authorization !== `Basic ${Buffer.from('sk_test_key:').toString('base64')}`)
        return res.writeHead(401).end('{"detail":"Authentication credentials were not provided."}');
      const start = url.searchParams.get('page') === '2' ? T0 + 2 * 1_800_000 : T0;
      const results = [0, 1].map((i) => ({
        consumption: 0.25 * (start / 1_800_000 - T0 / 1_800_000 + i + 1),
        interval_start: iso(start + i * 1_800_000),
        interval_end: iso(start + (i + 1) * 1_800_000),
      }));
      return reply({
        count: 4,
        next: url.searchParams.get('page') === '2' ? null : `${base}${url.pathname}?page=2`,
        previous: null,
        results,
      });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function app(t: TestContext, url: string, more: Record<string, unknown> = {}) {
  return build(t, {
    'octopus.url': url,
    'octopus.product': 'AGILE-TEST',
    'octopus.tariff': 'E-1R-AGILE-TEST-C',
    'octopus.apiKey': 'sk_test_key',
    'octopus.mpan': '1200000000001',
    'octopus.serial': '21L0000001',
    'octopus.bootstrapDays': 0,
    'sources.retries': 1,
    'sources.retryBaseMs': 5,
    'sources.minIntervalMs': 0,
    ...more,
  });
}

const bootstrap = (w: Awaited<ReturnType<typeof build>>, source: string) =>
  w.request(`/api/v1/sources/${source}/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: iso(T0), to: iso(T0 + 2 * D) }),
  });

test('tariff rates follow the pages, a day-long rate becomes 48 half-hour slots, an open-ended one runs to the range end', async (t) => {
  const up = await octopusUpstream(t);
  const w = await app(t, up.url);
  const r = await bootstrap(w, 'octopus-tariff');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const q = await w.request(
    `/api/v1/query?series=tariff/unit-rate/inc-vat,tariff/unit-rate/exc-vat&start=${T0}&end=${T0 + 2 * D - 1}&window=1d&agg=count`,
  );
  assert.deepEqual(
    q.body.results.map((s: { points: { value: number }[] }) => s.points.map((p) => p.value)),
    [
      [48, 48],
      [48, 48],
    ],
  );
  const day2 = await w.request(
    `/api/v1/query?series=tariff/unit-rate/inc-vat&start=${T0 + D}&end=${T0 + 2 * D - 1}&window=1d&agg=max`,
  );
  assert.equal(day2.body.results[0].points[0].value, 21);
  // (the poll at start stores today's standing charge too: ask for the range's)
  const standing = await w.request(
    `/api/v1/query?series=tariff/standing-charge/inc-vat&start=${T0}&end=${T0 + 2 * D - 1}`,
  );
  assert.deepEqual(standing.body.results[0].points, [{ time: new Date(T0).toISOString(), value: 42 }]);
  const catalog = await w.request('/api/v1/series');
  const rate = catalog.body.series.find((s: { key: string }) => s.key === 'tariff/unit-rate/inc-vat');
  // each rate holds for its half-hour slot
  assert.deepEqual([rate.unit, rate.kind, rate.interval_s], ['p/kWh', 'gauge', 1800]);
  assert.match(rate.description, /unit rate.*VAT/i);
  const charge = catalog.body.series.find((s: { key: string }) => s.key === 'tariff/standing-charge/inc-vat');
  assert.deepEqual([charge.unit, charge.kind, charge.interval_s], ['p/day', 'gauge', null]);
  assert.match(charge.description, /standing charge/i);
});

test('consumption is read with the API key as basic-auth user, across pages, into the meter series', async (t) => {
  const up = await octopusUpstream(t);
  const w = await app(t, up.url);
  const r = await bootstrap(w, 'octopus-consumption');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const q = await w.request(`/api/v1/query?series=meter/1200000000001/consumption&start=${T0}&end=${T0 + D}`);
  assert.deepEqual(
    q.body.results[0].points.map((p: { value: number }) => p.value),
    [0.25, 0.5, 0.75, 1],
  );
  const entry = (await w.request('/api/v1/series/meter/1200000000001/consumption')).body;
  assert.deepEqual([entry.unit, entry.kind, entry.interval_s], ['kWh', 'interval', 1800]);
  assert.match(entry.description, /half-hour/i);
  assert.ok(up.seen.filter((s) => s.path.endsWith('/consumption/')).every((s) => s.auth?.startsWith('Basic ')));

  const wrongKey = await app(t, up.url, { 'octopus.apiKey': 'sk_wrong' });
  const denied = await bootstrap(wrongKey, 'octopus-consumption');
  assert.equal(denied.status, 502);
  assert.match(denied.body.error, /401/);
});

test('without product and tariff the tariff connector is off and says which settings are missing', async (t) => {
  const w = await build(t);
  const r = await bootstrap(w, 'octopus-tariff');
  assert.equal(r.status, 400);
  assert.match(r.body.error, /WATTLINE_OCTOPUS_PRODUCT and WATTLINE_OCTOPUS_TARIFF/);
});
