import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { build } from './helpers.js';

const SLOT = 1_800_000;
// 2024-03-31 in London: clocks go forward at 01:00, so the local day has 46 half-hours
const DAY = '2024-03-31';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const pathTime = (s: string) => Date.parse(s.length === 17 ? s.replace('Z', ':00Z') : s);

/** One local server in the shape of the Carbon Intensity and Octopus APIs, for any range asked. */
async function upstreams(t: TestContext, options: { mixMalformed?: boolean; unsettledAt?: string } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const parts = url.pathname.split('/');
    if (parts[1] === 'intensity' || parts[1] === 'generation') {
      if (parts[1] === 'generation' && options.mixMalformed)
        return json({ data: [{ from: '2024-03-31T00:00Z', to: '2024-03-31T00:30Z' }] });
      // half-hours whose end lies in [from, to]
      const data = [];
      for (let s = pathTime(parts[2]) - SLOT; s <= pathTime(parts[3]) - SLOT; s += SLOT) {
        const slot = { from: iso(s).replace(':00Z', 'Z'), to: iso(s + SLOT).replace(':00Z', 'Z') };
        data.push(
          parts[1] === 'intensity'
            ? {
                ...slot,
                intensity: { forecast: 110, actual: iso(s) === options.unsettledAt ? null : 100, index: 'moderate' },
              }
            : {
                ...slot,
                generationmix: [
                  { fuel: 'gas', perc: 40 },
                  { fuel: 'wind', perc: 60 },
                ],
              },
        );
      }
      return json({ data });
    }
    const from = Date.parse(url.searchParams.get('period_from')!);
    const to = Date.parse(url.searchParams.get('period_to')!);
    if (url.pathname.endsWith('/standard-unit-rates/'))
      return json({
        count: 1,
        next: null,
        previous: null,
        results: [{ value_exc_vat: 19, value_inc_vat: 20, valid_from: iso(from - 86_400_000), valid_to: null }],
      });
    if (url.pathname.endsWith('/standing-charges/'))
      return json({
        count: 1,
        next: null,
        previous: null,
        results: [{ value_exc_vat: 47.6, value_inc_vat: 50, valid_from: iso(from - 86_400_000), valid_to: null }],
      });
    if (url.pathname.endsWith('/consumption/')) {
      const results = [];
      for (let s = Math.ceil(from / SLOT) * SLOT; s < to; s += SLOT)
        results.push({ consumption: 0.5, interval_start: iso(s), interval_end: iso(s + SLOT) });
      return json({ count: results.length, next: null, previous: null, results });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function app(t: TestContext, url: string) {
  return build(t, {
    'carbon.url': url,
    'carbon.bootstrapDays': 0,
    'octopus.url': url,
    'octopus.product': 'AGILE-TEST',
    'octopus.tariff': 'E-1R-AGILE-TEST-C',
    'octopus.apiKey': 'sk_test',
    'octopus.mpan': '1200000000001',
    'octopus.serial': 'S1',
    'octopus.bootstrapDays': 0,
    'sources.retries': 1,
    'sources.retryBaseMs': 5,
    'sources.minIntervalMs': 0,
  });
}

const processDays = (w: Awaited<ReturnType<typeof app>>, from: string, to?: string) =>
  w.request('/api/v1/daily/process', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, to }),
  });

test('processing a clock-change day fetches every source and stores the summary, checked by hand', async (t) => {
  const w = await app(t, await upstreams(t));
  const r = await processDays(w, DAY);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.statuses[DAY].map((s: { service: string; status: string }) => `${s.service}:${s.status}`),
    ['carbon:OK', 'mix:OK', 'prices:OK', 'usage:OK'],
  );
  // 46 half-hours × 0.5 kWh at 20 p (19 p without VAT), 100 gCO2/kWh, 40 % gas and 60 % wind
  const summary = await w.request(`/daily-summary/${DAY}`);
  assert.deepEqual(summary.body, {
    date: DAY,
    carbon_intensity: 2300,
    average_carbon_intensity: 100,
    total_energy_used: 23,
    total_energy_cost_inc_vat: 460,
    total_energy_cost_ex_vat: 437,
    mix_percentage: [
      { fuel: 'gas', perc: 40 },
      { fuel: 'wind', perc: 60 },
    ],
  });
  const daily = await w.request(`/api/v1/daily?from=${DAY}&to=${DAY}`);
  assert.equal(daily.body.days[0].slots_expected, 46);
  assert.equal(daily.body.days[0].slots_joined, 46);
  assert.equal(daily.body.days[0].standing_charge_inc_vat, 50);
  assert.equal(daily.body.days[0].total_cost_inc_vat_with_standing_charge, 510);
  // a re-run replaces the day's summary rather than adding one
  await processDays(w, DAY);
  assert.equal((await w.request(`/api/v1/daily?from=${DAY}&to=${DAY}`)).body.days.length, 1);
});

test('a half-hour whose actual intensity is missing is left out of the day, not given the half-hour before’s', async (t) => {
  const w = await app(t, await upstreams(t, { unsettledAt: '2024-03-31T12:00:00Z' }));
  assert.equal((await processDays(w, DAY)).status, 200);
  const [day] = (await w.request(`/api/v1/daily?from=${DAY}&to=${DAY}`)).body.days;
  // 45 joined half-hours × 0.5 kWh at 20 p, 100 gCO2/kWh; the standing charge is the whole day's
  assert.equal(day.slots_expected, 46);
  assert.equal(day.slots_joined, 45);
  assert.equal(day.total_energy_used, 22.5);
  assert.equal(day.total_energy_cost_inc_vat, 450);
  assert.equal(day.carbon_intensity, 2250);
  assert.equal(day.total_cost_inc_vat_with_standing_charge, 500);
});

test('a malformed reply marks its worker FAILED with the reason naming the field, and the day gets no summary', async (t) => {
  const w = await app(t, await upstreams(t, { mixMalformed: true }));
  const r = await processDays(w, DAY);
  const mix = r.body.statuses[DAY].find((s: { service: string }) => s.service === 'mix');
  assert.equal(mix.status, 'FAILED');
  assert.match(mix.reason, /generationmix/);
  assert.equal((await w.request(`/daily-summary/${DAY}`)).status, 404);
});

test('a malformed date is 400 and a date never processed is 404', async (t) => {
  const w = await build(t);
  assert.equal((await w.request('/daily-summary/2024-13-01')).status, 400);
  assert.equal((await w.request('/daily-summary/31-03-2024')).status, 400);
  assert.equal((await w.request('/daily-summary/2024-01-01')).status, 404);
});
